import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { forEachStorage } from '../../../test/support/storage.ts';
import { testCaService, type RecordingBus } from '../../../test/support/ca-service-fixture.ts';
import { DAY, syntheticCertificate, type SyntheticSpec } from '../../../test/support/sweep-fixture.ts';
import type { Certificate } from '../../domain/ca/certificate.ts';
import { DomainError } from '../../domain/errors.ts';
import { ManualClock } from '../../domain/ports/clock.ts';
import type { CloudEvent } from '../../domain/ports/event-bus.ts';
import type { Storage } from '../../domain/ports/storage.ts';
import { CaService } from './ca-service.ts';
import type { CertificateExpiringData } from './expiring-events.ts';

const T0 = Date.UTC(2026, 0, 1);
const N = 10_000;
const deltas = (preventiveDays: number | null, criticalDays: number | null) => ({
  preventiveMs: preventiveDays === null ? null : preventiveDays * DAY,
  criticalMs: criticalDays === null ? null : criticalDays * DAY,
});

/** certificate.expiring events by subject; a second event for a subject fails the test. */
function expiringBySubject(events: CloudEvent[]): Map<string, CertificateExpiringData> {
  const out = new Map<string, CertificateExpiringData>();
  for (const e of events.filter((x) => x.type === 'certificate.expiring')) {
    assert.ok(!out.has(e.subject!), `two certificate.expiring events for ${e.subject}`);
    out.set(e.subject!, e.data as CertificateExpiringData);
  }
  return out;
}

async function insertCertificates(storage: Storage, certs: Certificate[]): Promise<void> {
  for (let i = 0; i < certs.length; i += 5_000) await storage.certificates.insertMany(certs.slice(i, i + 5_000));
}

const createCa = (service: CaService, id: string, expiryDeltas?: ReturnType<typeof deltas>) =>
  service.createCa({
    id,
    subject: { common_name: id },
    keySpec: { type: 'ECDSA', bits: 256 },
    validity: { type: 'Duration', duration: '10y' },
    ...(expiryDeltas ? { expiryDeltas } : {}),
    actor: 'test',
  });

forEachStorage('certificate.expiring sweep', (ctx) => {
  // One test per suite: tests inside a suite share its database.
  test(`${N} certificates crossing the preventive then the critical delta: one event each, across two sweeps and two sweepers`, async () => {
    const clock = new ManualClock(T0);
    const { service, events } = testCaService(ctx.storage, clock);
    const other = new CaService(service.deps);
    await createCa(service, 'ca');
    // notAfter 40 days out, spread over a few hours; no deltas anywhere yet: nothing planned.
    const specs: SyntheticSpec[] = [];
    for (let i = 0; i < N; i++) specs.push({ issuerCaId: 'ca', notAfter: T0 + 40 * DAY + i * 1000, thresholdMs: 1000, status: 'ACTIVE' });
    await insertCertificates(ctx.storage, specs.map((s, i) => syntheticCertificate(i, s, 'exp')));
    clock.advance(15 * DAY);
    assert.equal((await service.sweepStatuses()).expiring, 0, 'no deltas, no events');

    // The CA's deltas re-plan its certificates (its own included) in one step.
    const ca = await service.updateExpiryDeltas({ id: 'ca', deltas: deltas(30, 7), actor: 'test' });
    assert.deepEqual(ca.expiryDeltas, deltas(30, 7));
    assert.equal(expiringBySubject(events.published).size, 0);

    // Past the preventive threshold (notAfter - 30d = T0 + 10d + spread): two sweepers at once, small batches.
    events.published.length = 0;
    const [a, b] = await Promise.all([service.sweepStatuses({ batchSize: 700 }), other.sweepStatuses({ batchSize: 700 })]);
    const preventive = expiringBySubject(events.published);
    assert.equal(preventive.size, N);
    assert.equal(a.expiring + b.expiring, N);
    for (const d of preventive.values()) {
      assert.equal(d.delta, 'preventive');
      assert.equal(d.delta_value, '30d');
      assert.equal(d.delta_source, 'ca');
      assert.equal(d.issuer_ca_id, 'ca');
      assert.equal(d.not_after, d.valid_to);
    }
    // A second sweep (and a third, on the other sweeper) announces nothing again.
    events.published.length = 0;
    assert.equal((await service.sweepStatuses()).expiring, 0);
    assert.equal((await other.sweepStatuses()).expiring, 0);
    assert.equal(expiringBySubject(events.published).size, 0);

    // Past the critical threshold (notAfter - 7d = T0 + 33d + spread): one more each.
    clock.set(new Date(T0 + 34 * DAY));
    events.published.length = 0;
    const [c, d] = await Promise.all([service.sweepStatuses({ batchSize: 700 }), other.sweepStatuses({ batchSize: 700 })]);
    const critical = expiringBySubject(events.published);
    assert.equal(critical.size, N);
    assert.equal(c.expiring + d.expiring, N);
    for (const [id, e] of critical) {
      assert.ok(preventive.has(id));
      assert.equal(e.delta, 'critical');
      assert.equal(e.delta_value, '7d');
      assert.equal(e.delta_ms, 7 * DAY);
    }
    events.published.length = 0;
    await Promise.all([service.sweepStatuses(), other.sweepStatuses()]);
    assert.equal(expiringBySubject(events.published).size, 0);
    const one = await service.getCertificate(syntheticCertificate(0, specs[0]!, 'exp').serialNumber, 'ca');
    assert.deepEqual(one.expiry, { source: 'ca', deltas: deltas(30, 7), stage: 'critical', profileId: null, dmsId: null });
  });
});

