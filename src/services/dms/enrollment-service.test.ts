import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { DomainError } from '../../domain/errors.ts';
import { parseCertificate } from '../../x509/certificate.ts';
import { sequence, tlv } from '../../x509/der.ts';
import { DAY, enrollmentWorld, type EnrollmentWorld } from '../../../test/support/enrollment-fixture.ts';

const isCode = (code: string) => (e: unknown) => e instanceof DomainError && e.code === code;

let w: EnrollmentWorld;
before(async () => {
  w = await enrollmentWorld();
});
after(async () => w?.dispose());

/** Runs `refused` and checks it fails with `code` and leaves no certificate and no device behind. */
async function refusedWithoutTrace(refused: () => Promise<unknown>, code: string, deviceId?: string) {
  const before = await w.issuedBy('factory-ca');
  const deviceBefore = deviceId ? await w.devices.find(deviceId) : undefined;
  await assert.rejects(refused(), isCode(code));
  assert.equal(await w.issuedBy('factory-ca'), before, `${code}: nothing issued`);
  if (deviceId) assert.deepEqual(await w.devices.find(deviceId), deviceBefore, `${code}: device unchanged`);
}

const dmsCert = async (id: string) => (await w.dms.issueCertificate(id, { keySpec: { type: 'ECDSA', bits: 256 } }, 'admin')).certificate.der;

describe('DMS_CERTIFICATE (the seed default) and CA labels', () => {
  test('enrolls a new device (JITP) under the enrollment CA; events carry the DMS as actor', async () => {
    await w.createDms('f1', w.settings({ authMode: 'DMS_CERTIFICATE' }));
    const cert = await dmsCert('f1');
    const res = await w.enrollment.enroll({ label: 'f1', csrDer: await w.csr('dev-1'), credentials: { clientCertificateChain: [cert] } });
    assert.equal(res.deviceId, 'dev-1');
    assert.equal(res.certificate.issuerCaId, 'factory-ca');
    assert.deepEqual(res.chain, [w.factoryCa.certificate.der]);
    const device = await w.devices.get('dev-1');
    assert.equal(device.status, 'FULLY_PROVISIONED');
    assert.equal(device.dmsId, 'f1');
    assert.deepEqual(device.tags, ['jitp']);
    assert.deepEqual(device.slots.map((s) => [s.name, s.active.serialNumber]), [['default', res.certificate.serialNumber]]);
    await w.bus.idle();
    for (const e of ['dms.enroll@dms:f1', 'device.create@dms:f1', 'device.status.update@dms:f1']) assert.ok(w.published.includes(e), e);
  });

  test('refused without trace: no client certificate, another DMS certificate, a bootstrap certificate, a revoked or expired DMS certificate', async () => {
    await w.createDms('f2', w.settings({ authMode: 'DMS_CERTIFICATE' }));
    const f2 = await dmsCert('f2');
    const f1 = (await w.dms.certificateOf('f1'))!.der;
    const csr = await w.csr('dev-2');
    await refusedWithoutTrace(() => w.enrollment.enroll({ label: 'f2', csrDer: csr, credentials: {} }), 'ENROLL_UNAUTHENTICATED', 'dev-2');
    await refusedWithoutTrace(() => w.enrollment.enroll({ label: 'f2', csrDer: csr, credentials: { clientCertificateChain: [f1] } }), 'ENROLL_DMS_CERTIFICATE_INVALID', 'dev-2');
    const bootstrap = await w.issueDirect('idevid-ca', 'dev-2');
    await refusedWithoutTrace(() => w.enrollment.enroll({ label: 'f2', csrDer: csr, credentials: { clientCertificateChain: [bootstrap.der] } }), 'ENROLL_DMS_CERTIFICATE_INVALID', 'dev-2');
    await refusedWithoutTrace(
      () => w.enrollment.enroll({ label: 'f2', csrDer: csr, credentials: { clientCertificateChain: [Uint8Array.of(0x30, 0x00)] } }),
      'ENROLL_CLIENT_CERTIFICATE_INVALID',
      'dev-2',
    );
    await w.dms.revokeCertificate('f2', 'KeyCompromise', 'admin');
    await refusedWithoutTrace(() => w.enrollment.enroll({ label: 'f2', csrDer: csr, credentials: { clientCertificateChain: [f2] } }), 'ENROLL_DMS_CERTIFICATE_REVOKED', 'dev-2');

    await w.createDms('f3', w.settings({ authMode: 'DMS_CERTIFICATE' }));
    const f3 = await dmsCert('f3');
    const saved = w.clock.now();
    w.clock.advance(400 * DAY);
    await refusedWithoutTrace(() => w.enrollment.enroll({ label: 'f3', csrDer: csr, credentials: { clientCertificateChain: [f3] } }), 'ENROLL_DMS_CERTIFICATE_EXPIRED', 'dev-2');
    w.clock.set(saved);
  });

  test('a CA label needs a DMS certificate of a DMS authorized for that CA', async () => {
    const f1 = (await w.dms.certificateOf('f1'))!.der;
    const ok = await w.enrollment.enroll({ label: 'factory-ca', csrDer: await w.csr('dev-ca-1'), credentials: { clientCertificateChain: [f1] } });
    assert.equal(ok.certificate.issuerCaId, 'factory-ca');
    assert.equal((await w.devices.get('dev-ca-1')).dmsId, 'f1');
    const before = await w.issuedBy('other-ca');
    await assert.rejects(
      w.enrollment.enroll({ label: 'other-ca', csrDer: await w.csr('dev-ca-2'), credentials: { clientCertificateChain: [f1] } }),
      isCode('ENROLL_CA_NOT_AUTHORIZED'),
    );
    assert.equal(await w.issuedBy('other-ca'), before);
    const bootstrap = await w.issueDirect('idevid-ca', 'dev-ca-2');
    await refusedWithoutTrace(
      () => w.enrollment.enroll({ label: 'factory-ca', csrDer: bootstrap.der, credentials: { clientCertificateChain: [bootstrap.der] } }),
      'CSR_MALFORMED',
    );
    await refusedWithoutTrace(
      () => w.enrollment.enroll({ label: 'factory-ca', csrDer: ok.certificate.der.length ? new Uint8Array(0) : new Uint8Array(0), credentials: {} }),
      'CSR_MALFORMED',
    );
    const csr = await w.csr('dev-ca-2');
    await refusedWithoutTrace(() => w.enrollment.enroll({ label: 'factory-ca', csrDer: csr, credentials: { clientCertificateChain: [bootstrap.der] } }), 'ENROLL_DMS_CERTIFICATE_INVALID', 'dev-ca-2');
    await refusedWithoutTrace(() => w.enrollment.enroll({ label: 'factory-ca', csrDer: csr, credentials: {} }), 'ENROLL_UNAUTHENTICATED', 'dev-ca-2');
    await assert.rejects(w.enrollment.enroll({ label: 'nothing', csrDer: csr, credentials: {} }), isCode('ENROLL_LABEL_NOT_FOUND'));
    await assert.rejects(w.enrollment.enroll({ label: 'LAMASSU-DMS-MANAGER', csrDer: csr, credentials: {} }), isCode('ENROLL_LABEL_NOT_FOUND'));
    await assert.rejects(w.enrollment.enroll({ csrDer: csr, credentials: {} }), isCode('ENROLL_LABEL_NOT_FOUND'));
  });
});

