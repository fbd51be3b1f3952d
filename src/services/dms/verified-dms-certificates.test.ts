import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DomainError } from '../../domain/errors.ts';
import { ManualClock } from '../../domain/ports/clock.ts';
import { DeviceService } from '../devices/device-service.ts';
import { DAY, enrollmentWorld, type EnrollmentWorld } from '../../../test/support/enrollment-fixture.ts';
import { EnrollmentService } from './enrollment-service.ts';
import { VerifiedDmsCertificates } from './verified-dms-certificates.ts';
import { caEvent, CaEventType, certificateEventData } from '../ca/ca-events.ts';

const isCode = (code: string) => (e: unknown) => e instanceof DomainError && e.code === code;

let w: EnrollmentWorld;
before(async () => {
  w = await enrollmentWorld();
});
after(async () => w?.dispose());

/** The world's enrollment over a gateway that counts certificate lookups. */
function countingEnrollment() {
  let lookups = 0;
  const ca = { ...w.gateway, getCertificate: (sn: string, issuer?: string) => (lookups++, w.gateway.getCertificate(sn, issuer)) };
  const deps = { ...w.deps, ca };
  const enrollment = new EnrollmentService(deps, new DeviceService({ ...deps }));
  return { enrollment, lookups: () => lookups };
}

test('a checked DMS certificate is not looked up again; revocation through the CA service stops it once the event is in', async () => {
  await w.createDms('v1', w.settings({ authMode: 'DMS_CERTIFICATE' }));
  const issued = await w.dms.issueCertificate('v1', { keySpec: { type: 'ECDSA', bits: 256 } }, 'admin');
  const c = countingEnrollment();
  const enroll = async (id: string) => c.enrollment.enroll({ label: 'v1', csrDer: await w.csr(id), credentials: { clientCertificateChain: [issued.certificate.der] } });
  await enroll('v1-dev-1');
  await enroll('v1-dev-2');
  await enroll('v1-dev-3');
  assert.equal(c.lookups(), 1);
  // Revoked behind the DMS manager's back (the CA API): the status event drops the entry.
  await w.gateway.revoke({ serialNumber: issued.certificate.serialNumber, issuerCaId: issued.certificate.issuerCaId!, reason: 'KeyCompromise', actor: 'test' });
  await w.bus.idle();
  await assert.rejects(enroll('v1-dev-4'), isCode('ENROLL_DMS_CERTIFICATE_REVOKED'));
  assert.equal(await w.devices.find('v1-dev-4'), undefined);
});

test('expiry is checked on every use; a re-issued DMS certificate replaces the old one at once', async () => {
  await w.createDms('v2', w.settings({ authMode: 'DMS_CERTIFICATE' }));
  const first = (await w.dms.issueCertificate('v2', { keySpec: { type: 'ECDSA', bits: 256 } }, 'admin')).certificate;
  const c = countingEnrollment();
  const enroll = async (id: string, der: Uint8Array) => c.enrollment.enroll({ label: 'v2', csrDer: await w.csr(id), credentials: { clientCertificateChain: [der] } });
  await enroll('v2-dev-1', first.der);
  const saved = w.clock.now();
  w.clock.set(first.notAfter.getTime() + DAY);
  await assert.rejects(enroll('v2-dev-2', first.der), isCode('ENROLL_DMS_CERTIFICATE_EXPIRED'));
  w.clock.set(saved);
  await enroll('v2-dev-3', first.der);
  const second = (await w.dms.issueCertificate('v2', { keySpec: { type: 'ECDSA', bits: 256 } }, 'admin')).certificate;
  await assert.rejects(enroll('v2-dev-4', first.der), isCode('ENROLL_DMS_CERTIFICATE_INVALID'));
  await enroll('v2-dev-5', second.der);
});

