/**
 * Issue 9 items 1 and 11 against the real `lamassu serve`, with curl and openssl as the only EST clients:
 * - a bootstrap certificate issued by a sub-CA of the DMS's validation root, sent over mTLS with that sub-CA,
 *   enrolls while valid and is refused once revoked or on hold (the leaf's own status, not only the sub-CA's);
 * - a forged copy of a device certificate (same serial and subject, another key and signer) cannot re-enroll;
 * - a CSR common name `<slot>:<device id>` enrolls and renews that slot of the device.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { admin, pemOf } from './est-server.ts';
import { startLamassu, type LamassuProcess } from '../support/lamassu-process.ts';

const run = promisify(execFile);

let server: LamassuProcess;
let dir: string;
const f = (name: string) => path.join(dir, name);
const openssl = async (...args: string[]) => (await run('openssl', args, { cwd: dir, timeout: 20_000 })).stdout;

interface CurlResult {
  status: number;
  body: Buffer;
}

/** POSTs a base64 CSR to an EST operation with curl, presenting `<client>.pem` (leaf first, then its chain) and `<client>.key`. */
async function est(label: string, op: string, csrB64: string, client?: string): Promise<CurlResult> {
  const host = `localhost:${server.httpsPort}`;
  const { stdout } = await run(
    'curl',
    [
      '-sS', '--max-time', '20', '--cacert', server.tlsCaFile, '--resolve', `${host}:127.0.0.1`,
      '-o', f('body.bin'), '-w', '%{http_code}',
      ...(client ? ['--cert', f(`${client}.pem`), '--key', f(`${client}.key`)] : []),
      '-H', 'Content-Type: application/pkcs10', '--data-binary', `@${csrB64}`,
      `https://${host}/.well-known/est/${label}/${op}`,
    ],
    { timeout: 30_000 },
  );
  return { status: Number(stdout), body: readFileSync(f('body.bin')) };
}

/** A P-256 key `<name>.key` and a CSR for `subject` as PEM (`<name>.csr.pem`) and base64 DER (`<name>.csr.b64`). */
async function newCsr(name: string, subject: string, key?: string) {
  const keyFile = key ?? f(`${name}.key`);
  if (!key) await openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile);
  await openssl('req', '-new', '-key', keyFile, '-subj', subject, '-out', f(`${name}.csr.pem`));
  await openssl('req', '-in', f(`${name}.csr.pem`), '-outform', 'DER', '-out', f(`${name}.csr.der`));
  await openssl('base64', '-in', f(`${name}.csr.der`), '-out', f(`${name}.csr.b64`));
  return { key: keyFile, pem: f(`${name}.csr.pem`), b64: f(`${name}.csr.b64`) };
}

/** The certificate of a 200 certs-only answer, written to `<name>.pem`. */
async function issued(res: CurlResult, name: string): Promise<string> {
  assert.equal(res.status, 200, res.body.toString());
  writeFileSync(f(`${name}.p7.b64`), res.body);
  await openssl('base64', '-d', '-in', f(`${name}.p7.b64`), '-out', f(`${name}.p7.der`));
  await openssl('pkcs7', '-inform', 'DER', '-in', f(`${name}.p7.der`), '-print_certs', '-out', f(`${name}.pem`));
  return f(`${name}.pem`);
}

// The CA service spells serials without leading zero nibbles; openssl pads to whole bytes.
const serialOf = async (certFile: string) => (await openssl('x509', '-in', certFile, '-noout', '-serial')).trim().split('=')[1]!.toLowerCase().replace(/^0+(?=.)/, '');
const allCertificates = async () => (await admin(server, 'GET', '/api/ca/v1/certificates?page_size=1000')).json.list.length as number;
const device = async (id: string) => (await admin(server, 'GET', `/api/devmanager/v1/devices/${encodeURIComponent(id)}`, undefined)).json;
const deviceMissing = async (id: string) => (await admin(server, 'GET', `/api/devmanager/v1/devices/${encodeURIComponent(id)}`, undefined, 404)).status === 404;

