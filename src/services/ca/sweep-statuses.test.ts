import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { forEachStorage } from '../../../test/support/storage.ts';
import type { CertificateAuthority } from '../../domain/ca/ca.ts';
import type { CertificateStatus } from '../../domain/ca/certificate-status.ts';
import type { Certificate } from '../../domain/ca/certificate.ts';
import { DomainError } from '../../domain/errors.ts';
import { ManualClock } from '../../domain/ports/clock.ts';
import type { CloudEvent } from '../../domain/ports/event-bus.ts';
import type { Storage } from '../../domain/ports/storage.ts';
import { CaService } from './ca-service.ts';
import { testCaService, type RecordingBus } from '../../../test/support/ca-service-fixture.ts';
import { DAY, expectedStatus, insertSynthetic, type SyntheticSpec } from '../../../test/support/sweep-fixture.ts';

const T0 = Date.UTC(2026, 0, 1);
const N = 100_000;
const GLOBAL = 30 * DAY;
const SHORT = 7 * DAY;

type Change = { prev: CertificateStatus; next: CertificateStatus };

/** One entry per event, keyed by subject; a second event for the same subject fails the test. */
function changesOf(events: CloudEvent[]): Map<string, Change> {
  const out = new Map<string, Change>();
  for (const e of events) {
    const d = e.data as { previous_status: CertificateStatus; status: CertificateStatus };
    assert.equal(e.actor, 'system');
    assert.ok(!out.has(e.subject!), `two events for ${e.subject}`);
    out.set(e.subject!, { prev: d.previous_status, next: d.status });
  }
  return out;
}

/** What a sweep at `now` must change in `model`; applies it to the model. */
function expectChanges(model: Certificate[], now: Date): Map<string, Change> {
  const out = new Map<string, Change>();
  for (const c of model) {
    const next = expectedStatus(c, now);
    if (next !== c.status) {
      out.set(c.id, { prev: c.status, next });
      c.status = next;
    }
  }
  return out;
}

async function statusCounts(storage: Storage, caIds: string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const r of await storage.certificates.countByIssuerAndStatus()) {
    if (r.issuerCaId !== null && caIds.includes(r.issuerCaId)) out[r.status] = (out[r.status] ?? 0) + r.count;
  }
  return out;
}

/** Counts as the database should have them, with the two CAs' own (ACTIVE, self-issued) certificates. */
const modelCounts = (model: Certificate[]) => {
  const out: Record<string, number> = { ACTIVE: 2 };
  for (const c of model) out[c.status] = (out[c.status] ?? 0) + 1;
  return out;
};