describe('HTTP_BASIC, CLIENT_CERTIFICATE, EXTERNAL_WEBHOOK', () => {
  test('HTTP Basic: right credentials enroll; none or wrong ones are refused without trace', async () => {
    await w.createDms('b1', w.settings({ authMode: 'HTTP_BASIC', httpBasic: { username: 'line-1', password: 's3cret-pass' } }));
    const res = await w.enrollment.enroll({ label: 'b1', csrDer: await w.csr('dev-b1'), credentials: { basic: { username: 'line-1', password: 's3cret-pass' } } });
    assert.equal(res.dmsId, 'b1');
    const csr = await w.csr('dev-b2');
    await assert.rejects(
      w.enrollment.enroll({ label: 'b1', csrDer: csr, credentials: {} }),
      (e: unknown) => e instanceof DomainError && e.code === 'ENROLL_UNAUTHENTICATED' && e.kind === 'unauthenticated' && e.details?.basicRealm === 'b1',
    );
    await refusedWithoutTrace(() => w.enrollment.enroll({ label: 'b1', csrDer: csr, credentials: { basic: { username: 'line-1', password: 'wrong-pass' } } }), 'ENROLL_AUTH_FAILED', 'dev-b2');
    await refusedWithoutTrace(() => w.enrollment.enroll({ label: 'b1', csrDer: csr, credentials: { basic: { username: 'line-2', password: 's3cret-pass' } } }), 'ENROLL_AUTH_FAILED', 'dev-b2');
  });

  test('client certificate: chains to a validation CA (directly or through a sent intermediate); untrusted, revoked and expired refused', async () => {
    const sub = await w.ca.createCa({ id: 'idevid-sub', parentId: 'idevid-ca', subject: { common_name: 'IDevID Sub' }, keySpec: { type: 'ECDSA', bits: 256 }, validity: { type: 'Duration', duration: '5y' }, actor: 'test' });
    await w.createDms('c1', w.settings({ authMode: 'CLIENT_CERTIFICATE', clientCertificate: { validationCaIds: ['idevid-ca'], allowExpired: false } }));
    const direct = await w.issueDirect('idevid-ca', 'dev-c1');
    await w.enrollment.enroll({ label: 'c1', csrDer: await w.csr('dev-c1'), credentials: { clientCertificateChain: [direct.der] } });
    const viaSub = await w.issueDirect(sub.id, 'dev-c2');
    await w.enrollment.enroll({ label: 'c1', csrDer: await w.csr('dev-c2'), credentials: { clientCertificateChain: [viaSub.der, sub.certificate.der] } });
    const csr = await w.csr('dev-c3');
    await refusedWithoutTrace(() => w.enrollment.enroll({ label: 'c1', csrDer: csr, credentials: { clientCertificateChain: [viaSub.der] } }), 'ENROLL_CLIENT_CERTIFICATE_UNTRUSTED', 'dev-c3');
    const foreign = await w.issueDirect('other-ca', 'dev-c3');
    await refusedWithoutTrace(() => w.enrollment.enroll({ label: 'c1', csrDer: csr, credentials: { clientCertificateChain: [foreign.der] } }), 'ENROLL_CLIENT_CERTIFICATE_UNTRUSTED', 'dev-c3');
    const revoked = await w.issueDirect('idevid-ca', 'dev-c3');
    await w.gateway.revoke({ serialNumber: revoked.serialNumber, issuerCaId: 'idevid-ca', reason: 'KeyCompromise', actor: 'test' });
    await refusedWithoutTrace(() => w.enrollment.enroll({ label: 'c1', csrDer: csr, credentials: { clientCertificateChain: [revoked.der] } }), 'ENROLL_CLIENT_CERTIFICATE_REVOKED', 'dev-c3');
    const shortLived = await w.issueDirect('idevid-ca', 'dev-c3', '1d');
    const saved = w.clock.now();
    w.clock.advance(2 * DAY);
    await refusedWithoutTrace(() => w.enrollment.enroll({ label: 'c1', csrDer: csr, credentials: { clientCertificateChain: [shortLived.der] } }), 'ENROLL_CLIENT_CERTIFICATE_EXPIRED', 'dev-c3');
    await w.dms.update('c1', { name: 'c1', authorizedCaIds: ['factory-ca'], settings: w.settings({ authMode: 'CLIENT_CERTIFICATE', clientCertificate: { validationCaIds: ['idevid-ca'], allowExpired: true } }) }, 'admin');
    await w.enrollment.enroll({ label: 'c1', csrDer: csr, credentials: { clientCertificateChain: [shortLived.der] } });
    w.clock.set(saved);
  });

  test("client certificate: Lamassu's chain_level_validation limits how many presented certificates reach a validation CA", async () => {
    const sub = await w.ca.getCa('idevid-sub');
    assert.ok(sub);
    const viaSub = await w.issueDirect('idevid-sub', 'dev-lvl-1');
    const direct = await w.issueDirect('idevid-ca', 'dev-lvl-2');
    const settings = (chainLevelValidation: number) => w.settings({ authMode: 'CLIENT_CERTIFICATE', clientCertificate: { validationCaIds: ['idevid-ca'], allowExpired: false, chainLevelValidation } });
    await w.createDms('lvl', settings(1));
    const csr = await w.csr('dev-lvl-1');
    // One level: the leaf itself must be issued by the validation CA; the sub-CA sent along is not used.
    await refusedWithoutTrace(() => w.enrollment.enroll({ label: 'lvl', csrDer: csr, credentials: { clientCertificateChain: [viaSub.der, sub.certificate.der] } }), 'ENROLL_CLIENT_CERTIFICATE_CHAIN_TOO_LONG', 'dev-lvl-1');
    await w.enrollment.enroll({ label: 'lvl', csrDer: await w.csr('dev-lvl-2'), credentials: { clientCertificateChain: [direct.der] } });
    // Still untrusted (not "too long") when no depth would do.
    const foreign = await w.issueDirect('other-ca', 'dev-lvl-1');
    await refusedWithoutTrace(() => w.enrollment.enroll({ label: 'lvl', csrDer: csr, credentials: { clientCertificateChain: [foreign.der] } }), 'ENROLL_CLIENT_CERTIFICATE_UNTRUSTED', 'dev-lvl-1');
    for (const levels of [2, 0, -1]) {
      await w.dms.update('lvl', { name: 'lvl', authorizedCaIds: ['factory-ca'], settings: settings(levels) }, 'admin');
      const fresh = await w.issueDirect('idevid-sub', `dev-lvl-sub${levels}`);
      await w.enrollment.enroll({ label: 'lvl', csrDer: await w.csr(`dev-lvl-sub${levels}`), credentials: { clientCertificateChain: [fresh.der, sub.certificate.der] } });
    }
  });

  describe('external webhook', () => {
    let server: Server;
    let url = '';
    const seen: unknown[] = [];
    before(async () => {
      server = createServer((req, res) => {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          const facts = JSON.parse(body) as { device_id: string };
          seen.push(facts);
          if (facts.device_id === 'slow') return void setTimeout(() => res.end('{"authorized":true}'), 2000);
          if (facts.device_id === 'garbage') return void res.end('not json');
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ authorized: facts.device_id.startsWith('yes') }));
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/authorize`;
    });
    after(() => {
      server.closeAllConnections();
      server.close();
    });

    test('authorized, refused, slow and garbage answers', async () => {
      await w.createDms('wh1', w.settings({ authMode: 'EXTERNAL_WEBHOOK', webhook: { url, timeoutMs: 300 } }));
      await w.enrollment.enroll({ label: 'wh1', csrDer: await w.csr('yes-1'), credentials: {} });
      assert.equal((seen[0] as { dms_id: string }).dms_id, 'wh1');
      assert.match((seen[0] as { csr: string }).csr, /^-----BEGIN CERTIFICATE REQUEST-----/);
      await refusedWithoutTrace(async () => w.enrollment.enroll({ label: 'wh1', csrDer: await w.csr('no-1'), credentials: {} }), 'ENROLL_WEBHOOK_REFUSED', 'no-1');
      await refusedWithoutTrace(async () => w.enrollment.enroll({ label: 'wh1', csrDer: await w.csr('slow'), credentials: {} }), 'ENROLL_WEBHOOK_UNAVAILABLE', 'slow');
      await refusedWithoutTrace(async () => w.enrollment.enroll({ label: 'wh1', csrDer: await w.csr('garbage'), credentials: {} }), 'ENROLL_WEBHOOK_UNAVAILABLE', 'garbage');
      // A named slot: the webhook is told the device and the slot apart.
      await w.enrollment.enroll({ label: 'wh1', csrDer: await w.csr('tls:yes-2'), credentials: {} });
      const last = seen.at(-1) as { device_id: string; slot: string };
      assert.deepEqual([last.device_id, last.slot], ['yes-2', 'tls']);
    });
  });
});

describe('registration, devices and CSRs', () => {
  test("JITP devices get the DMS provisioning profile's tags, metadata, icon and icon colours (Lamassu)", async () => {
    await w.createDms('icon-1', w.settings({ deviceProfile: { tags: ['jitp'], metadata: { line: 1 }, icon: 'CgSmartphoneChip', iconColor: '#0068D1-#FFFFFF' } }));
    await w.enrollment.enroll({ label: 'icon-1', csrDer: await w.csr('icon-dev-1'), credentials: {} });
    const device = await w.devices.get('icon-dev-1');
    assert.deepEqual([device.tags, device.metadata, device.icon, device.iconColor], [['jitp'], { line: 1 }, 'CgSmartphoneChip', '#0068D1-#FFFFFF']);
  });

  test('pre-registration: unknown devices refused without trace; registered ones enroll; other DMSs devices refused', async () => {
    await w.createDms('p1', w.settings({ registrationMode: 'PRE_REGISTRATION' }));
    await refusedWithoutTrace(async () => w.enrollment.enroll({ label: 'p1', csrDer: await w.csr('unknown-1'), credentials: {} }), 'ENROLL_DEVICE_NOT_REGISTERED', 'unknown-1');
    assert.equal(await w.devices.find('unknown-1'), undefined);
    await w.devices.create({ id: 'known-1', dmsId: 'p1', alias: 'pump' }, 'admin');
    assert.equal((await w.devices.get('known-1')).status, 'PENDING_PROVISIONING');
    await w.enrollment.enroll({ label: 'p1', csrDer: await w.csr('known-1'), credentials: {} });
    assert.equal((await w.devices.get('known-1')).status, 'FULLY_PROVISIONED');
    await w.devices.create({ id: 'theirs-1', dmsId: 'f1' }, 'admin');
    await refusedWithoutTrace(async () => w.enrollment.enroll({ label: 'p1', csrDer: await w.csr('theirs-1'), credentials: {} }), 'ENROLL_DEVICE_OWNED_BY_OTHER_DMS', 'theirs-1');
  });

  test('an enrolled slot is not replaced unless the DMS allows it; replacement revokes the old identity; named slots', async () => {
    await w.createDms('r1');
    const first = await w.enrollment.enroll({ label: 'r1', csrDer: await w.csr('rep-1'), credentials: {} });
    await refusedWithoutTrace(async () => w.enrollment.enroll({ label: 'r1', csrDer: await w.csr('rep-1'), credentials: {} }), 'ENROLL_DEVICE_ALREADY_ENROLLED', 'rep-1');
    const tls = await w.enrollment.enroll({ label: 'r1', csrDer: await w.csr('tls:rep-1'), credentials: {} });
    await assert.rejects(w.enrollment.enroll({ label: 'r1', csrDer: await w.csr('Bad_Slot:rep-1'), credentials: {} }), isCode('DEVICE_SLOT_INVALID'));
    await w.dms.update('r1', { name: 'r1', authorizedCaIds: ['factory-ca'], settings: w.settings({ allowReplacement: true }) }, 'admin');
    const second = await w.enrollment.enroll({ label: 'r1', csrDer: await w.csr('rep-1'), credentials: {} });
    const device = await w.devices.get('rep-1');
    const slot = device.slots.find((s) => s.name === 'default')!;
    assert.equal(slot.active.serialNumber, second.certificate.serialNumber);
    assert.deepEqual(slot.archive.map((a) => a.serialNumber), [first.certificate.serialNumber]);
    assert.equal(device.slots.find((s) => s.name === 'tls')?.active.serialNumber, tls.certificate.serialNumber);
    assert.equal((await w.gateway.getCertificate(first.certificate.serialNumber, 'factory-ca'))?.revocationReason, 'Superseded');
    const timeline = (await w.devices.timelineOf('rep-1')).map((e) => e.type);
    assert.deepEqual(timeline, ['CREATED', 'PROVISIONED', 'STATUS-UPDATED', 'PROVISIONED', 'RE-PROVISIONED']);
  });

  test('CSR: bad signature refused (unless the DMS turns the check off), no common name refused, serial_number as device id', async () => {
    await w.createDms('s1');
    const csr = await w.csr('sig-1');
    const tampered = new Uint8Array(csr);
    tampered[tampered.length - 5] ^= 0xff;
    await refusedWithoutTrace(() => w.enrollment.enroll({ label: 's1', csrDer: tampered, credentials: {} }), 'CSR_INVALID_SIGNATURE', 'sig-1');
    await refusedWithoutTrace(async () => w.enrollment.enroll({ label: 's1', csrDer: await w.csr({ organization: 'no cn' }), credentials: {} }), 'ENROLL_DEVICE_ID_MISSING');
    await refusedWithoutTrace(async () => w.enrollment.enroll({ label: 's1', csrDer: await w.csr('bad/id'), credentials: {} }), 'DEVICE_ID_INVALID');
    await w.createDms('s2', w.settings({ deviceIdSource: 'serial_number' }));
    const res = await w.enrollment.enroll({ label: 's2', csrDer: await w.csr({ common_name: 'Pump', serial_number: 'SN0042' }), credentials: {} });
    assert.equal(res.deviceId, 'SN0042');
    assert.deepEqual(await w.enrollment.csrattrs('s2'), { oids: ['2.5.4.5'], key: { type: 'ECDSA', bits: 256 } });
    assert.deepEqual(await w.enrollment.csrattrs('s1'), { oids: [], key: { type: 'ECDSA', bits: 256 } });
  });

  test('serverkeygen: key of the DMS default or an allowed type, returned as PKCS#8 matching the certificate', async () => {
    await w.createDms('k1');
    const res = await w.enrollment.serverKeygen({ label: 'k1', csrDer: await w.csr('kg-1'), credentials: {} });
    const key = createPrivateKey({ key: Buffer.from(res.privateKeyPkcs8), format: 'der', type: 'pkcs8' });
    const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
    assert.deepEqual(new Uint8Array(spki), parseCertificate(res.certificate.der).publicKey.spki);
    assert.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    const rsa = await w.enrollment.serverKeygen({ label: 'k1', csrDer: await w.csr('kg-2'), credentials: {}, keySpec: { type: 'RSA', bits: 2048 } });
    assert.equal(parseCertificate(rsa.certificate.der).publicKey.type, 'RSA');
    assert.equal(parseCertificate(rsa.certificate.der).subject.common_name, 'kg-2');
    await refusedWithoutTrace(async () => w.enrollment.serverKeygen({ label: 'k1', csrDer: await w.csr('kg-3'), credentials: {}, keySpec: { type: 'RSA', bits: 4096 } }), 'SERVER_KEYGEN_KEY_NOT_ALLOWED', 'kg-3');
    await w.createDms('k2', w.settings({}, { serverKeygen: { enabled: false, defaultKey: { type: 'ECDSA', bits: 256 }, allowedKeys: [] } }));
    await refusedWithoutTrace(async () => w.enrollment.serverKeygen({ label: 'k2', csrDer: await w.csr('kg-4'), credentials: {} }), 'SERVER_KEYGEN_DISABLED', 'kg-4');
  });

  test('cacerts: the DMS distribution (enrollment CA and its chain, managed CAs) or a CA label chain', async () => {
    const sub = await w.ca.createCa({ id: 'factory-sub', parentId: 'factory-ca', subject: { common_name: 'Factory Sub' }, keySpec: { type: 'ECDSA', bits: 256 }, validity: { type: 'Duration', duration: '5y' }, actor: 'test' });
    await w.createDms('d-ca', w.settings({ enrollmentCaId: 'factory-sub' }, { caDistribution: { includeEnrollmentCa: true, includeChain: true, managedCaIds: ['idevid-ca', 'factory-ca'] } }), ['factory-sub']);
    assert.deepEqual(await w.enrollment.cacerts('d-ca'), [sub.certificate.der, w.factoryCa.certificate.der, w.idevidCa.certificate.der]);
    assert.deepEqual(await w.enrollment.cacerts('factory-sub'), [sub.certificate.der, w.factoryCa.certificate.der]);
    await w.createDms('d-ca2', w.settings({}, { caDistribution: { includeEnrollmentCa: false, includeChain: false, managedCaIds: ['other-ca'] } }));
    assert.deepEqual(await w.enrollment.cacerts('d-ca2'), [w.otherCa.certificate.der]);
  });
});

describe('re-enrollment (RFC 7030 4.2.2) and device statuses through all five', () => {
  test('window, subject, revoked, expired, superseded; statuses follow certificate events; decommission', async () => {
    await w.createDms('re1', w.settings({ registrationMode: 'PRE_REGISTRATION' }));
    await w.devices.create({ id: 'life-1', dmsId: 're1' }, 'admin');
    assert.equal((await w.devices.get('life-1')).status, 'PENDING_PROVISIONING');
    const san = sequence(tlv(0x82, new TextEncoder().encode('life-1.example')));
    const first = await w.enrollment.enroll({ label: 're1', csrDer: await w.csr('life-1', san), credentials: {} });
    assert.equal((await w.devices.get('life-1')).status, 'FULLY_PROVISIONED');
    const creds = { clientCertificateChain: [first.certificate.der] };

    // One year of validity, a 30-day window: too early now.
    await refusedWithoutTrace(async () => w.enrollment.reenroll({ label: 're1', csrDer: await w.csr('life-1', san), credentials: creds }), 'REENROLL_OUTSIDE_WINDOW', 'life-1');
    await refusedWithoutTrace(async () => w.enrollment.reenroll({ label: 're1', csrDer: await w.csr('life-1', san), credentials: {} }), 'ENROLL_UNAUTHENTICATED', 'life-1');

    w.clock.set(first.certificate.notAfter.getTime() - 20 * DAY);
    await w.sweep();
    assert.equal((await w.devices.get('life-1')).status, 'REQUIRES_ACTION');

    await refusedWithoutTrace(async () => w.enrollment.reenroll({ label: 're1', csrDer: await w.csr('life-2', san), credentials: creds }), 'REENROLL_SUBJECT_MISMATCH', 'life-1');
    await refusedWithoutTrace(async () => w.enrollment.reenroll({ label: 're1', csrDer: await w.csr('life-1'), credentials: creds }), 'REENROLL_SUBJECT_MISMATCH', 'life-1');
    const stranger = await w.issueDirect('factory-ca', 'life-1');
    await refusedWithoutTrace(async () => w.enrollment.reenroll({ label: 're1', csrDer: await w.csr('life-1', san), credentials: { clientCertificateChain: [stranger.der] } }), 'REENROLL_CERTIFICATE_UNKNOWN', 'life-1');

    const second = await w.enrollment.reenroll({ label: 're1', csrDer: await w.csr('life-1', san), credentials: creds });
    await w.bus.idle();
    let device = await w.devices.get('life-1');
    assert.equal(device.status, 'FULLY_PROVISIONED');
    assert.equal(device.slots[0]?.active.serialNumber, second.certificate.serialNumber);
    assert.deepEqual(device.slots[0]?.archive.map((a) => a.serialNumber), [first.certificate.serialNumber]);
    assert.equal((await w.gateway.getCertificate(first.certificate.serialNumber, 'factory-ca'))?.revocationReason, 'Superseded');
    assert.ok(w.published.includes('dms.reenroll@device:life-1'));
    await refusedWithoutTrace(async () => w.enrollment.reenroll({ label: 're1', csrDer: await w.csr('life-1', san), credentials: creds }), 'REENROLL_CERTIFICATE_SUPERSEDED', 'life-1');

    // Expiry: warnings, and no renewal of an expired certificate unless the DMS allows it.
    w.clock.set(second.certificate.notAfter.getTime() + DAY);
    await w.sweep();
    assert.equal((await w.devices.get('life-1')).status, 'PROVISIONED_WITH_WARNINGS');
    const creds2 = { clientCertificateChain: [second.certificate.der] };
    await refusedWithoutTrace(async () => w.enrollment.reenroll({ label: 're1', csrDer: await w.csr('life-1', san), credentials: creds2 }), 'REENROLL_CERTIFICATE_EXPIRED', 'life-1');
    await w.dms.update('re1', { name: 're1', authorizedCaIds: ['factory-ca'], settings: w.settings({ registrationMode: 'PRE_REGISTRATION' }, { reenrollment: { windowMs: 30 * DAY, allowExpired: true, revokeSuperseded: true, additionalValidationCaIds: [] } }) }, 'admin');
    const third = await w.enrollment.reenroll({ label: 're1', csrDer: await w.csr('life-1', san), credentials: creds2 });
    await w.bus.idle();
    assert.equal((await w.devices.get('life-1')).status, 'FULLY_PROVISIONED');

    // Revocation: warnings at once (the event, no scan), and a revoked certificate cannot re-enroll.
    await w.gateway.revoke({ serialNumber: third.certificate.serialNumber, issuerCaId: 'factory-ca', reason: 'KeyCompromise', actor: 'admin' });
    await w.bus.idle();
    assert.equal((await w.devices.get('life-1')).status, 'PROVISIONED_WITH_WARNINGS');
    w.clock.set(third.certificate.notAfter.getTime() - DAY);
    await refusedWithoutTrace(async () => w.enrollment.reenroll({ label: 're1', csrDer: await w.csr('life-1', san), credentials: { clientCertificateChain: [third.certificate.der] } }), 'REENROLL_CERTIFICATE_REVOKED', 'life-1');

    // Decommission: terminal, revokes every slot's certificate, refuses further enrollment.
    const tls = await w.devices.bindCertificate({ deviceId: 'life-1', slot: 'tls', certificate: await w.issueDirect('factory-ca', 'life-1'), kind: 'PROVISIONED', actor: 'test' });
    assert.equal(tls.device.slots.length, 2);
    device = await w.devices.decommission('life-1', 'admin');
    await w.bus.idle();
    assert.equal(device.status, 'DECOMMISSIONED');
    const tlsSerial = device.slots.find((s) => s.name === 'tls')!.active.serialNumber;
    assert.equal((await w.gateway.getCertificate(tlsSerial, 'factory-ca'))?.revocationReason, 'CessationOfOperation');
    assert.equal((await w.devices.get('life-1')).status, 'DECOMMISSIONED');
    await assert.rejects(w.devices.decommission('life-1', 'admin'), isCode('DEVICE_DECOMMISSIONED'));
    await w.dms.update('re1', { name: 're1', authorizedCaIds: ['factory-ca'], settings: w.settings({ registrationMode: 'PRE_REGISTRATION', allowReplacement: true }) }, 'admin');
    await refusedWithoutTrace(async () => w.enrollment.enroll({ label: 're1', csrDer: await w.csr('life-1'), credentials: {} }), 'DEVICE_DECOMMISSIONED', 'life-1');

    const timeline = (await w.devices.timelineOf('life-1')).map((e) => `${e.type}:${e.description}`);
    for (const want of [
      'STATUS-UPDATED:PENDING_PROVISIONING -> FULLY_PROVISIONED',
      'STATUS-UPDATED:FULLY_PROVISIONED -> REQUIRES_ACTION',
      'STATUS-UPDATED:REQUIRES_ACTION -> FULLY_PROVISIONED',
      'STATUS-UPDATED:FULLY_PROVISIONED -> PROVISIONED_WITH_WARNINGS',
      'STATUS-UPDATED:PROVISIONED_WITH_WARNINGS -> FULLY_PROVISIONED',
    ]) {
      assert.ok(timeline.includes(want), want);
    }
    assert.equal(timeline.filter((t) => t.startsWith('RENEWED')).length, 2);
    assert.ok(timeline.at(-1)?.startsWith('DECOMMISSIONED'));
    assert.ok(w.published.includes('device.decommission@admin'));
  });
});

describe('re-enrollment options and races', () => {
  test('CA label re-enrollment; superseded certificate kept when the DMS says so; certificates of other CAs only with additional validation CAs', async () => {
    const keep = { windowMs: 400 * DAY, allowExpired: false, revokeSuperseded: false, additionalValidationCaIds: [] as string[] };
    await w.createDms('keep1', w.settings({}, { reenrollment: keep }), ['factory-ca', 'other-ca']);
    const first = await w.enrollment.enroll({ label: 'keep1', csrDer: await w.csr('keep-1'), credentials: {} });
    const renewed = await w.enrollment.reenroll({ label: 'factory-ca', csrDer: await w.csr('keep-1'), credentials: { clientCertificateChain: [first.certificate.der] } });
    assert.equal(renewed.certificate.issuerCaId, 'factory-ca');
    assert.equal((await w.gateway.getCertificate(first.certificate.serialNumber, 'factory-ca'))?.status, 'ACTIVE');
    await assert.rejects(
      w.enrollment.reenroll({ label: 'idevid-ca', csrDer: await w.csr('keep-1'), credentials: { clientCertificateChain: [renewed.certificate.der] } }),
      isCode('ENROLL_CA_NOT_AUTHORIZED'),
    );
    // Decommissioning revokes the kept superseded certificate as well as the active one.
    await w.devices.decommission('keep-1', 'admin');
    for (const c of [first.certificate, renewed.certificate]) {
      assert.equal((await w.gateway.getCertificate(c.serialNumber, 'factory-ca'))?.revocationReason, 'CessationOfOperation');
    }

    // A slot certificate from another CA re-enrolls only when that CA is an additional validation CA.
    const foreign = await w.issueDirect('other-ca', 'keep-2');
    await w.devices.bindCertificate({ deviceId: 'keep-2', slot: 'default', certificate: foreign, kind: 'PROVISIONED', actor: 'test', createIfMissing: { dmsId: 'keep1' } });
    await refusedWithoutTrace(
      async () => w.enrollment.reenroll({ label: 'keep1', csrDer: await w.csr('keep-2'), credentials: { clientCertificateChain: [foreign.der] } }),
      'REENROLL_CA_NOT_ACCEPTED',
      'keep-2',
    );
    await w.dms.update('keep1', { name: 'keep1', authorizedCaIds: ['factory-ca', 'other-ca'], settings: w.settings({}, { reenrollment: { ...keep, additionalValidationCaIds: ['other-ca'] } }) }, 'admin');
    const moved = await w.enrollment.reenroll({ label: 'keep1', csrDer: await w.csr('keep-2'), credentials: { clientCertificateChain: [foreign.der] } });
    assert.equal(moved.certificate.issuerCaId, 'factory-ca');
  });

  test('a device decommissioned while its certificate is being issued: the orphan certificate is revoked', async () => {
    await w.createDms('race1', w.settings({ registrationMode: 'PRE_REGISTRATION' }));
    await w.devices.create({ id: 'race-1', dmsId: 'race1' }, 'admin');
    const issue = w.gateway.issue;
    let issued: string | undefined;
    w.gateway.issue = async (req) => {
      const cert = await issue(req);
      issued = cert.serialNumber;
      await w.devices.decommission('race-1', 'operator');
      return cert;
    };
    try {
      await assert.rejects(w.enrollment.enroll({ label: 'race1', csrDer: await w.csr('race-1'), credentials: {} }), isCode('DEVICE_DECOMMISSIONED'));
    } finally {
      w.gateway.issue = issue;
    }
    assert.ok(issued);
    assert.equal((await w.gateway.getCertificate(issued, 'factory-ca'))?.status, 'REVOKED');
    assert.deepEqual((await w.devices.get('race-1')).slots, []);
  });
});

test('the DMS issuance profile decides what enrolled devices get; unknown profiles are refused up front', async () => {
  await assert.rejects(w.createDms('prof0', w.settings({}, { issuanceProfileId: 'nope' })), isCode('DMS_PROFILE_UNKNOWN'));
  const { DEFAULT_ISSUANCE_SETTINGS } = await import('../../domain/ca/issuance-profile.ts');
  const profile = await w.ca.createProfile({ name: 'week', settings: { ...DEFAULT_ISSUANCE_SETTINGS, validity: { type: 'Duration', duration: '7d' } }, actor: 'admin' });
  await w.createDms('prof1', w.settings({}, { issuanceProfileId: profile.id }));
  const res = await w.enrollment.enroll({ label: 'prof1', csrDer: await w.csr('prof-dev'), credentials: {} });
  assert.equal(res.certificate.notAfter.getTime() - res.certificate.notBefore.getTime() <= 7 * DAY + 1000, true);
  assert.equal(res.certificate.notAfter.getTime() - w.clock.now().getTime() > 6 * DAY, true);
});
