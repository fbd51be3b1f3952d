import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DeviceRecord } from '../../domain/devices/device.ts';
import type { Storage } from '../../domain/ports/storage.ts';
import { forEachStorage } from '../../../test/support/storage.ts';
import { GroupCommit } from './group-commit.ts';

const record = (id: string): DeviceRecord => ({
  id,
  alias: '',
  icon: '',
  iconColor: '',
  tags: [],
  metadata: {},
  dmsId: null,
  status: 'PENDING_PROVISIONING',
  createdAt: new Date(0),
  updatedAt: new Date(0),
});

/** The storage with its transactions counted. */
function counted(storage: Storage): { storage: Storage; transactions: () => number } {
  let n = 0;
  return {
    storage: { ...storage, transaction: (fn) => (n++, storage.transaction(fn)) },
    transactions: () => n,
  };
}

forEachStorage('GroupCommit', (ctx) => {
  test('units of one tick share one transaction; each gets its own result after the commit', async () => {
    const c = counted(ctx.storage);
    const group = new GroupCommit(c.storage);
    const results = await Promise.all(
      ['g1-a', 'g1-b', 'g1-c'].map((id) =>
        group.run(async (tx) => {
          await tx.devices.insert(record(id));
          return id.toUpperCase();
        }),
      ),
    );
    assert.deepEqual(results, ['G1-A', 'G1-B', 'G1-C']);
    assert.equal(c.transactions(), 1);
    for (const id of ['g1-a', 'g1-b', 'g1-c']) assert.ok(await ctx.storage.devices.get(id), id);
  });

  test('a failing unit fails alone: the batch is rolled back and the others are committed one by one', async () => {
    const c = counted(ctx.storage);
    const group = new GroupCommit(c.storage);
    await ctx.storage.devices.insert(record('g2-taken'));
    const outcomes = await Promise.allSettled(
      ['g2-a', 'g2-taken', 'g2-b'].map((id) => group.run((tx) => tx.devices.insert(record(id)))),
    );
    assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.equal((outcomes[1] as PromiseRejectedResult).reason.code, 'DEVICE_EXISTS');
    assert.equal(c.transactions(), 4);
    assert.ok(await ctx.storage.devices.get('g2-a'));
    assert.ok(await ctx.storage.devices.get('g2-b'));
  });

  test('units arriving during a commit form the next batch; with parallel > 1 batches overlap', async () => {
    for (const parallel of [1, 3]) {
      const c = counted(ctx.storage);
      const group = new GroupCommit(c.storage, parallel);
      const ids = Array.from({ length: 12 }, (_, i) => `g3-${parallel}-${i}`);
      // Four waves, one tick apart: each wave finds the previous one committing or done.
      const runs: Promise<void>[] = [];
      for (let wave = 0; wave < 4; wave++) {
        for (const id of ids.slice(wave * 3, wave * 3 + 3)) runs.push(group.run((tx) => tx.devices.insert(record(id))));
        await new Promise((r) => setImmediate(r));
      }
      await Promise.all(runs);
      assert.ok(c.transactions() <= 4, `${c.transactions()} transactions for 4 waves`);
      assert.equal((await ctx.storage.devices.list({ id: `g3-${parallel}-*`, pageSize: 100 })).list.length, 12);
    }
  });
});