// The two dialects' suites run side by side (and so would tests inside them: keep one test per suite): most of the time goes into loading 100k rows, SQLite in this
// process and PostgreSQL in its server.
describe('100k certificates', { concurrency: true }, () => {
  forEachStorage('status sweep', (ctx) => {
    const clock = new ManualClock(T0);
    let service: CaService;
    let events: RecordingBus;
    let caGlobal: CertificateAuthority;
    let caShort: CertificateAuthority;
    let model: Certificate[];

    before(async () => {
      ({ service, events } = testCaService(ctx.storage, clock, { settings: { aboutToExpireMs: GLOBAL } }));
      const create = (id: string, aboutToExpireMs?: number) =>
        service.createCa({ id, subject: { common_name: id }, keySpec: { type: 'ECDSA', bits: 256 }, validity: { type: 'Duration', duration: '10y' }, ...(aboutToExpireMs ? { aboutToExpireMs } : {}), actor: 'test' });
      caGlobal = await create('ca-global');
      caShort = await create('ca-short', SHORT);
      // notAfter spread over [-5d, +45d] around T0, statuses as a sweep three days before T0 left them
      // (so some have moved on since), every 7th inserted ACTIVE whatever its time (long unswept), every
      // 50th revoked (half of those on hold).
      const specs: SyntheticSpec[] = [];
      for (let i = 0; i < N; i++) {
        const short = i % 2 === 1;
        const thresholdMs = short ? SHORT : GLOBAL;
        const notAfter = T0 - 5 * DAY + ((i * 2_654_435_761) % (50 * 86_400)) * 1000;
        const revoked = i % 50 === 0;
        const status = revoked ? 'REVOKED' : i % 7 === 3 ? 'ACTIVE' : expectedStatus({ status: 'ACTIVE', notAfter: new Date(notAfter), aboutToExpireAt: new Date(notAfter - thresholdMs) }, new Date(T0 - 3 * DAY));
        specs.push({ issuerCaId: short ? caShort.id : caGlobal.id, notAfter, thresholdMs, status, revocationReason: i % 100 === 0 ? 'CertificateHold' : 'KeyCompromise' });
      }
      model = await insertSynthetic(ctx.storage, specs);
    });

    test('100k certificates: one sweep changes exactly the expected ones, one event each; a second changes nothing; a new global threshold', async () => {
      const now = new Date(T0 + 2 * DAY);
      clock.set(now);
      const expected = expectChanges(model, now);
      assert.ok(expected.size > 10_000, `a meaningful share changes (${expected.size})`);
      const kinds = new Set([...expected.values()].map((c) => `${c.prev}->${c.next}`));
      assert.deepEqual([...kinds].sort(), ['ABOUT_TO_EXPIRE->EXPIRED', 'ACTIVE->ABOUT_TO_EXPIRE', 'ACTIVE->EXPIRED']);

      events.published.length = 0;
      const result = await service.sweepStatuses();
      const got = changesOf(events.ofType('certificate.status.update'));
      assert.equal(events.published.length, got.size, 'only certificate.status.update events');
      assert.deepEqual(got, expected);
      const expired = [...expected.values()].filter((c) => c.next === 'EXPIRED').length;
      assert.deepEqual(result, { expired, aboutToExpire: expected.size - expired, expiring: 0 });
      assert.deepEqual(await statusCounts(ctx.storage, [caGlobal.id, caShort.id]), modelCounts(model));

      events.published.length = 0;
      assert.deepEqual(await service.sweepStatuses(), { expired: 0, aboutToExpire: 0, expiring: 0 });
      assert.equal(events.published.length, 0);

      // (One test with the above: tests inside this suite would run concurrently, like the suites.)
      // A changed global threshold is recomputed window by window, for the certificates that follow it only.
      const { service: restarted, events: restartedEvents } = testCaService(ctx.storage, clock, { settings: { aboutToExpireMs: 35 * DAY } });
      const following = model.filter((c) => c.issuerCaId === caGlobal.id && c.status === 'ACTIVE');
      assert.ok(following.length > 10_000, `more than one window of 10k rows (${following.length})`);
      // Plus ca-global's own certificate.
      assert.equal(await restarted.applyGlobalAboutToExpire(), following.length + 1);
      assert.equal(await restarted.applyGlobalAboutToExpire(), 0);
      for (const c of following) c.aboutToExpireAt = new Date(c.notAfter.getTime() - 35 * DAY);
      const recomputed = expectChanges(model, clock.now());
      assert.ok(recomputed.size > 0);
      await restarted.sweepStatuses();
      assert.deepEqual(changesOf(restartedEvents.published), recomputed);
    });
  });
});

