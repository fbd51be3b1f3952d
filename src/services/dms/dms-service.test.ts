import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { after, before, test } from 'node:test';
import { DMS_MANAGER_CA_NAME } from '../../domain/ca/ca.ts';
import { DomainError } from '../../domain/errors.ts';
import { parseCertificate } from '../../x509/certificate.ts';
import { enrollmentWorld, type EnrollmentWorld } from '../../../test/support/enrollment-fixture.ts';

const isCode = (code: string) => (e: unknown) => e instanceof DomainError && e.code === code;

let w: EnrollmentWorld;
before(async () => {
  w = await enrollmentWorld();
  await w.ca.ensureInternalCa();
});
after(async () => w?.dispose());

test('create validates the definition: enrollment CA authorized, CAs exist and are not internal, ids unique across DMSs and CAs', async () => {
  const bad: [string, () => Promise<unknown>, string][] = [
    ['enrollment CA not authorized', () => w.createDms('d1', w.settings(), ['other-ca']), 'DMS_ENROLLMENT_CA_NOT_AUTHORIZED'],
    ['unknown CA', () => w.createDms('d1', w.settings(), ['factory-ca', 'nope']), 'DMS_CA_UNKNOWN'],
    ['internal CA', () => w.createDms('d1', w.settings(), ['factory-ca', DMS_MANAGER_CA_NAME]), 'DMS_INTERNAL_CA_REFUSED'],
    ['internal enrollment CA', () => w.createDms('d1', w.settings({ enrollmentCaId: DMS_MANAGER_CA_NAME }), [DMS_MANAGER_CA_NAME]), 'DMS_INTERNAL_CA_REFUSED'],
    ['unknown validation CA', () => w.createDms('d1', w.settings({ authMode: 'CLIENT_CERTIFICATE', clientCertificate: { validationCaIds: ['nope'], allowExpired: false } })), 'DMS_CA_UNKNOWN'],
    ['client certificate without validation CA', () => w.createDms('d1', w.settings({ authMode: 'CLIENT_CERTIFICATE' })), 'DMS_SETTINGS_INVALID'],
    ['basic without password', () => w.createDms('d1', w.settings({ authMode: 'HTTP_BASIC', httpBasic: { username: 'u' } })), 'DMS_SETTINGS_INVALID'],
    ['basic short password', () => w.createDms('d1', w.settings({ authMode: 'HTTP_BASIC', httpBasic: { username: 'u', password: 'short' } })), 'DMS_SETTINGS_INVALID'],
    ['webhook without URL', () => w.createDms('d1', w.settings({ authMode: 'EXTERNAL_WEBHOOK' })), 'DMS_SETTINGS_INVALID'],
    ['webhook ftp URL', () => w.createDms('d1', w.settings({ authMode: 'EXTERNAL_WEBHOOK', webhook: { url: 'ftp://x', timeoutMs: 1000 } })), 'DMS_SETTINGS_INVALID'],
    ['bad id', () => w.createDms('has/slash'), 'DMS_ID_INVALID'],
    ['id of a CA', () => w.createDms('factory-ca'), 'DMS_EXISTS'],
    [
      'keygen default not allowed',
      () => w.createDms('d1', w.settings({}, { serverKeygen: { enabled: true, defaultKey: { type: 'RSA', bits: 4096 }, allowedKeys: [{ type: 'ECDSA', bits: 256 }] } })),
      'DMS_SETTINGS_INVALID',
    ],
    ['keygen odd size', () => w.createDms('d1', w.settings({}, { serverKeygen: { enabled: true, defaultKey: { type: 'ECDSA', bits: 255 }, allowedKeys: [] } })), 'DMS_SETTINGS_INVALID'],
  ];
  for (const [name, run, code] of bad) await assert.rejects(run(), isCode(code), name);
  assert.equal((await w.dms.stats()).total, 0);

  await w.createDms('d1');
  await assert.rejects(w.createDms('d1'), isCode('DMS_EXISTS'));
  await assert.rejects(w.dms.get('ghost'), isCode('DMS_NOT_FOUND'));
  assert.equal((await w.dms.stats()).total, 1);
  await w.bus.idle();
  assert.ok(w.published.includes('dms.create@admin'));
});

test('HTTP Basic password is stored only as a hash and kept when an update omits it', async () => {
  const d = await w.createDms('basic-1', w.settings({ authMode: 'HTTP_BASIC', httpBasic: { username: 'factory', password: 'correct horse' } }));
  const hash = d.settings.enrollment.httpBasic?.passwordHash ?? '';
  assert.match(hash, /^scrypt\$/);
  const raw = JSON.stringify(await w.storage.dms.get('basic-1'));
  assert.ok(!raw.includes('correct horse'));
  const updated = await w.dms.update('basic-1', { name: 'renamed', authorizedCaIds: ['factory-ca'], settings: w.settings({ authMode: 'HTTP_BASIC', httpBasic: { username: 'factory' } }) }, 'admin');
  assert.equal(updated.settings.enrollment.httpBasic?.passwordHash, hash);
  assert.equal(updated.name, 'renamed');
  assert.equal(await w.deps.passwords.verify('correct horse', hash), true);
  assert.equal(await w.deps.passwords.verify('wrong horse!', hash), false);
});

