import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openTestStorage } from '../../../test/support/storage.ts';
import type { CertificateAuthority } from '../../domain/ca/ca.ts';
import type { Certificate } from '../../domain/ca/certificate.ts';
import { DomainError } from '../../domain/errors.ts';
import { ManualClock } from '../../domain/ports/clock.ts';
import { silentLogger } from '../../domain/ports/logger.ts';
import { DEFAULT_VA_ROLE_SETTINGS } from '../../domain/va/va-role.ts';
import { MemoryEventBus } from '../../engines/eventbus/memory-event-bus.ts';
import { parseCertificate } from '../../x509/certificate.ts';
import { encodeCertId, issuerHashes } from '../../x509/ocsp-cert-id.ts';
import { sequence } from '../../x509/der.ts';
import { testCaService } from '../../../test/support/ca-service-fixture.ts';
import { CaServiceVaGateway } from '../ca/va-gateway.ts';
import type { VaCaGateway } from './va-ca-gateway.ts';
import { DEFAULT_VA_SETTINGS, VaService } from './va-service.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** RevokedInfo: [1] { GeneralizedTime (0x18, 15 octets) ... } */
const saysRevoked = (der: Uint8Array) => der.some((b, i) => b === 0xa1 && der[i + 2] === 0x18 && der[i + 3] === 0x0f);
const isCode = (code: string) => (e: unknown) => e instanceof DomainError && e.code === code;

let opened: Awaited<ReturnType<typeof openTestStorage>>;
let clock: ManualClock;
let ca: ReturnType<typeof testCaService>['service'];
let sub: CertificateAuthority;
let leaf: Certificate;
let gateway: VaCaGateway;
let calls: { listCas: number; status: number };
/** Runs inside the next status read, as a change committed meanwhile would. */
let duringStatusRead: (() => void) | undefined;
let bus: MemoryEventBus;
let va: VaService;

before(async () => {
  opened = await openTestStorage('sqlite');
  clock = new ManualClock(Date.UTC(2026, 5, 1));
  ca = testCaService(opened.storage, clock).service;
  const root = await ca.createCa({ subject: { common_name: 'Unit Root' }, keySpec: { type: 'ECDSA', bits: 256 }, validity: { type: 'Duration', duration: '10y' }, actor: 't' });
  sub = await ca.createCa({ parentId: root.id, subject: { common_name: 'Unit Sub' }, keySpec: { type: 'ECDSA', bits: 256 }, validity: { type: 'Duration', duration: '1y' }, actor: 't' });
  leaf = (await ca.generateCertificate({ caId: sub.id, keySpec: { type: 'ECDSA', bits: 256 }, engineId: 'memory', subject: { common_name: 'unit-leaf' }, profile: { caDefault: true }, actor: 't' })).certificate;
  const real = new CaServiceVaGateway(ca);
  calls = { listCas: 0, status: 0 };
  // Counts what the VA asks of the CA service; otherwise the real gateway.
  gateway = Object.assign(Object.create(real) as VaCaGateway, {
    listCas: () => {
      calls.listCas++;
      return real.listCas();
    },
    certificateStatus: async (caId: string, serial: string) => {
      calls.status++;
      const status = await real.certificateStatus(caId, serial);
      duringStatusRead?.();
      duringStatusRead = undefined;
      return status;
    },
  });
  bus = new MemoryEventBus(silentLogger);
  va = new VaService({ ca: gateway, storage: opened.storage, events: bus, clock, logger: silentLogger, settings: { ...DEFAULT_VA_SETTINGS, vaBaseUrls: ['http://va.unit'] }, replicaId: 'unit' });
  await va.start();
});
after(async () => {
  await va?.close();
  await bus?.close();
  await opened?.dispose();
});

function requestFor(serialHex: string, issuer = sub): Uint8Array {
  const cert = parseCertificate(issuer.certificate.der);
  const h = issuerHashes('SHA-256', cert.subjectName, cert.publicKey.spki);
  const serial = Buffer.from(serialHex.length % 2 ? `0${serialHex}` : serialHex, 'hex');
  return sequence(sequence(sequence(sequence(encodeCertId('SHA-256', h.issuerNameHash, h.issuerKeyHash, serial)))));
}

