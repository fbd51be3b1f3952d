import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forEachStorage } from '../../../test/support/storage.ts';

const t0 = new Date(Date.UTC(2026, 0, 1));
const at = (ms: number) => new Date(t0.getTime() + ms);

forEachStorage('lease repository', (ctx) => {
  test('exactly one of 20 concurrent holders takes a free lease', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => ctx.storage.leases.tryAcquire('concurrent', `replica-${i}`, 30_000, t0)),
    );
    assert.equal(results.filter(Boolean).length, 1);
  });

  test('exactly one of 20 concurrent holders takes over an expired lease', async () => {
    assert.equal(await ctx.storage.leases.tryAcquire('expired-race', 'old', 1000, t0), true);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => ctx.storage.leases.tryAcquire('expired-race', `replica-${i}`, 1000, at(5000))),
    );
    assert.equal(results.filter(Boolean).length, 1);
  });

  test('another holder cannot take a live lease, and takes it over once it expires', async () => {
    const { leases } = ctx.storage;
    assert.equal(await leases.tryAcquire('sweep', 'a', 10_000, t0), true);
    assert.equal(await leases.tryAcquire('sweep', 'b', 10_000, at(9_999)), false);
    assert.equal(await leases.tryAcquire('sweep', 'b', 10_000, at(10_000)), true);
    assert.equal(await leases.tryAcquire('sweep', 'a', 10_000, at(10_001)), false);
  });

  test('the holder renews its lease, which pushes the expiry out', async () => {
    const { leases } = ctx.storage;
    assert.equal(await leases.tryAcquire('crl', 'a', 10_000, t0), true);
    assert.equal(await leases.tryAcquire('crl', 'a', 10_000, at(8_000)), true);
    assert.equal(await leases.tryAcquire('crl', 'b', 10_000, at(12_000)), false, 'renewed until 18s');
    assert.equal(await leases.tryAcquire('crl', 'b', 10_000, at(18_000)), true);
  });

  test('release frees the lease for others; a non-holder cannot release it', async () => {
    const { leases } = ctx.storage;
    assert.equal(await leases.tryAcquire('status', 'a', 60_000, t0), true);
    await leases.release('status', 'b');
    assert.equal(await leases.tryAcquire('status', 'b', 60_000, at(1)), false);
    await leases.release('status', 'a');
    assert.equal(await leases.tryAcquire('status', 'b', 60_000, at(2)), true);
  });

  test('leases with different names are independent', async () => {
    const { leases } = ctx.storage;
    assert.equal(await leases.tryAcquire('job-1', 'a', 60_000, t0), true);
    assert.equal(await leases.tryAcquire('job-2', 'b', 60_000, t0), true);
  });
});