test('entries last the TTL; a check overtaken by a revocation is not remembered', async () => {
  const clock = new ManualClock(0);
  const cache = new VerifiedDmsCertificates(clock, 1000);
  await w.createDms('v3', w.settings({ authMode: 'DMS_CERTIFICATE' }));
  const issued = await w.dms.issueCertificate('v3', { keySpec: { type: 'ECDSA', bits: 256 } }, 'admin');
  const dms = issued.dms;
  const der = issued.certificate.der;
  cache.remember(dms.id, issued.certificate, cache.snapshot());
  assert.ok(cache.holds(dms, der));
  assert.ok(!cache.holds(dms, Uint8Array.from(der, (b, i) => (i === der.length - 1 ? b ^ 1 : b))), 'other bytes');
  assert.ok(!cache.holds({ ...dms, certificate: { serialNumber: 'ab', issuerCaId: 'x' } }, der), 'another current certificate');
  clock.advance(1000);
  assert.ok(!cache.holds(dms, der), 'past the TTL');
  const since = cache.snapshot();
  cache.forget(issued.certificate.serialNumber);
  cache.remember(dms.id, issued.certificate, since);
  assert.ok(!cache.holds(dms, der), 'overtaken');
});

test('a status change of a CA (the internal CA put on hold) drops the checked DMS certificates at once', async () => {
  await w.createDms('v4', w.settings({ authMode: 'DMS_CERTIFICATE' }));
  const issued = await w.dms.issueCertificate('v4', { keySpec: { type: 'ECDSA', bits: 256 } }, 'admin');
  const c = countingEnrollment();
  const enroll = async (id: string) => c.enrollment.enroll({ label: 'v4', csrDer: await w.csr(id), credentials: { clientCertificateChain: [issued.certificate.der] } });
  await enroll('v4-dev-1');
  // What the CA service stores and publishes when a CA is held (its API keeps internal CAs out of reach).
  const internal = (await w.gateway.dmsManagerCa()).certificate;
  const held = { status: 'REVOKED' as const, revokedAt: w.clock.now(), revocationReason: 'CertificateHold' as const };
  assert.ok(await w.storage.certificates.updateStatus(internal.id, internal.status, held));
  try {
    await w.bus.publish([caEvent(w.ca.deps, CaEventType.caStatusUpdate, internal.caId!, { ...certificateEventData({ ...internal, ...held }, internal.status), id: internal.caId! }, 'test')]);
    await w.bus.idle();
    await assert.rejects(enroll('v4-dev-2'), isCode('ENROLL_DMS_CERTIFICATE_ON_HOLD'));
    assert.equal(await w.devices.find('v4-dev-2'), undefined);
  } finally {
    await w.storage.certificates.updateStatus(internal.id, 'REVOKED', { status: internal.status, revokedAt: null, revocationReason: null });
  }
});

test('while the bus link is down no checked certificate is remembered; back up, it starts empty', async () => {
  const listeners = new Set<(up: boolean) => void>();
  const bus = Object.assign(Object.create(w.bus) as typeof w.bus, {
    subscribe: w.bus.subscribe.bind(w.bus),
    onLinkChange: (l: (up: boolean) => void) => (listeners.add(l), () => void listeners.delete(l)),
  });
  const link = (up: boolean) => listeners.forEach((l) => l(up));
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const verified = new VerifiedDmsCertificates(clock);
  const stop = await verified.follow(bus, 'replica-link');
  const der = new Uint8Array([1, 2, 3]);
  const cert = { serialNumber: 'aa', der, notAfter: new Date(Date.UTC(2027, 0, 1)) } as Parameters<VerifiedDmsCertificates['remember']>[1];
  const dms = { id: 'd', certificate: { serialNumber: 'aa', issuerCaId: 'x' } } as Parameters<VerifiedDmsCertificates['holds']>[0];
  try {
    verified.remember('d', cert, verified.snapshot());
    assert.equal(verified.holds(dms, der), true);
    link(false);
    assert.equal(verified.holds(dms, der), false, 'forgotten when the link goes down');
    verified.remember('d', cert, verified.snapshot());
    assert.equal(verified.holds(dms, der), false, 'nothing remembered while it is down');
    link(true);
    verified.remember('d', cert, verified.snapshot());
    assert.equal(verified.holds(dms, der), true, 'remembered again once it is back');
  } finally {
    await stop();
    assert.equal(listeners.size, 0);
  }
});
