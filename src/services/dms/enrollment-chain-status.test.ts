/**
 * Issue 9 item 1: every certificate of an authentication path, leaf first, is checked for its status
 * (revoked, on hold, expired, not yet valid) in every mode that authenticates by certificate: bootstrap
 * certificates (CLIENT_CERTIFICATE), DMS certificates (DMS_CERTIFICATE) and re-enrollment, for chains of
 * depth 1, 2 and 3, on SQLite and PostgreSQL. Each case builds a PKI of its own, so that revocations
 * (which cascade) never reach another case; each refusal must leave nothing issued and no device.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CertificateAuthority } from '../../domain/ca/ca.ts';
import type { Certificate } from '../../domain/ca/certificate.ts';
import { DMS_MANAGER_CA_NAME } from '../../domain/ca/ca.ts';
import { DomainError } from '../../domain/errors.ts';
import { DAY, forEachEnrollmentWorld, type EnrollmentWorld } from '../../../test/support/enrollment-fixture.ts';

type Fault = 'REVOKED' | 'ON_HOLD' | 'EXPIRED' | 'NOT_YET_VALID';
const LEAF_FAULTS: Fault[] = ['REVOKED', 'ON_HOLD', 'EXPIRED', 'NOT_YET_VALID'];
/** A CA's status is set by an operator (time would expire the leaf first). */
const CA_FAULTS: Fault[] = ['REVOKED', 'ON_HOLD'];
const DEPTHS = [1, 2, 3];

const reasonOf = (fault: Fault) => (fault === 'ON_HOLD' ? ('CertificateHold' as const) : ('KeyCompromise' as const));

/** Root first; the last CA issues the leaf. Depth d: the leaf and d-1 intermediates under the root. */
async function hierarchy(w: EnrollmentWorld, prefix: string, depth: number): Promise<CertificateAuthority[]> {
  const cas: CertificateAuthority[] = [];
  for (let level = 0; level < depth; level++) {
    cas.push(
      await w.ca.createCa({
        id: `${prefix}-l${level}`,
        ...(level > 0 ? { parentId: cas[level - 1]!.id } : {}),
        subject: { common_name: `${prefix} level ${level}` },
        keySpec: { type: 'ECDSA', bits: 256 },
        validity: { type: 'Duration', duration: `${10 - level}y` },
        actor: 'test',
      }),
    );
  }
  return cas;
}

/** What the client sends: the leaf, then the intermediates, issuing CA first (the root is the anchor). */
const presented = (leaf: Certificate, cas: CertificateAuthority[]) => [leaf.der, ...cas.slice(1).reverse().map((ca) => ca.certificate.der)];

/** Puts the fault in place; returns what undoes the clock part. */
async function applyLeafFault(w: EnrollmentWorld, leaf: Certificate, fault: Fault): Promise<void> {
  if (fault === 'REVOKED' || fault === 'ON_HOLD') {
    await w.gateway.revoke({ serialNumber: leaf.serialNumber, issuerCaId: leaf.issuerCaId!, reason: reasonOf(fault), actor: 'test' });
  } else if (fault === 'EXPIRED') w.clock.set(leaf.notAfter.getTime() + DAY);
  else w.clock.set(leaf.notBefore.getTime() - DAY);
  await w.bus.idle();
}

async function applyCaFault(w: EnrollmentWorld, ca: CertificateAuthority, fault: Fault): Promise<void> {
  await w.ca.updateCaStatus({ id: ca.id, request: { status: 'REVOKED', reason: reasonOf(fault) }, actor: 'test' });
  await w.bus.idle();
}

/** The refusal: the code of the fault, the failing certificate named, nothing issued by `issuingCaId`, the device unchanged. */
async function refused(w: EnrollmentWorld, attempt: () => Promise<unknown>, code: string, serialNumber: string, issuingCaId: string, deviceId: string) {
  const issued = await w.issuedBy(issuingCaId);
  const device = await w.devices.find(deviceId);
  await assert.rejects(attempt(), (e: unknown) => {
    assert.ok(e instanceof DomainError, String(e));
    assert.equal(e.code, code, e.message);
    assert.equal(e.details?.serialNumber, serialNumber, `the failing certificate is named: ${e.message}`);
    return true;
  });
  assert.equal(await w.issuedBy(issuingCaId), issued, `${code}: nothing issued`);
  assert.deepEqual(await w.devices.find(deviceId), device, `${code}: device unchanged`);
}

