import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../domain/ports/clock.ts';
import { silentLogger } from '../domain/ports/logger.ts';
import { forEachStorage } from '../../test/support/storage.ts';
import { LeasedJob } from './leased-job.ts';

forEachStorage('leased job', (ctx) => {
  test('of two replicas only the lease holder runs; the other takes over once the lease lapses', async () => {
    const clock = new ManualClock();
    const runs: string[] = [];
    const job = (holder: string) =>
      new LeasedJob({
        name: 'test.job',
        holder,
        intervalMs: 60_000,
        leases: ctx.storage.leases,
        clock,
        logger: silentLogger,
        task: async () => void runs.push(holder),
      });
    const a = job('replica-a');
    const b = job('replica-b');
    assert.equal(await a.runOnce(), true);
    assert.equal(await b.runOnce(), false);
    assert.equal(await a.runOnce(), true, 'the holder renews its own lease');
    clock.advance(121_000); // past the lease (two intervals) without a renewal
    assert.equal(await b.runOnce(), true);
    assert.equal(await a.runOnce(), false);
    assert.deepEqual(runs, ['replica-a', 'replica-a', 'replica-b']);
  });

  test('a failing task is reported as not run and does not stop later runs', async () => {
    const clock = new ManualClock();
    let calls = 0;
    const job = new LeasedJob({
      name: 'test.failing',
      holder: 'r',
      intervalMs: 1000,
      leases: ctx.storage.leases,
      clock,
      logger: silentLogger,
      task: async () => {
        calls++;
        if (calls === 1) throw new Error('boom');
      },
    });
    assert.equal(await job.runOnce(), false);
    assert.equal(await job.runOnce(), true);
    await job.stop();
    assert.equal(calls, 2);
  });

  test('concurrent runOnce calls on one replica share a single run', async () => {
    const clock = new ManualClock();
    let calls = 0;
    const job = new LeasedJob({
      name: 'test.shared',
      holder: 'r',
      intervalMs: 1000,
      leases: ctx.storage.leases,
      clock,
      logger: silentLogger,
      task: async () => {
        calls++;
        await new Promise((r) => setTimeout(r, 20));
      },
    });
    await Promise.all([job.runOnce(), job.runOnce(), job.runOnce()]);
    assert.equal(calls, 1);
  });
});