/** The refusal: status, code first in the plain-text body, nothing issued, no device. */
async function refused(attempt: Promise<CurlResult>, status: number, code: string, deviceId?: string) {
  const before = await allCertificates();
  const res = await attempt;
  assert.equal(res.status, status, res.body.toString());
  assert.ok(res.body.toString().startsWith(`${code}: `), res.body.toString());
  assert.equal(await allCertificates(), before, `${code}: nothing issued`);
  if (deviceId) assert.ok(await deviceMissing(deviceId), `${code}: no device ${deviceId}`);
}

const createCa = (id: string, parentId?: string) =>
  admin(server, 'POST', '/api/ca/v1/cas', {
    id,
    ...(parentId ? { parent_id: parentId } : {}),
    subject: { common_name: `${id} CA` },
    key_metadata: { type: 'ECDSA', bits: 256 },
    ca_expiration: { type: 'Duration', duration: parentId ? '5y' : '10y' },
  });

const dmsBody = (id: string, est: Record<string, unknown>) => ({
  id,
  name: `DMS ${id}`,
  authorized_cas: ['factory-ca'],
  settings: {
    enrollment_settings: { enrollment_ca: 'factory-ca', est_rfc7030_settings: est },
    reenrollment_settings: { reenrollment_delta: '3650d' },
  },
});

