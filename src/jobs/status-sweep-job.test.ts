import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forEachStorage } from '../../test/support/storage.ts';
import { ManualClock } from '../domain/ports/clock.ts';
import { silentLogger } from '../domain/ports/logger.ts';
import { statusSweepJob } from './status-sweep-job.ts';

forEachStorage('status sweep job', (ctx) => {
  test('one replica sweeps; the global threshold is applied on its first run only', async () => {
    const clock = new ManualClock();
    const calls: string[] = [];
    const replica = (name: string) =>
      statusSweepJob({
        sweeper: {
          applyGlobalAboutToExpire: async () => (calls.push(`${name}:threshold`), 0),
          sweepStatuses: async () => void calls.push(`${name}:sweep`),
        },
        intervalMs: 3_600_000,
        leases: ctx.storage.leases,
        clock,
        logger: silentLogger,
        holder: name,
      });
    const a = replica('a');
    const b = replica('b');
    assert.equal(await a.runOnce(), true);
    assert.equal(await b.runOnce(), false);
    assert.equal(await a.runOnce(), true);
    await a.stop();
    assert.equal(await b.runOnce(), true, 'a released its lease on stop');
    await b.stop();
    assert.deepEqual(calls, ['a:threshold', 'a:sweep', 'a:sweep', 'b:threshold', 'b:sweep']);
  });
});