forEachStorage('status sweep thresholds', (ctx) => {
  const clock = new ManualClock(T0);
  let service: CaService;
  let events: RecordingBus;
  let model: Certificate[];
  let caShort: CertificateAuthority;

  before(async () => {
    ({ service, events } = testCaService(ctx.storage, clock, { settings: { aboutToExpireMs: GLOBAL } }));
    const create = (id: string, aboutToExpireMs?: number) =>
      service.createCa({ id, subject: { common_name: id }, keySpec: { type: 'ECDSA', bits: 256 }, validity: { type: 'Duration', duration: '10y' }, ...(aboutToExpireMs ? { aboutToExpireMs } : {}), actor: 'test' });
    const caGlobal = await create('ca-global');
    caShort = await create('ca-short', SHORT);
    const specs: SyntheticSpec[] = [];
    // One certificate a day for 60 days from T0, under each CA.
    for (let d = 1; d <= 60; d++) {
      specs.push({ issuerCaId: caGlobal.id, notAfter: T0 + d * DAY, thresholdMs: GLOBAL, status: 'ACTIVE' });
      specs.push({ issuerCaId: caShort.id, notAfter: T0 + d * DAY, thresholdMs: SHORT, status: 'ACTIVE' });
    }
    // Rows inserted ACTIVE although their time has come: the first sweep at T0 sorts them.
    model = await insertSynthetic(ctx.storage, specs);
    expectChanges(model, clock.now());
    await service.sweepStatuses();
    events.published.length = 0;
  });

  const aboutToExpireBy = (caId: string) => model.filter((c) => c.issuerCaId === caId && c.status === 'ABOUT_TO_EXPIRE').length;

  test('per-CA thresholds are honoured', async () => {
    assert.equal(aboutToExpireBy('ca-global'), 30);
    assert.equal(aboutToExpireBy('ca-short'), 7);
    assert.deepEqual(await statusCounts(ctx.storage, ['ca-global', 'ca-short']), modelCounts(model));
  });

  test("changing a CA's threshold recomputes its ACTIVE certificates; the next sweep follows it", async () => {
    const ca = await service.updateAboutToExpire({ id: 'ca-short', aboutToExpireMs: 20 * DAY, actor: 'admin' });
    assert.equal(ca.aboutToExpireMs, 20 * DAY);
    const update = events.ofType('ca.update');
    assert.equal(update.length, 1);
    assert.equal(update[0]!.actor, 'admin');
    assert.equal((update[0]!.data as { recomputed: number }).recomputed, 60 - 7 + 1, "53 ACTIVE certificates and the CA's own");
    const own = await ctx.storage.certificates.get(caShort.certificate.id);
    assert.equal(own!.aboutToExpireAt.getTime(), own!.notAfter.getTime() - 20 * DAY);
    for (const c of model) if (c.issuerCaId === 'ca-short' && c.status === 'ACTIVE') c.aboutToExpireAt = new Date(c.notAfter.getTime() - 20 * DAY);
    const expected = expectChanges(model, clock.now());
    assert.equal(expected.size, 13);
    events.published.length = 0;
    await service.sweepStatuses();
    assert.deepEqual(changesOf(events.published), expected);
    assert.equal(aboutToExpireBy('ca-short'), 20);
  });

  test('a changed global threshold recomputes certificates that follow it, not those of CAs with their own', async () => {
    const { service: restarted, events: restartedEvents } = testCaService(ctx.storage, clock, { settings: { aboutToExpireMs: 45 * DAY } });
    // ca-global's 30 ACTIVE certificates and its own certificate; the internal CA is not created here.
    assert.equal(await restarted.applyGlobalAboutToExpire(), 31);
    assert.equal(await restarted.applyGlobalAboutToExpire(), 0, 'only rows that differ are written');
    for (const c of model) if (c.issuerCaId === 'ca-global' && c.status === 'ACTIVE') c.aboutToExpireAt = new Date(c.notAfter.getTime() - 45 * DAY);
    const expected = expectChanges(model, clock.now());
    assert.equal(expected.size, 15);
    await restarted.sweepStatuses();
    assert.deepEqual(changesOf(restartedEvents.published), expected);
    assert.equal(aboutToExpireBy('ca-global'), 45);
    assert.deepEqual(await statusCounts(ctx.storage, ['ca-global', 'ca-short']), modelCounts(model));
  });

  test('clearing the override returns the CA to the global threshold; bad thresholds are refused', async () => {
    const ca = await service.updateAboutToExpire({ id: 'ca-short', aboutToExpireMs: null, actor: 'admin' });
    assert.equal(ca.aboutToExpireMs, null);
    const own = await ctx.storage.certificates.get(caShort.certificate.id);
    assert.equal(own!.aboutToExpireAt.getTime(), own!.notAfter.getTime() - GLOBAL);
    const isCode = (code: string) => (e: unknown) => e instanceof DomainError && e.code === code;
    await assert.rejects(service.updateAboutToExpire({ id: 'ca-short', aboutToExpireMs: 0, actor: 'admin' }), isCode('ABOUT_TO_EXPIRE_INVALID'));
    await assert.rejects(service.updateAboutToExpire({ id: 'nope', aboutToExpireMs: DAY, actor: 'admin' }), isCode('CA_NOT_FOUND'));
  });

  test("a CA's own certificate changes status with ca.status.update", async () => {
    const shortLived = await service.createCa({ id: 'short-lived', subject: { common_name: 'short-lived' }, keySpec: { type: 'ECDSA', bits: 256 }, validity: { type: 'Duration', duration: '40d' }, actor: 'test' });
    assert.equal(shortLived.certificate.status, 'ACTIVE');
    clock.advance(15 * DAY);
    events.published.length = 0;
    await service.sweepStatuses();
    const [ev, ...rest] = events.ofType('ca.status.update');
    assert.equal(rest.length, 0);
    assert.equal(ev!.subject, 'short-lived');
    assert.deepEqual([(ev!.data as Change & { previous_status: string }).previous_status, (ev!.data as { status: string }).status], ['ACTIVE', 'ABOUT_TO_EXPIRE']);
    assert.equal((await service.getCa('short-lived')).certificate.status, 'ABOUT_TO_EXPIRE');
    clock.advance(30 * DAY);
    await service.sweepStatuses();
    assert.equal((await service.getCa('short-lived')).certificate.status, 'EXPIRED');
    const toExpired = events.ofType('ca.status.update').filter((e) => (e.data as { status: string }).status === 'EXPIRED');
    assert.deepEqual(toExpired.map((e) => e.subject), ['short-lived']);
  });

  test('revoked certificates, on hold or not, are never touched, even long past notAfter', async () => {
    const notAfter = clock.now().getTime() + DAY;
    const revoked = await insertSynthetic(
      ctx.storage,
      [
        { issuerCaId: 'ca-global', notAfter, thresholdMs: GLOBAL, status: 'REVOKED', revocationReason: 'CertificateHold' },
        { issuerCaId: 'ca-global', notAfter, thresholdMs: GLOBAL, status: 'REVOKED', revocationReason: 'KeyCompromise' },
      ],
      { idPrefix: 'revoked' },
    );
    clock.advance(100 * DAY);
    events.published.length = 0;
    await service.sweepStatuses();
    assert.ok(!events.published.some((e) => e.subject?.startsWith('revoked-')));
    for (const r of revoked) {
      const stored = await ctx.storage.certificates.get(r.id);
      assert.deepEqual([stored!.status, stored!.revocationReason], ['REVOKED', r.revocationReason]);
    }
  });
});