/** A bootstrap certificate signed by the sub-CA: `<name>.pem` holds it followed by the sub-CA's certificate. */
async function bootstrapFromSub(name: string, cn: string): Promise<string> {
  const csr = await newCsr(name, `/CN=${cn}`);
  const signed = (await admin(server, 'POST', '/api/ca/v1/cas/idevid-sub/certificates/sign', { csr: readFileSync(csr.pem, 'utf8') })).json;
  const sub = (await admin(server, 'GET', '/api/ca/v1/cas/idevid-sub')).json;
  writeFileSync(f(`${name}.leaf.pem`), pemOf(signed.certificate));
  writeFileSync(f(`${name}.pem`), pemOf(signed.certificate) + pemOf(sub.certificate.certificate));
  return serialOf(f(`${name}.leaf.pem`));
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'lamassu-est-chains-'));
  server = await startLamassu();
  await createCa('factory-ca');
  await createCa('idevid-root');
  await createCa('idevid-sub', 'idevid-root');
  await admin(server, 'POST', '/api/dmsmanager/v1/dms', dmsBody('bootstrap', { auth_mode: 'CLIENT_CERTIFICATE', client_certificate_settings: { validation_cas: ['idevid-root'] } }));
  await admin(server, 'POST', '/api/dmsmanager/v1/dms', dmsBody('factory', { auth_mode: 'DMS_CERTIFICATE' }));
  const dmsCert = (await admin(server, 'POST', '/api/dmsmanager/v1/dms/factory/certificate', { key: { type: 'ECDSA', bits: 256 } })).json;
  writeFileSync(f('factory.pem'), pemOf(dmsCert.certificate));
  writeFileSync(f('factory.key'), pemOf(dmsCert.private_key), { mode: 0o600 });
});
after(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('EST over mTLS: the whole bootstrap path is checked; slots are reached by the common name', () => {
  test('a bootstrap certificate from a sub-CA of the validation root (sent with the sub-CA) enrolls; revoked (KeyCompromise) or on hold it is a 401', async () => {
    await bootstrapFromSub('boot-ok', 'dev-chain-ok');
    const ok = await newCsr('dev-chain-ok', '/CN=dev-chain-ok');
    await issued(await est('bootstrap', 'simpleenroll', ok.b64, 'boot-ok'), 'dev-chain-ok');
    assert.equal((await device('dev-chain-ok')).status, 'FULLY_PROVISIONED');

    // The repro of the issue: the leaf revoked, the sub-CA and the root fine.
    const revokedSerial = await bootstrapFromSub('boot-revoked', 'dev-chain-revoked');
    await admin(server, 'PUT', `/api/ca/v1/certificates/${revokedSerial}/status`, { status: 'REVOKED', revocation_reason: 'KeyCompromise' });
    const csr = await newCsr('dev-chain-revoked', '/CN=dev-chain-revoked');
    await refused(est('bootstrap', 'simpleenroll', csr.b64, 'boot-revoked'), 401, 'ENROLL_CLIENT_CERTIFICATE_REVOKED', 'dev-chain-revoked');

    const heldSerial = await bootstrapFromSub('boot-held', 'dev-chain-held');
    await admin(server, 'PUT', `/api/ca/v1/certificates/${heldSerial}/status`, { status: 'REVOKED', revocation_reason: 'CertificateHold' });
    const held = await newCsr('dev-chain-held', '/CN=dev-chain-held');
    await refused(est('bootstrap', 'simpleenroll', held.b64, 'boot-held'), 401, 'ENROLL_CLIENT_CERTIFICATE_ON_HOLD', 'dev-chain-held');
    // Released from hold, the same certificate enrolls.
    await admin(server, 'PUT', `/api/ca/v1/certificates/${heldSerial}/status`, { status: 'ACTIVE' });
    await issued(await est('bootstrap', 'simpleenroll', held.b64, 'boot-held'), 'dev-chain-held');
  });

  test('re-enrollment with a forged copy of the device certificate (same serial and subject, signed by a look-alike CA) is a 401 REENROLL_CERTIFICATE_MISMATCH', async () => {
    const csr = await newCsr('dev-forge', '/CN=dev-forge');
    const genuine = await issued(await est('factory', 'simpleenroll', csr.b64, 'factory'), 'dev-forge');
    const serial = await serialOf(genuine);
    await openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', f('rogue.key'));
    await openssl('req', '-x509', '-new', '-key', f('rogue.key'), '-subj', '/CN=factory-ca CA', '-days', '30', '-out', f('rogue.pem'));
    await openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', f('forged.key'));
    await openssl('req', '-new', '-key', f('forged.key'), '-subj', '/CN=dev-forge', '-out', f('forged.csr.pem'));
    await openssl('x509', '-req', '-in', f('forged.csr.pem'), '-CA', f('rogue.pem'), '-CAkey', f('rogue.key'), '-set_serial', `0x${serial}`, '-days', '30', '-out', f('forged.pem'));
    assert.equal(await serialOf(f('forged.pem')), serial);
    const again = await newCsr('dev-forge-2', '/CN=dev-forge', f('forged.key'));
    await refused(est('factory', 'simplereenroll', again.b64, 'forged'), 401, 'REENROLL_CERTIFICATE_MISMATCH');
    assert.equal((await device('dev-forge')).slots.default.archive.length, 0, 'the genuine certificate is still active');
  });

  test('a common name `<slot>:<device id>` enrolls that slot; simplereenroll with its certificate renews that slot only', async () => {
    const main = await newCsr('dev-slot', '/CN=dev-slot');
    await issued(await est('factory', 'simpleenroll', main.b64, 'factory'), 'dev-slot');
    const tls = await newCsr('dev-slot-tls', '/CN=tls:dev-slot');
    const tlsCert = await issued(await est('factory', 'simpleenroll', tls.b64, 'factory'), 'dev-slot-tls');
    assert.match(await openssl('x509', '-in', tlsCert, '-noout', '-subject'), /CN ?= ?tls:dev-slot/);
    let d = await device('dev-slot');
    assert.deepEqual(Object.keys(d.slots).sort(), ['default', 'tls']);
    assert.equal(d.slots.tls.active.serial_number, await serialOf(tlsCert));
    assert.equal(d.status, 'FULLY_PROVISIONED');
    assert.ok(await deviceMissing('tls:dev-slot'));
    await refused(est('factory', 'simpleenroll', tls.b64, 'factory'), 409, 'ENROLL_DEVICE_ALREADY_ENROLLED');

    const renewCsr = await newCsr('dev-slot-tls-2', '/CN=tls:dev-slot');
    const renewed = await issued(await est('factory', 'simplereenroll', renewCsr.b64, 'dev-slot-tls'), 'dev-slot-tls-renewed');
    d = await device('dev-slot');
    assert.equal(d.slots.tls.active.serial_number, await serialOf(renewed));
    assert.deepEqual(d.slots.tls.archive.map((a: { serial_number: string }) => a.serial_number), [await serialOf(tlsCert)]);
    assert.equal(d.slots.default.archive.length, 0, 'the default slot untouched');
  });

  test("Lamassu's chain_level_validation: 1 level refuses a bootstrap certificate from the sub-CA (401 ENROLL_CLIENT_CERTIFICATE_CHAIN_TOO_LONG), 2 levels take it", async () => {
    const levels = (n: number) => ({ auth_mode: 'CLIENT_CERTIFICATE', client_certificate_settings: { validation_cas: ['idevid-root'], chain_level_validation: n } });
    await admin(server, 'POST', '/api/dmsmanager/v1/dms', dmsBody('one-level', levels(1)));
    await admin(server, 'POST', '/api/dmsmanager/v1/dms', dmsBody('two-levels', levels(2)));
    await bootstrapFromSub('boot-levels', 'dev-levels');
    const csr = await newCsr('dev-levels', '/CN=dev-levels');
    await refused(est('one-level', 'simpleenroll', csr.b64, 'boot-levels'), 401, 'ENROLL_CLIENT_CERTIFICATE_CHAIN_TOO_LONG', 'dev-levels');
    await issued(await est('two-levels', 'simpleenroll', csr.b64, 'boot-levels'), 'dev-levels');
    assert.equal((await device('dev-levels')).dms_owner, 'two-levels');
  });

  test("Lamassu's include_system_ca: cacerts also carries the CA of the HTTPS listener's certificate (curl, PEM and PKCS#7)", async () => {
    const body = (id: string, includeSystemCa: boolean) => {
      const b = dmsBody(id, { auth_mode: 'DMS_CERTIFICATE' }) as Record<string, any>;
      b.settings.ca_distribution_settings = { include_enrollment_ca: true, include_system_ca: includeSystemCa, managed_cas: [] };
      return b;
    };
    await admin(server, 'POST', '/api/dmsmanager/v1/dms', body('with-system-ca', true));
    await admin(server, 'POST', '/api/dmsmanager/v1/dms', body('without-system-ca', false));
    const host = `localhost:${server.httpsPort}`;
    const cacerts = async (label: string) => {
      const { stdout } = await run('curl', ['-sS', '--fail', '--max-time', '20', '--cacert', server.tlsCaFile, '--resolve', `${host}:127.0.0.1`, `https://${host}/.well-known/est/${label}/cacerts`], { timeout: 30_000 });
      writeFileSync(f(`${label}.p7.b64`), stdout);
      await openssl('base64', '-d', '-in', f(`${label}.p7.b64`), '-out', f(`${label}.p7.der`));
      const pems = await openssl('pkcs7', '-inform', 'DER', '-in', f(`${label}.p7.der`), '-print_certs');
      return [...pems.matchAll(/subject=\s*(.*)/g)].map((m) => m[1]!.trim());
    };
    const systemSubject = (await openssl('x509', '-in', server.tlsCaFile, '-noout', '-subject')).trim().replace(/^subject=\s*/, '');
    const withSystem = await cacerts('with-system-ca');
    // A certs-only PKCS#7 holds a SET OF certificates: DER orders them, so the order is not checked.
    assert.deepEqual(withSystem.sort(), ['CN = factory-ca CA', systemSubject].sort(), withSystem.join(' | '));
    assert.deepEqual((await cacerts('without-system-ca')).filter((s) => s === systemSubject), []);
    const got = (await admin(server, 'GET', '/api/dmsmanager/v1/dms/with-system-ca')).json;
    assert.equal(got.settings.ca_distribution_settings.include_system_ca, true);
  });

  test('no request above ended in a server error: nothing was logged at level error', () => {
    const errors = server.output().split('\n').filter((l) => /"level":(50|60)/.test(l));
    assert.deepEqual(errors, []);
  });
});
