import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { DmsRepository } from '../../domain/dms/dms-repository.ts';
import type { Dms } from '../../domain/dms/dms.ts';
import { ManualClock } from '../../domain/ports/clock.ts';
import { openTestStorage } from '../../../test/support/storage.ts';
import { enrollmentWorld, type EnrollmentWorld } from '../../../test/support/enrollment-fixture.ts';
import { CachedDmsRepository } from './cached-dms-repository.ts';
import { DMS_CHANGE_EVENTS } from './dms-service-deps.ts';

let w: EnrollmentWorld;
before(async () => {
  w = await enrollmentWorld();
});
after(async () => w?.dispose());

/** The DMS repository of a fresh database with its reads counted. */
async function countedRepository() {
  const opened = await openTestStorage('sqlite');
  let reads = 0;
  const inner: DmsRepository = {
    ...opened.storage.dms,
    get: (id) => (reads++, opened.storage.dms.get(id)),
    findByCertificateSerial: (sn) => (reads++, opened.storage.dms.findByCertificateSerial(sn)),
    insert: (d) => opened.storage.dms.insert(d),
    update: (d) => opened.storage.dms.update(d),
    delete: (id) => opened.storage.dms.delete(id),
    list: (q) => opened.storage.dms.list(q),
    count: () => opened.storage.dms.count(),
  };
  return { inner, reads: () => reads, dispose: opened.dispose, raw: opened.storage.dms };
}

async function someDms(): Promise<Dms> {
  const d = await w.createDms(`cache-${Math.random().toString(16).slice(2, 8)}`);
  return { ...d, certificate: { serialNumber: 'abc1', issuerCaId: 'LAMASSU-DMS-MANAGER' } };
}

test('reads are remembered for the TTL, misses too; the clock moving past it reloads', async () => {
  const r = await countedRepository();
  try {
    const clock = new ManualClock(0);
    const cached = new CachedDmsRepository(r.inner, clock, 1000);
    const d = await someDms();
    await r.raw.insert(d);
    assert.equal((await cached.get(d.id))?.name, d.name);
    assert.equal((await cached.get(d.id))?.name, d.name);
    assert.equal(await cached.get('nobody'), undefined);
    assert.equal(await cached.get('nobody'), undefined);
    assert.equal((await cached.findByCertificateSerial('abc1'))?.id, d.id);
    assert.equal((await cached.findByCertificateSerial('abc1'))?.id, d.id);
    assert.equal(r.reads(), 3);
    // Another replica renames it: seen once the TTL is over, not before.
    await r.raw.update({ ...d, name: 'renamed elsewhere' });
    clock.advance(999);
    assert.equal((await cached.get(d.id))?.name, d.name);
    clock.advance(1);
    assert.equal((await cached.get(d.id))?.name, 'renamed elsewhere');
  } finally {
    await r.dispose();
  }
});

test('writes through it are seen at once, and a read racing a write is not remembered', async () => {
  const r = await countedRepository();
  try {
    const cached = new CachedDmsRepository(r.inner, new ManualClock(0), 1000);
    const d = await someDms();
    assert.equal(await cached.get(d.id), undefined);
    await cached.insert(d);
    assert.equal((await cached.get(d.id))?.name, d.name);
    await cached.update({ ...d, name: 'renamed here' });
    assert.equal((await cached.get(d.id))?.name, 'renamed here');
    assert.equal((await cached.findByCertificateSerial('abc1'))?.name, 'renamed here');
    const racing = cached.get(d.id);
    await cached.update({ ...d, name: 'after the race' });
    await racing;
    assert.equal((await cached.get(d.id))?.name, 'after the race');
    await cached.delete(d.id);
    assert.equal(await cached.get(d.id), undefined);
    assert.equal(await cached.findByCertificateSerial('abc1'), undefined);
  } finally {
    await r.dispose();
  }
});

test('enrollment sees DMS changes made through the DMS manager at once (shared cache, frozen clock)', async () => {
  const d = await w.createDms('cache-live');
  const csr = await w.csr('cache-dev-1');
  await w.enrollment.enroll({ label: d.id, csrDer: csr, credentials: {} });
  await w.dms.update(d.id, { name: d.name, authorizedCaIds: ['factory-ca'], settings: w.settings({ registrationMode: 'PRE_REGISTRATION' }) }, 'admin');
  await assert.rejects(
    w.enrollment.enroll({ label: d.id, csrDer: await w.csr('cache-dev-2'), credentials: {} }),
    (e: { code?: string }) => e.code === 'ENROLL_DEVICE_NOT_REGISTERED',
  );
  await w.dms.delete(d.id, 'admin');
  await assert.rejects(
    w.enrollment.enroll({ label: d.id, csrDer: await w.csr('cache-dev-3'), credentials: {} }),
    (e: { code?: string }) => e.code === 'ENROLL_LABEL_NOT_FOUND',
  );
});

test("another replica's DMS change reaches this cache through its event; enrollments clear nothing", async () => {
  let reads = 0;
  const inner = { ...w.storage.dms, get: (id: string) => (reads++, w.storage.dms.get(id)) };
  // Replica B: its own cache over the same database and bus, the clock frozen (no TTL expiry).
  const b = new CachedDmsRepository(inner, w.clock, 1000);
  const stop = await b.follow(w.bus, 'replica-b', DMS_CHANGE_EVENTS);
  try {
    const d = await w.createDms('cache-replicas');
    await w.bus.idle();
    assert.equal((await b.get(d.id))?.name, d.name);
    await w.enrollment.enroll({ label: d.id, csrDer: await w.csr('cache-replicas-1'), credentials: {} });
    await w.bus.idle();
    assert.equal((await b.get(d.id))?.name, d.name);
    assert.equal(reads, 1, 'the enrollment event cleared nothing');
    await w.dms.update(d.id, { name: 'renamed on A', authorizedCaIds: ['factory-ca'], settings: w.settings() }, 'admin');
    await w.bus.idle();
    assert.equal((await b.get(d.id))?.name, 'renamed on A');
  } finally {
    await stop();
  }
});

test('while the bus link is down nothing is remembered (a missed DMS event cannot leave it stale); back up, it starts empty', async () => {
  const listeners = new Set<(up: boolean) => void>();
  const bus = Object.assign(Object.create(w.bus) as typeof w.bus, {
    subscribe: w.bus.subscribe.bind(w.bus),
    onLinkChange: (l: (up: boolean) => void) => (listeners.add(l), () => void listeners.delete(l)),
  });
  const link = (up: boolean) => listeners.forEach((l) => l(up));
  const repo = await countedRepository();
  const cache = new CachedDmsRepository(repo.inner, w.clock, 1000);
  const stop = await cache.follow(bus, 'replica-link', DMS_CHANGE_EVENTS);
  try {
    const d = await someDms();
    await repo.raw.insert(d);
    await cache.get(d.id);
    await cache.get(d.id);
    assert.equal(repo.reads(), 1, 'remembered while the link is up');
    link(false);
    await repo.raw.update({ ...d, name: 'changed elsewhere' });
    assert.equal((await cache.get(d.id))?.name, 'changed elsewhere', 'the loss of the link forgot what was remembered');
    await cache.get(d.id);
    assert.equal(repo.reads(), 3, 'every read goes to the database while the link is down');
    link(true);
    await cache.get(d.id);
    await cache.get(d.id);
    assert.equal(repo.reads(), 4, 'remembered again once the link is back');
  } finally {
    await stop();
    assert.equal(listeners.size, 0, 'unfollowing removes the link listener');
    await repo.dispose();
  }
});
