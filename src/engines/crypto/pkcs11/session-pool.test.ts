import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SessionPool } from './session-pool.ts';

/** Sessions are numbers; the factory records what was opened and closed. */
function fakeFactory() {
  let next = 1;
  const closed: number[] = [];
  return { closed, opened: () => next - 1, factory: { open: () => next++, close: (s: number) => void closed.push(s) } };
}

describe('SessionPool', () => {
  it('opens at most `size` sessions and hands them out in turn, first come first served', async () => {
    const f = fakeFactory();
    const pool = new SessionPool(f.factory, 2);
    const a = await pool.acquire();
    const b = await pool.acquire();
    const order: number[] = [];
    const third = pool.acquire().then((l) => (order.push(3), l));
    const fourth = pool.acquire().then((l) => (order.push(4), l));
    assert.equal(f.opened(), 2);
    pool.release(b);
    pool.release(a);
    assert.deepEqual([(await third).session, (await fourth).session], [b.session, a.session]);
    assert.deepEqual(order, [3, 4]);
    assert.equal(f.opened(), 2);
  });

  it('replaces a broken session with a new one for the next caller', async () => {
    const f = fakeFactory();
    const pool = new SessionPool(f.factory, 1);
    const a = await pool.acquire();
    const waiting = pool.acquire();
    pool.release(a, true);
    const b = await waiting;
    assert.notEqual(b.session, a.session);
    assert.deepEqual(f.closed, [a.session]);
  });

  it('retires every session opened before invalidate(), busy ones on release', async () => {
    const f = fakeFactory();
    const pool = new SessionPool(f.factory, 2);
    const idle = await pool.acquire();
    const busy = await pool.acquire();
    pool.release(idle);
    pool.invalidate();
    assert.deepEqual(f.closed, [idle.session]);
    pool.release(busy);
    assert.deepEqual(f.closed, [idle.session, busy.session]);
    const fresh = await pool.acquire();
    assert.ok(![idle.session, busy.session].includes(fresh.session));
  });

  it('frees the slot when opening fails', async () => {
    let fail = true;
    const pool = new SessionPool(
      { open: () => (fail ? Promise.reject(new Error('token gone')) : 7), close: () => {} },
      1,
    );
    await assert.rejects(pool.acquire(), /token gone/);
    fail = false;
    assert.equal((await pool.acquire()).session, 7);
  });

  it('close() fails waiters and resolves once busy sessions are back', async () => {
    const f = fakeFactory();
    const pool = new SessionPool(f.factory, 1);
    const busy = await pool.acquire();
    const waiter = pool.acquire();
    let drained = false;
    const closing = pool.close().then(() => (drained = true));
    await assert.rejects(waiter, /closed/);
    await Promise.resolve();
    assert.equal(drained, false);
    pool.release(busy);
    await closing;
    assert.deepEqual(f.closed, [busy.session]);
    await assert.rejects(pool.acquire(), /closed/);
  });
});