forEachStorage('expiration deltas: precedence and re-planning', (ctx) => {
  const clock = new ManualClock(T0);
  let service: CaService;
  let events: RecordingBus;
  const notAfter = T0 + 100 * DAY;
  const cert = (i: number, plan: { profileId: string | null; dmsId: string | null }) => ({
    ...syntheticCertificate(i, { issuerCaId: 'ca2', notAfter, thresholdMs: 1000, status: 'ACTIVE' }, 'plan'),
    expiry: { source: 'ca' as const, deltas: null, stage: 'none' as const, ...plan },
  });
  const sweepAt = async (daysBeforeExpiry: number) => {
    clock.set(new Date(notAfter - daysBeforeExpiry * DAY));
    events.published.length = 0;
    await service.sweepStatuses();
    return new Map([...expiringBySubject(events.published)].map(([id, d]) => [id, `${d.delta} ${d.delta_value} ${d.delta_source}`]));
  };

  before(async () => {
    ({ service, events } = testCaService(ctx.storage, clock));
    await createCa(service, 'ca2', deltas(60, null));
    await service.createProfile({ id: 'p', name: 'p', settings: (await import('../../domain/ca/issuance-profile.ts')).DEFAULT_ISSUANCE_SETTINGS, actor: 'test' });
    await ctx.storage.certificates.insertMany([cert(0, { profileId: null, dmsId: null }), cert(1, { profileId: 'p', dmsId: null }), cert(2, { profileId: 'p', dmsId: 'd' })]);
  });

  test('the DMS over the profile over the CA; a change of deltas re-plans certificates not yet swept; bad deltas are refused', async () => {
    // Inserted before any re-plan: no deltas yet. The CA's (60d) reach all three, then the profile's (20d)
    // the two it issued, then the DMS's (10d) its one.
    await service.updateExpiryDeltas({ id: 'ca2', deltas: deltas(60, null), actor: 'test' });
    const profile = await service.getProfile('p');
    await service.updateProfile({ id: 'p', name: 'p', settings: { ...profile, expirationDeltas: deltas(20, 5) }, actor: 'test' });
    assert.equal(await service.replanDmsExpiry('d', deltas(10, null)), 1);

    assert.deepEqual(await sweepAt(50), new Map([['plan-0', 'preventive 60d ca']]));
    assert.deepEqual(await sweepAt(15), new Map([['plan-1', 'preventive 20d profile']]));
    // The DMS drops its deltas before its certificate was swept: it falls back to the profile's, whose
    // preventive delta (20d) has passed and critical (5d) has not.
    assert.equal(await service.replanDmsExpiry('d', null), 1);
    assert.deepEqual(await sweepAt(14), new Map([['plan-2', 'preventive 20d profile']]));
    // A profile update that leaves the deltas out keeps them: no re-plan, nothing new.
    await service.updateProfile({ id: 'p', name: 'p2', settings: { ...profile, expirationDeltas: undefined }, actor: 'test' });
    assert.deepEqual((await service.getProfile('p')).expirationDeltas, deltas(20, 5));
    assert.deepEqual(await sweepAt(6), new Map());
    // A shorter critical delta re-plans the profile's two (stage preventive): announced at 3 days, not 5.
    await service.updateProfile({ id: 'p', name: 'p', settings: { ...profile, expirationDeltas: deltas(20, 3) }, actor: 'test' });
    assert.deepEqual(await sweepAt(4), new Map());
    assert.deepEqual(await sweepAt(2), new Map([['plan-1', 'critical 3d profile'], ['plan-2', 'critical 3d profile']]));
    // plan-0 has no critical delta: nothing more, ever; expired rows leave the due index silently.
    assert.deepEqual(await sweepAt(-1), new Map());

    for (const bad of [deltas(7, 7), deltas(7, 30), { preventiveMs: -1, criticalMs: null }]) {
      await assert.rejects(service.updateExpiryDeltas({ id: 'ca2', deltas: bad, actor: 'test' }), (e: unknown) => e instanceof DomainError && e.code === 'EXPIRY_DELTAS_INVALID');
    }
  });
});

forEachStorage('expiration deltas: holds', (ctx) => {
  test('a certificate held while it crossed a delta is announced once its hold is lifted, not while held', async () => {
    const clock = new ManualClock(T0);
    const { service, events } = testCaService(ctx.storage, clock);
    await createCa(service, 'ca3', deltas(30, null));
    const held = syntheticCertificate(0, { issuerCaId: 'ca3', notAfter: T0 + 60 * DAY, thresholdMs: 1000, status: 'ACTIVE' }, 'held');
    await ctx.storage.certificates.insert({ ...held, expiry: { source: 'ca', deltas: deltas(30, null), stage: 'none', profileId: null, dmsId: null } });
    await service.updateCertificateStatus({ serialNumber: held.serialNumber, issuerCaId: 'ca3', request: { status: 'REVOKED', reason: 'CertificateHold' }, actor: 'test' });
    clock.set(new Date(T0 + 31 * DAY));
    events.published.length = 0;
    assert.equal((await service.sweepStatuses()).expiring, 0, 'nothing while held');
    await service.updateCertificateStatus({ serialNumber: held.serialNumber, issuerCaId: 'ca3', request: { status: 'ACTIVE' }, actor: 'test' });
    assert.equal((await service.sweepStatuses()).expiring, 1);
    assert.equal((await service.sweepStatuses()).expiring, 0);
    assert.deepEqual([...expiringBySubject(events.published).keys()], ['held-0']);
  });
});