forEachEnrollmentWorld('certificate authentication checks every certificate of the path', (world, kind) => {
  let n = 0;
  const unique = (what: string) => `${kind[0]}${what}${++n}`;

  /** Runs `fn` and puts the clock back. */
  const keepClock = async (fn: () => Promise<void>) => {
    const w = world();
    const saved = w.clock.now();
    try {
      await fn();
    } finally {
      w.clock.set(saved);
    }
  };

  for (const depth of DEPTHS) {
    test(`CLIENT_CERTIFICATE, depth ${depth}: a valid bootstrap chain enrolls; a revoked, held, expired or not yet valid certificate anywhere on it is refused, leaf first`, async () => {
      const w = world();
      const bootstrap = async (fault: string) => {
        const cas = await hierarchy(w, unique(`cc${depth}${fault}`), depth);
        const dmsId = unique('cc-dms');
        await w.createDms(dmsId, w.settings({ authMode: 'CLIENT_CERTIFICATE', clientCertificate: { validationCaIds: [cas[0]!.id], allowExpired: false } }));
        const deviceId = unique('cc-dev');
        const leaf = await w.issueDirect(cas.at(-1)!.id, deviceId, '1d');
        const enroll = async () => w.enrollment.enroll({ label: dmsId, csrDer: await w.csr(deviceId), credentials: { clientCertificateChain: presented(leaf, cas) } });
        return { cas, leaf, deviceId, enroll };
      };
      const ok = await bootstrap('ok');
      assert.equal((await ok.enroll()).deviceId, ok.deviceId);

      for (const fault of LEAF_FAULTS) {
        await keepClock(async () => {
          const b = await bootstrap(`leaf${fault}`);
          await applyLeafFault(w, b.leaf, fault);
          await refused(w, b.enroll, `ENROLL_CLIENT_CERTIFICATE_${fault}`, b.leaf.serialNumber, 'factory-ca', b.deviceId);
        });
      }
      for (let level = 0; level < depth; level++) {
        for (const fault of CA_FAULTS) {
          const b = await bootstrap(`ca${level}${fault}`);
          await applyCaFault(w, b.cas[level]!, fault);
          // A final revocation cascades to the leaf, which is checked first; a hold does not.
          const failing = fault === 'REVOKED' ? b.leaf.serialNumber : b.cas[level]!.certificate.serialNumber;
          await refused(w, b.enroll, `ENROLL_CLIENT_CERTIFICATE_${fault}`, failing, 'factory-ca', b.deviceId);
        }
      }
    });

    test(`re-enrollment, depth ${depth}: a valid device certificate renews; a revoked, held, expired or not yet valid certificate anywhere on its path is refused, leaf first`, async () => {
      const w = world();
      const enrolled = async (fault: string) => {
        const cas = await hierarchy(w, unique(`re${depth}${fault}`), depth);
        const issuing = cas.at(-1)!;
        const dmsId = unique('re-dms');
        const reenrollment = { windowMs: 400 * DAY, allowExpired: false, revokeSuperseded: true, additionalValidationCaIds: [] };
        await w.createDms(dmsId, w.settings({ enrollmentCaId: issuing.id }, { reenrollment }), [issuing.id]);
        const deviceId = unique('re-dev');
        const leaf = (await w.enrollment.enroll({ label: dmsId, csrDer: await w.csr(deviceId), credentials: {} })).certificate;
        const reenroll = async () => w.enrollment.reenroll({ label: dmsId, csrDer: await w.csr(deviceId), credentials: { clientCertificateChain: presented(leaf, cas) } });
        return { cas, issuing, leaf, deviceId, reenroll };
      };
      const ok = await enrolled('ok');
      assert.notEqual((await ok.reenroll()).certificate.serialNumber, ok.leaf.serialNumber);

      for (const fault of LEAF_FAULTS) {
        await keepClock(async () => {
          const e = await enrolled(`leaf${fault}`);
          await applyLeafFault(w, e.leaf, fault);
          await refused(w, e.reenroll, `REENROLL_CERTIFICATE_${fault}`, e.leaf.serialNumber, e.issuing.id, e.deviceId);
        });
      }
      for (let level = 0; level < depth; level++) {
        for (const fault of CA_FAULTS) {
          const e = await enrolled(`ca${level}${fault}`);
          await applyCaFault(w, e.cas[level]!, fault);
          const failing = fault === 'REVOKED' ? e.leaf.serialNumber : e.cas[level]!.certificate.serialNumber;
          await refused(w, e.reenroll, `REENROLL_CERTIFICATE_${fault}`, failing, e.issuing.id, e.deviceId);
        }
      }
    });
  }

  // DMS certificates are issued straight by the internal root CA: the path is the DMS certificate and that
  // CA, whether the client sends the CA's certificate along (depth 2) or not (depth 1).
  for (const depth of [1, 2]) {
    test(`DMS_CERTIFICATE, depth ${depth}: the current DMS certificate enrolls; revoked, held, expired, not yet valid, or its CA revoked or held: refused`, async () => {
      const w = world();
      const internal = await w.gateway.dmsManagerCa();
      const dmsWithCertificate = async () => {
        const dmsId = unique('dm-dms');
        await w.createDms(dmsId, w.settings({ authMode: 'DMS_CERTIFICATE' }));
        const cert = (await w.dms.issueCertificate(dmsId, { keySpec: { type: 'ECDSA', bits: 256 } }, 'admin')).certificate;
        const deviceId = unique('dm-dev');
        const chain = depth === 1 ? [cert.der] : [cert.der, internal.certificate.der];
        const enroll = async () => w.enrollment.enroll({ label: dmsId, csrDer: await w.csr(deviceId), credentials: { clientCertificateChain: chain } });
        return { cert, deviceId, enroll };
      };
      const ok = await dmsWithCertificate();
      assert.equal((await ok.enroll()).deviceId, ok.deviceId);

      for (const fault of LEAF_FAULTS) {
        await keepClock(async () => {
          const d = await dmsWithCertificate();
          await applyLeafFault(w, d.cert, fault);
          await refused(w, d.enroll, `ENROLL_DMS_CERTIFICATE_${fault}`, d.cert.serialNumber, 'factory-ca', d.deviceId);
        });
      }
      // The internal CA's own status, as the CA service's storage would hold it (its API refuses to change it).
      for (const fault of CA_FAULTS) {
        const d = await dmsWithCertificate();
        const row = internal.certificate;
        const change = { status: 'REVOKED' as const, revokedAt: w.clock.now(), revocationReason: reasonOf(fault) };
        assert.ok(await w.storage.certificates.updateStatus(row.id, row.status, change));
        try {
          await refused(w, d.enroll, `ENROLL_DMS_CERTIFICATE_${fault}`, row.serialNumber, 'factory-ca', d.deviceId);
        } finally {
          await w.storage.certificates.updateStatus(row.id, 'REVOKED', { status: row.status, revokedAt: null, revocationReason: null });
        }
      }
      assert.equal((await w.gateway.getCa(DMS_MANAGER_CA_NAME))?.certificate.status, 'ACTIVE');
    });
  }

  test('re-enrollment with a forged copy of the device certificate (same serial and subject, not the certificate issued): 401 REENROLL_CERTIFICATE_MISMATCH', async () => {
    const w = world();
    const dmsId = unique('forge-dms');
    await w.createDms(dmsId, w.settings({}, { reenrollment: { windowMs: 400 * DAY, allowExpired: false, revokeSuperseded: true, additionalValidationCaIds: [] } }));
    const deviceId = unique('forge-dev');
    const leaf = (await w.enrollment.enroll({ label: dmsId, csrDer: await w.csr(deviceId), credentials: {} })).certificate;
    const forged = new Uint8Array(leaf.der);
    forged[forged.length - 5]! ^= 0xff; // inside the signature value: same serial, same subject, bad signature
    const device = await w.devices.find(deviceId);
    const before = await w.issuedBy('factory-ca');
    await assert.rejects(
      async () => w.enrollment.reenroll({ label: dmsId, csrDer: await w.csr(deviceId), credentials: { clientCertificateChain: [forged] } }),
      (e: unknown) => e instanceof DomainError && e.code === 'REENROLL_CERTIFICATE_MISMATCH' && e.kind === 'unauthenticated',
    );
    assert.equal(await w.issuedBy('factory-ca'), before);
    assert.deepEqual(await w.devices.find(deviceId), device);
    // The genuine certificate still renews; afterwards it is superseded (409), and a forged copy of it is still a 401.
    await w.enrollment.reenroll({ label: dmsId, csrDer: await w.csr(deviceId), credentials: { clientCertificateChain: [leaf.der] } });
    await assert.rejects(
      async () => w.enrollment.reenroll({ label: dmsId, csrDer: await w.csr(deviceId), credentials: { clientCertificateChain: [leaf.der] } }),
      (e: unknown) => e instanceof DomainError && e.code === 'REENROLL_CERTIFICATE_SUPERSEDED',
    );
    await assert.rejects(
      async () => w.enrollment.reenroll({ label: dmsId, csrDer: await w.csr(deviceId), credentials: { clientCertificateChain: [forged] } }),
      (e: unknown) => e instanceof DomainError && e.code === 'REENROLL_CERTIFICATE_MISMATCH',
    );
  });
});