test('authorized CAs: add, remove, refuse internal and unknown, keep the enrollment CA', async () => {
  await w.createDms('cas-1');
  const added = await w.dms.addAuthorizedCa('cas-1', 'other-ca', 'admin');
  assert.deepEqual(added.authorizedCaIds, ['factory-ca', 'other-ca']);
  await assert.rejects(w.dms.addAuthorizedCa('cas-1', DMS_MANAGER_CA_NAME, 'admin'), isCode('DMS_INTERNAL_CA_REFUSED'));
  await assert.rejects(w.dms.addAuthorizedCa('cas-1', 'nope', 'admin'), isCode('DMS_CA_UNKNOWN'));
  await assert.rejects(w.dms.removeAuthorizedCa('cas-1', 'factory-ca', 'admin'), isCode('DMS_ENROLLMENT_CA_REMOVAL'));
  await assert.rejects(w.dms.removeAuthorizedCa('cas-1', 'idevid-ca', 'admin'), isCode('DMS_CA_NOT_AUTHORIZED'));
  assert.deepEqual((await w.dms.removeAuthorizedCa('cas-1', 'other-ca', 'admin')).authorizedCaIds, ['factory-ca']);
});

test('metadata: PUT replaces, PATCH merges and deletes keys set to null', async () => {
  await w.dms.create({ id: 'meta-1', name: 'm', metadata: { a: 1, b: 2 }, authorizedCaIds: ['factory-ca'], settings: w.settings() }, 'admin');
  assert.deepEqual((await w.dms.updateMetadata('meta-1', { b: null, c: 3 }, true, 'admin')).metadata, { a: 1, c: 3 });
  assert.deepEqual((await w.dms.updateMetadata('meta-1', { z: 1 }, false, 'admin')).metadata, { z: 1 });
});

test('DMS certificate: server-generated key returned once, issued by LAMASSU-DMS-MANAGER; re-issue revokes the previous; revoke', async () => {
  await w.createDms('cert-1');
  const first = await w.dms.issueCertificate('cert-1', { keySpec: { type: 'ECDSA', bits: 256 } }, 'admin');
  assert.ok(first.privateKeyPkcs8);
  createPrivateKey({ key: Buffer.from(first.privateKeyPkcs8), format: 'der', type: 'pkcs8' });
  assert.equal(first.certificate.issuerCaId, DMS_MANAGER_CA_NAME);
  assert.equal(parseCertificate(first.certificate.der).subject.common_name, 'cert-1');
  assert.equal(first.chain.length, 1);
  assert.deepEqual((await w.dms.get('cert-1')).certificate, { serialNumber: first.certificate.serialNumber, issuerCaId: DMS_MANAGER_CA_NAME });
  assert.ok(!JSON.stringify(await w.storage.dms.get('cert-1')).includes(Buffer.from(first.privateKeyPkcs8).toString('base64').slice(0, 40)));

  const second = await w.dms.issueCertificate('cert-1', { csrDer: await w.csr('cert-1') }, 'admin');
  assert.equal(second.privateKeyPkcs8, undefined);
  const old = await w.gateway.getCertificate(first.certificate.serialNumber, DMS_MANAGER_CA_NAME);
  assert.equal(old?.status, 'REVOKED');
  assert.equal(old?.revocationReason, 'Superseded');
  assert.equal((await w.dms.certificateOf('cert-1'))?.status, 'ACTIVE');

  await assert.rejects(w.dms.revokeCertificate('cert-1', 'Bogus', 'admin'), isCode('REVOCATION_REASON_INVALID'));
  const revoked = await w.dms.revokeCertificate('cert-1', 'KeyCompromise', 'admin');
  assert.equal(revoked.status, 'REVOKED');
  await assert.rejects(w.dms.revokeCertificate('meta-1', undefined, 'admin'), isCode('DMS_CERTIFICATE_MISSING'));
  await assert.rejects(w.dms.issueCertificate('cert-1', { csrDer: Uint8Array.of(1, 2, 3) }, 'admin'), isCode('CSR_MALFORMED'));
  await assert.rejects(w.dms.issueCertificate('cert-1', { keySpec: { type: 'RSA', bits: 1024 } }, 'admin'), isCode('DMS_SETTINGS_INVALID'));
});

test('delete revokes the DMS certificate and frees the id', async () => {
  await w.createDms('del-1');
  const { certificate } = await w.dms.issueCertificate('del-1', { keySpec: { type: 'ECDSA', bits: 256 } }, 'admin');
  await w.dms.delete('del-1', 'admin');
  await assert.rejects(w.dms.get('del-1'), isCode('DMS_NOT_FOUND'));
  assert.equal((await w.gateway.getCertificate(certificate.serialNumber, DMS_MANAGER_CA_NAME))?.revocationReason, 'CessationOfOperation');
});