describe('roles', () => {
  test('created with defaults on ca.create, refused for unknown CAs and for unworkable settings', async () => {
    await bus.publish([{ specversion: '1.0', id: 'e1', source: 't', type: 'ca.create', time: clock.now().toISOString(), subject: sub.id, data: { id: sub.id } }]);
    await bus.idle();
    assert.deepEqual((await opened.storage.vaRoles.get(sub.id))?.settings, DEFAULT_VA_ROLE_SETTINGS);
    await assert.rejects(va.roles.get('nope'), isCode('VA_CA_NOT_FOUND'));
    await assert.rejects(va.roles.put(sub.id, { ...DEFAULT_VA_ROLE_SETTINGS, crl: { ...DEFAULT_VA_ROLE_SETTINGS.crl, refreshIntervalMs: 8 * DAY } }), isCode('VA_ROLE_INVALID'));
    await assert.rejects(va.roles.put(sub.id, { ...DEFAULT_VA_ROLE_SETTINGS, ocsp: { validityMs: 1000, signer: 'CA' } }), isCode('VA_ROLE_INVALID'));
  });
});

describe('OCSP caching', () => {
  test('a status read that raced with an invalidation is not cached', async () => {
    const before = calls.status;
    duringStatusRead = () => va.cache.invalidate(sub.id, leaf.serialNumber);
    await va.ocsp.respond(requestFor(leaf.serialNumber));
    await va.ocsp.respond(requestFor(leaf.serialNumber));
    assert.equal(calls.status - before, 2, 'the second request read the status again');
    await va.ocsp.respond(requestFor(leaf.serialNumber));
    assert.equal(calls.status - before, 2, 'now it is cached');
  });

  test('a change that reaches no event (another replica, bus down) shows after statusCacheTtlMs at the latest', async () => {
    await va.ocsp.respond(requestFor(leaf.serialNumber));
    await opened.storage.certificates.updateStatus(leaf.id, leaf.status, { status: 'REVOKED', revokedAt: clock.now(), revocationReason: 'KeyCompromise' });
    const stale = await va.ocsp.respond(requestFor(leaf.serialNumber));
    clock.advance(DEFAULT_VA_SETTINGS.statusCacheTtlMs);
    const fresh = await va.ocsp.respond(requestFor(leaf.serialNumber));
    assert.ok(stale.kind === 'response' && fresh.kind === 'response');
    assert.notDeepEqual(stale.body, fresh.body);
    assert.ok(!saysRevoked(stale.body) && saysRevoked(fresh.body));
    await opened.storage.certificates.updateStatus(leaf.id, 'REVOKED', { status: 'ACTIVE', revokedAt: null, revocationReason: null });
    va.cache.invalidate(sub.id, leaf.serialNumber);
  });

  test('while the bus link is down, answers read the database (a missed event cannot leave them stale); back up, the cache starts empty', async () => {
    const listeners = new Set<(up: boolean) => void>();
    // An in-process bus that, like RabbitMQ, can lose its link.
    const linked = Object.assign(new MemoryEventBus(silentLogger), {
      onLinkChange: (l: (up: boolean) => void) => (listeners.add(l), () => void listeners.delete(l)),
    });
    const link = (up: boolean) => listeners.forEach((l) => l(up));
    const replica = new VaService({ ca: gateway, storage: opened.storage, events: linked, clock, logger: silentLogger, settings: { ...DEFAULT_VA_SETTINGS, vaBaseUrls: ['http://va.unit'] }, replicaId: 'link' });
    await replica.start();
    try {
      const ask = () => replica.ocsp.respond(requestFor(leaf.serialNumber));
      await ask();
      let before = calls.status;
      await ask();
      assert.equal(calls.status, before, 'cached while the link is up');

      link(false);
      assert.equal(replica.cache.suspended, true);
      // Revoked on another replica: the event never comes.
      await opened.storage.certificates.updateStatus(leaf.id, leaf.status, { status: 'REVOKED', revokedAt: clock.now(), revocationReason: 'KeyCompromise' });
      const during = await ask();
      assert.ok(during.kind === 'response' && saysRevoked(during.body), 'revoked at once, no TTL to wait for');
      before = calls.status;
      await ask();
      await ask();
      assert.equal(calls.status - before, 2, 'every answer reads the status while the link is down');

      link(true);
      assert.equal(replica.cache.suspended, false);
      before = calls.status;
      const afterUp = await ask();
      await ask();
      assert.ok(afterUp.kind === 'response' && saysRevoked(afterUp.body));
      assert.equal(calls.status - before, 1, 'cached again once the link is back');
    } finally {
      await replica.close();
      await linked.close();
      await opened.storage.certificates.updateStatus(leaf.id, 'REVOKED', { status: 'ACTIVE', revokedAt: null, revocationReason: null });
      va.cache.invalidate(sub.id, leaf.serialNumber);
    }
  });

  test('unknown issuers list the CAs again at most once per issuerRescanMs', async () => {
    const stranger = requestFor('01', { ...sub, certificate: leaf } as CertificateAuthority);
    clock.advance(DEFAULT_VA_SETTINGS.issuerRescanMs);
    const before = calls.listCas;
    for (let i = 0; i < 5; i++) assert.equal((await va.ocsp.respond(stranger)).kind, 'error');
    assert.equal(calls.listCas - before, 1, 'one listing for five requests');
    clock.advance(DEFAULT_VA_SETTINGS.issuerRescanMs);
    await va.ocsp.respond(stranger);
    assert.equal(calls.listCas - before, 2);
  });
});