forEachStorage('status sweep interrupted between batches', (ctx) => {
  test('a sweep that dies after some committed batches resumes without changing or announcing any row twice', async () => {
    const clock = new ManualClock(T0);
    const { service } = testCaService(ctx.storage, clock);
    await service.createCa({ id: 'ca', subject: { common_name: 'ca' }, keySpec: { type: 'ECDSA', bits: 256 }, validity: { type: 'Duration', duration: '10y' }, actor: 'test' });
    const specs: SyntheticSpec[] = [];
    for (let i = 0; i < 3000; i++) specs.push({ issuerCaId: 'ca', notAfter: T0 + (i % 3 === 0 ? -DAY : DAY), thresholdMs: GLOBAL, status: 'ACTIVE' });
    await insertSynthetic(ctx.storage, specs);

    // A storage whose third sweep batch fails, as if the process died there (batches run in transactions).
    let batches = 0;
    const failing = <R extends Pick<Storage, 'certificates'>>(repos: R): R => {
      const certificates = Object.create(repos.certificates) as Storage['certificates'];
      certificates.sweepStatus = (...args) => {
        if (++batches === 3) return Promise.reject(new Error('process died'));
        return repos.certificates.sweepStatus(...args);
      };
      return { ...repos, certificates };
    };
    const storage: Storage = { ...failing(ctx.storage), transaction: (fn) => ctx.storage.transaction((tx) => fn(failing(tx))) };
    const dying = new CaService({ ...service.deps, storage });
    const bus = dying.deps.events as RecordingBus;
    bus.published.length = 0;
    await assert.rejects(dying.sweepStatuses({ batchSize: 500 }), /process died/);
    assert.equal(bus.published.length, 1000, 'two batches committed and announced');
    await service.sweepStatuses({ batchSize: 500 });
    const all = changesOf(bus.published);
    assert.equal(all.size, 3000);
    assert.equal([...all.values()].filter((c) => c.next === 'EXPIRED').length, 1000);
    assert.equal([...all.values()].filter((c) => c.next === 'ABOUT_TO_EXPIRE').length, 2000);
  });
  test('two sweeps at once (the endpoint and the job) never both change or announce a row', async () => {
    const start = T0 + 30 * DAY;
    const clock = new ManualClock(start);
    const { service, events } = testCaService(ctx.storage, clock);
    await service.sweepStatuses(); // what the test above left behind
    const other = new CaService(service.deps);
    const specs: SyntheticSpec[] = [];
    for (let i = 0; i < 3000; i++) specs.push({ issuerCaId: 'ca', notAfter: start + (i % 2 === 0 ? DAY : 10 * DAY), thresholdMs: GLOBAL, status: 'ACTIVE' });
    await insertSynthetic(ctx.storage, specs, { idPrefix: 'racing' });
    clock.advance(5 * DAY);
    events.published.length = 0;
    const [a, b] = await Promise.all([service.sweepStatuses({ batchSize: 200 }), other.sweepStatuses({ batchSize: 200 })]);
    const all = changesOf(events.published);
    assert.equal(all.size, 3000);
    assert.equal(a.expired + b.expired, 1500);
    assert.equal(a.aboutToExpire + b.aboutToExpire, 1500);
  });
});