describe('delegated responder', () => {
  test('issued once, reused, and renewed when a third of its validity is left', async () => {
    await va.roles.put(sub.id, { ...DEFAULT_VA_ROLE_SETTINGS, ocsp: { validityMs: HOUR, signer: 'DELEGATED' } });
    const first = await va.signers.get(sub.id, 'DELEGATED');
    clock.advance(10 * DAY);
    assert.deepEqual((await va.signers.get(sub.id, 'DELEGATED')).certs, first.certs);
    clock.advance(11 * DAY); // 21 of 30 days gone
    const renewed = await va.signers.get(sub.id, 'DELEGATED');
    assert.notDeepEqual(renewed.certs, first.certs);
    const cert = parseCertificate(renewed.certs[0]!);
    assert.deepEqual(cert.extendedKeyUsage, ['OCSPSigning']);
    assert.equal(cert.notAfter.getTime(), clock.now().getTime() - (clock.now().getTime() % 1000) + 30 * DAY);
    await va.roles.put(sub.id, DEFAULT_VA_ROLE_SETTINGS);
  });

  test('near the end of the CA it is not reissued over and over', async () => {
    await va.roles.put(sub.id, { ...DEFAULT_VA_ROLE_SETTINGS, ocsp: { validityMs: HOUR, signer: 'DELEGATED' } });
    clock.set(sub.certificate.notAfter.getTime() - 5 * DAY);
    const a = await va.signers.get(sub.id, 'DELEGATED');
    clock.advance(4 * DAY);
    const b = await va.signers.get(sub.id, 'DELEGATED');
    assert.deepEqual(a.certs, b.certs);
    clock.set(Date.UTC(2026, 5, 25));
    await va.roles.put(sub.id, DEFAULT_VA_ROLE_SETTINGS);
  });
});

describe('CRL schedule', () => {
  test('refreshDue publishes missing CRLs, then only what is due; delta CRLs follow their own interval', async () => {
    const number = async (kind: 'full' | 'delta') => (await opened.storage.crls.meta(sub.id, kind))?.number;
    await va.crls.refreshDue();
    const n1 = await number('full');
    assert.ok(n1 !== undefined);
    await va.crls.refreshDue();
    assert.equal(await number('full'), n1, 'nothing due');
    clock.advance(DEFAULT_VA_ROLE_SETTINGS.crl.refreshIntervalMs);
    await va.crls.refreshDue();
    const n2 = (await number('full'))!;
    assert.ok(n2 > n1!);
    await va.roles.put(sub.id, { ...DEFAULT_VA_ROLE_SETTINGS, delta: { enabled: true, validityMs: 2 * HOUR, refreshIntervalMs: HOUR } });
    await va.crls.refreshDue();
    const d1 = (await number('delta'))!;
    assert.ok(d1 > n2);
    assert.equal((await opened.storage.crls.meta(sub.id, 'delta'))?.baseNumber, n2);
    clock.advance(HOUR);
    await va.crls.refreshDue();
    assert.ok((await number('delta'))! > d1);
    assert.equal(await number('full'), n2, 'the full CRL waits for its own interval');
  });
});
