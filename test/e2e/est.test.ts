/**
 * EST end to end: a real `lamassu serve`, the admin API to set up CAs and DMSs, and curl and openssl as the
 * only EST clients. Every issued certificate must verify with `openssl verify` against what `cacerts`
 * returned; every refusal must leave nothing issued (admin API certificate list) and no device stored.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { admin, pemOf, } from './est-server.ts';
import { startLamassu, type LamassuProcess } from '../support/lamassu-process.ts';

const run = promisify(execFile);
const CERTS_ONLY = 'application/pkcs7-mime; smime-type=certs-only';

let server: LamassuProcess;
let dir: string;
const f = (name: string) => path.join(dir, name);

const openssl = async (...args: string[]) => (await run('openssl', args, { cwd: dir })).stdout;

interface CurlResult {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** curl against the EST server; `args` are curl options, `url` a path like /.well-known/est/x/cacerts. */
async function curl(urlPath: string, args: string[] = []): Promise<CurlResult> {
  const host = `localhost:${server.httpsPort}`;
  const { stdout } = await run('curl', [
    '-sS', '--cacert', server.tlsCaFile, '--resolve', `${host}:127.0.0.1`,
    '-D', f('headers.txt'), '-o', f('body.bin'), '-w', '%{http_code}',
    ...args, `https://${host}${urlPath}`,
  ]);
  const headers: Record<string, string> = {};
  for (const line of readFileSync(f('headers.txt'), 'utf8').split('\r\n').slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status: Number(stdout), headers, body: readFileSync(f('body.bin')) };
}

/** A fresh P-256 key and CSR for `subject` (like "/CN=dev-1"): key file, DER CSR, base64 CSR with line breaks, PEM CSR. */
async function newCsr(name: string, subject: string, key?: string) {
  const keyFile = key ?? f(`${name}.key`);
  if (!key) await openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile);
  await openssl('req', '-new', '-key', keyFile, '-subj', subject, '-outform', 'DER', '-out', f(`${name}.csr.der`));
  await openssl('req', '-new', '-key', keyFile, '-subj', subject, '-out', f(`${name}.csr.pem`));
  await openssl('base64', '-in', f(`${name}.csr.der`), '-out', f(`${name}.csr.b64`));
  return { key: keyFile, der: f(`${name}.csr.der`), b64: f(`${name}.csr.b64`), pem: f(`${name}.csr.pem`) };
}

/** A certs-only answer to PEM certificates (openssl base64 -d | openssl pkcs7 -print_certs); checks the framing. */
async function certsFrom(res: CurlResult, name: string): Promise<string> {
  assert.equal(res.status, 200, res.body.toString());
  assert.equal(res.headers['content-type'], CERTS_ONLY);
  const text = res.body.toString('latin1');
  assert.ok(text.endsWith('\n') && text.split('\n').every((l) => l.length <= 76), 'base64 lines ending in a newline');
  writeFileSync(f(`${name}.p7.b64`), res.body);
  await openssl('base64', '-d', '-in', f(`${name}.p7.b64`), '-out', f(`${name}.p7.der`));
  await openssl('pkcs7', '-inform', 'DER', '-in', f(`${name}.p7.der`), '-print_certs', '-out', f(`${name}.pem`));
  return f(`${name}.pem`);
}

const verify = async (certFile: string, caFile: string) => assert.match(await openssl('verify', '-CAfile', caFile, certFile), /: OK/);
const subjectOf = async (certFile: string) => (await openssl('x509', '-in', certFile, '-noout', '-subject')).trim();
const serialOf = async (certFile: string) => (await openssl('x509', '-in', certFile, '-noout', '-serial')).trim().split('=')[1]!.toLowerCase();

const post = (label: string, op: string, file: string, extra: string[] = [], type = 'application/pkcs10') =>
  curl(`/.well-known/est/${label}/${op}`, ['-H', `Content-Type: ${type}`, '--data-binary', `@${file}`, ...extra]);
const withCert = (name: string) => ['--cert', f(`${name}.pem`), '--key', f(`${name}.key`)];

async function certificatesFor(cn: string): Promise<number> {
  return (await admin(server, 'GET', `/api/ca/v1/certificates?common_name=${encodeURIComponent(cn)}&page_size=1000`)).json.list.length;
}
async function allCertificates(): Promise<number> {
  return (await admin(server, 'GET', '/api/ca/v1/certificates?page_size=1000')).json.list.length;
}
/** 200 when the device exists, 404 when the device manager does not know it (not a missing route). */
async function deviceStatus(id: string): Promise<number> {
  try {
    return (await admin(server, 'GET', `/api/devmanager/v1/devices/${id}`)).status;
  } catch (err) {
    const m = /: (\d{3}) (.*)$/s.exec((err as Error).message);
    assert.ok(m && !m[2]!.includes('ROUTE_NOT_FOUND'), (err as Error).message);
    return Number(m[1]);
  }
}

/** The refusal: status and code in a short plain-text body, and no certificate, no device, nothing new at all. */
async function refused(res: Promise<CurlResult>, status: number, code: string, deviceCn?: string) {
  const before = await allCertificates();
  const r = await res;
  assert.equal(r.status, status, r.body.toString());
  assert.match(r.headers['content-type'] ?? '', /^text\/plain/);
  assert.ok(r.body.toString().startsWith(`${code}: `), r.body.toString());
  assert.equal(await allCertificates(), before, `${code}: nothing issued`);
  if (deviceCn) assert.equal(await certificatesFor(deviceCn), 0, `${code}: no certificate for ${deviceCn}`);
  return r;
}

const dmsBody = (id: string, caId: string, est: Record<string, unknown>, extra: Record<string, unknown> = {}, reenrollmentDelta = '3650d') => ({
  id,
  name: `DMS ${id}`,
  authorized_cas: [caId],
  settings: {
    enrollment_settings: { enrollment_ca: caId, est_rfc7030_settings: est, ...extra },
    reenrollment_settings: { reenrollment_delta: reenrollmentDelta },
  },
});

/** Creates a DMS and, for certificate modes, its DMS certificate with a server-made key (files <id>.pem/.key). */
async function createDms(body: ReturnType<typeof dmsBody>, withCertificate = true) {
  await admin(server, 'POST', '/api/dmsmanager/v1/dms', body);
  if (!withCertificate) return;
  const res = (await admin(server, 'POST', `/api/dmsmanager/v1/dms/${body.id}/certificate`, { key: { type: 'ECDSA', bits: 256 } })).json;
  writeFileSync(f(`${body.id}.pem`), pemOf(res.certificate));
  writeFileSync(f(`${body.id}.key`), pemOf(res.private_key), { mode: 0o600 });
}

const createCa = (id: string) =>
  admin(server, 'POST', '/api/ca/v1/cas', { id, subject: { common_name: `${id} CA` }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration: '10y' } });

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'lamassu-est-e2e-'));
  server = await startLamassu({ LAMASSU_EST_DEFAULT_DMS: 'factory' });
  for (const ca of ['factory-ca', 'idevid-ca', 'other-ca']) await createCa(ca);
  await createDms(dmsBody('factory', 'factory-ca', { auth_mode: 'DMS_CERTIFICATE' }));
  await createDms(dmsBody('bootstrap', 'factory-ca', { auth_mode: 'CLIENT_CERTIFICATE', client_certificate_settings: { validation_cas: ['idevid-ca'] } }), false);
  await createDms(dmsBody('basic', 'factory-ca', { auth_mode: 'HTTP_BASIC', http_basic: { username: 'line-7', password: 'correct horse battery' } }), false);
  await createDms(dmsBody('short-window', 'factory-ca', { auth_mode: 'DMS_CERTIFICATE' }, {}, '1d'));
  await createDms(dmsBody('prereg', 'factory-ca', { auth_mode: 'DMS_CERTIFICATE' }, { registration_mode: 'PRE_REGISTRATION' }));
  // The CA distribution every issued certificate must verify against.
  await certsFrom(await curl('/.well-known/est/factory/cacerts'), 'cacerts');
});
after(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('EST over a running server, curl and openssl as clients', () => {
  test('cacerts: certs-only PKCS#7 over TLS 1.2 and 1.3, at both prefixes and label-less; PEM on request', async () => {
    const caPem = (await admin(server, 'GET', '/api/ca/v1/cas/factory-ca')).json.certificate.certificate;
    const expected = await subjectOf(f('cacerts.pem'));
    assert.match(expected, /factory-ca CA/);
    assert.equal(readFileSync(f('cacerts.pem'), 'utf8').match(/BEGIN CERTIFICATE/g)!.length, 1);
    for (const [tls, urlPath] of [
      [['--tlsv1.2', '--tls-max', '1.2'], '/.well-known/est/factory/cacerts'],
      [['--tlsv1.3', '--tls-max', '1.3'], '/api/dmsmanager/.well-known/est/factory/cacerts'],
      [[], '/.well-known/est/cacerts'],
    ] as const) {
      const file = await certsFrom(await curl(urlPath, [...tls]), 'cacerts-again');
      assert.equal(await subjectOf(file), expected, urlPath);
    }
    const pem = await curl('/.well-known/est/factory/cacerts', ['-H', 'Accept: application/x-pem-file']);
    assert.equal(pem.headers['content-type'], 'application/x-pem-file');
    assert.equal(pem.body.toString(), pemOf(caPem));
  });

  test('csrattrs: application/csrattrs, the key the profile accepts (P-256, ecdsa-with-SHA256); see est-wire.test.ts', async () => {
    const res = await curl('/.well-known/est/factory/csrattrs');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/csrattrs');
    assert.equal(res.body.toString().trim(), 'MCEwFQYHKoZIzj0CATEKBggqhkjOPQMBBwYIKoZIzj0EAwI=');
  });

  test('simpleenroll with the DMS certificate (TLS 1.2 and 1.3), by DMS label and by CA label', async () => {
    for (const [cn, label, tls] of [
      ['dev-dms-12', 'factory', ['--tlsv1.2', '--tls-max', '1.2']],
      ['dev-dms-13', 'factory', ['--tlsv1.3', '--tls-max', '1.3']],
      ['dev-ca-label', 'factory-ca', []],
    ] as const) {
      const csr = await newCsr(cn, `/CN=${cn}/O=Lamassu`);
      const cert = await certsFrom(await post(label, 'simpleenroll', csr.b64, [...withCert('factory'), ...tls]), cn);
      await verify(cert, f('cacerts.pem'));
      assert.match(await subjectOf(cert), new RegExp(`CN ?= ?${cn}`));
      assert.equal(await certificatesFor(cn), 1);
      assert.equal(await deviceStatus(cn), 200);
    }
  });

  test('simpleenroll with a bootstrap certificate (CLIENT_CERTIFICATE) sent with its chain', async () => {
    const idevidCsr = await newCsr('idevid', '/CN=dev-boot');
    const signed = (await admin(server, 'POST', '/api/ca/v1/cas/idevid-ca/certificates/sign', { csr: readFileSync(idevidCsr.pem, 'utf8') })).json;
    writeFileSync(f('idevid.pem'), pemOf(signed.certificate));
    const csr = await newCsr('dev-boot', '/CN=dev-boot');
    const cert = await certsFrom(await post('bootstrap', 'simpleenroll', csr.b64, withCert('idevid')), 'dev-boot');
    await verify(cert, f('cacerts.pem'));
    assert.equal(await certificatesFor('dev-boot'), 2, 'the IDevID and the issued certificate');
  });

  test('simpleenroll with HTTP Basic and a PEM body; no or wrong credentials are 401 with a Basic challenge', async () => {
    const csr = await newCsr('dev-basic', '/CN=dev-basic');
    const none = await refused(post('basic', 'simpleenroll', csr.pem), 401, 'ENROLL_UNAUTHENTICATED', 'dev-basic');
    assert.match(none.headers['www-authenticate'] ?? '', /^Basic realm="basic"/);
    const wrong = await refused(post('basic', 'simpleenroll', csr.pem, ['-u', 'line-7:wrong password']), 401, 'ENROLL_AUTH_FAILED', 'dev-basic');
    assert.match(wrong.headers['www-authenticate'] ?? '', /^Basic realm="basic"/);
    assert.equal(await deviceStatus('dev-basic'), 404, 'no device stored');
    const cert = await certsFrom(await post('basic', 'simpleenroll', csr.pem, ['-u', 'line-7:correct horse battery']), 'dev-basic');
    await verify(cert, f('cacerts.pem'));
  });

  test('simplereenroll with the device certificate: same subject, new certificate; the old one is superseded', async () => {
    const first = await newCsr('dev-renew', '/CN=dev-renew/O=Lamassu');
    const old = await certsFrom(await post('factory', 'simpleenroll', first.b64, withCert('factory')), 'dev-renew');
    writeFileSync(f('dev-renew-old.pem'), readFileSync(old));
    writeFileSync(f('dev-renew-old.key'), readFileSync(first.key));
    const again = await newCsr('dev-renew-2', '/CN=dev-renew/O=Lamassu');
    const renewed = await certsFrom(await post('factory', 'simplereenroll', again.b64, withCert('dev-renew-old')), 'dev-renew-new');
    await verify(renewed, f('cacerts.pem'));
    assert.equal(await subjectOf(renewed), await subjectOf(f('dev-renew-old.pem')));
    assert.notEqual(await serialOf(renewed), await serialOf(f('dev-renew-old.pem')));
    const oldStatus = (await admin(server, 'GET', `/api/ca/v1/certificates/${await serialOf(f('dev-renew-old.pem'))}`)).json;
    assert.equal(oldStatus.status, 'REVOKED');
    // The superseded certificate cannot renew again.
    await refused(post('factory', 'simplereenroll', again.b64, withCert('dev-renew-old')), 409, 'REENROLL_CERTIFICATE_SUPERSEDED');
  });

  test('serverkeygen: multipart/mixed with the PKCS#8 key and the certificate, which holds that key and verifies', async () => {
    const csr = await newCsr('dev-keygen', '/CN=dev-keygen');
    const res = await post('factory', 'serverkeygen', csr.b64, withCert('factory'));
    assert.equal(res.status, 200, res.body.toString());
    const boundary = /^multipart\/mixed; boundary=(.+)$/.exec(res.headers['content-type'] ?? '')![1]!;
    const parts = res.body.toString('latin1').split(`--${boundary}`).slice(1, -1).map((p) => {
      const [head, body] = p.split('\r\n\r\n') as [string, string];
      return { type: /Content-Type: (.+)/i.exec(head)![1]!.trim(), body };
    });
    assert.deepEqual(parts.map((p) => p.type), ['application/pkcs8', CERTS_ONLY]);
    writeFileSync(f('keygen.key.b64'), parts[0]!.body);
    await openssl('base64', '-d', '-in', f('keygen.key.b64'), '-out', f('keygen.key.der'));
    await openssl('pkey', '-inform', 'DER', '-in', f('keygen.key.der'), '-out', f('keygen.key'));
    const cert = await certsFrom({ status: 200, headers: { 'content-type': parts[1]!.type }, body: Buffer.from(parts[1]!.body) }, 'keygen-cert');
    await verify(cert, f('cacerts.pem'));
    const fromKey = await openssl('pkey', '-in', f('keygen.key'), '-pubout');
    const fromCert = await openssl('x509', '-in', cert, '-noout', '-pubkey');
    assert.equal(fromKey, fromCert);
  });

  test('refused without trace: DMS not authorized for the CA, revoked DMS certificate, CA label with a bootstrap certificate', async () => {
    const csr = await newCsr('dev-refused', '/CN=dev-refused');
    await refused(post('other-ca', 'simpleenroll', csr.b64, withCert('factory')), 403, 'ENROLL_CA_NOT_AUTHORIZED', 'dev-refused');
    await refused(post('factory-ca', 'simpleenroll', csr.b64, withCert('idevid')), 401, 'ENROLL_DMS_CERTIFICATE_INVALID', 'dev-refused');
    await refused(post('factory', 'simpleenroll', csr.b64), 401, 'ENROLL_UNAUTHENTICATED', 'dev-refused');
    await createDms(dmsBody('revoked', 'factory-ca', { auth_mode: 'DMS_CERTIFICATE' }));
    await admin(server, 'POST', '/api/dmsmanager/v1/dms/revoked/certificate/revoke', { revocation_reason: 'KeyCompromise' });
    await refused(post('revoked', 'simpleenroll', csr.b64, withCert('revoked')), 401, 'ENROLL_DMS_CERTIFICATE_REVOKED', 'dev-refused');
    assert.equal(await deviceStatus('dev-refused'), 404);
  });

  test('refused without trace: re-enroll with a changed subject, outside the window, with a revoked certificate', async () => {
    const csr = await newCsr('dev-rules', '/CN=dev-rules');
    await certsFrom(await post('factory', 'simpleenroll', csr.b64, withCert('factory')), 'dev-rules');
    const changed = await newCsr('dev-rules-x', '/CN=dev-rules-renamed', csr.key);
    await refused(post('factory', 'simplereenroll', changed.b64, withCert('dev-rules')), 400, 'REENROLL_SUBJECT_MISMATCH', 'dev-rules-renamed');
    assert.equal(await certificatesFor('dev-rules'), 1);

    const early = await newCsr('dev-early', '/CN=dev-early');
    await certsFrom(await post('short-window', 'simpleenroll', early.b64, withCert('short-window')), 'dev-early');
    await refused(post('short-window', 'simplereenroll', early.b64, withCert('dev-early')), 409, 'REENROLL_OUTSIDE_WINDOW');
    assert.equal(await certificatesFor('dev-early'), 1);

    await admin(server, 'PUT', `/api/ca/v1/certificates/${await serialOf(f('dev-rules.pem'))}/status`, { status: 'REVOKED', revocation_reason: 'KeyCompromise' });
    await refused(post('factory', 'simplereenroll', csr.b64, withCert('dev-rules')), 403, 'REENROLL_CERTIFICATE_REVOKED');
    assert.equal(await certificatesFor('dev-rules'), 1);
  });

  test('PRE_REGISTRATION: an unknown device is refused without trace; once registered it enrolls', async () => {
    const csr = await newCsr('dev-prereg', '/CN=dev-prereg');
    await refused(post('prereg', 'simpleenroll', csr.b64, withCert('prereg')), 403, 'ENROLL_DEVICE_NOT_REGISTERED', 'dev-prereg');
    assert.equal(await deviceStatus('dev-prereg'), 404);
    await admin(server, 'POST', '/api/devmanager/v1/devices', { id: 'dev-prereg', dms_id: 'prereg' });
    await verify(await certsFrom(await post('prereg', 'simpleenroll', csr.b64, withCert('prereg')), 'dev-prereg'), f('cacerts.pem'));
  });

  test('DMS ids and CA ids never collide: an EST label names one thing', async () => {
    await admin(server, 'POST', '/api/dmsmanager/v1/dms', dmsBody('factory-ca', 'factory-ca', { auth_mode: 'NO_AUTH' }), 409);
    await admin(server, 'POST', '/api/ca/v1/cas', { id: 'factory', subject: { common_name: 'clash' }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration: '1y' } }, 409);
  });

  test('framing refusals: wrong content type 415, garbage 400, oversized 413, unknown label 404, fullcmc 501', async () => {
    const csr = await newCsr('dev-framing', '/CN=dev-framing');
    await refused(post('factory', 'simpleenroll', csr.b64, withCert('factory'), 'application/json'), 415, 'EST_UNSUPPORTED_MEDIA_TYPE', 'dev-framing');
    writeFileSync(f('garbage.txt'), 'not a certificate request\n');
    await refused(post('factory', 'simpleenroll', f('garbage.txt'), withCert('factory')), 400, 'CSR_MALFORMED');
    writeFileSync(f('huge.txt'), 'A'.repeat(70_000));
    await refused(post('factory', 'simpleenroll', f('huge.txt'), withCert('factory')), 413, 'BODY_TOO_LARGE');
    await refused(post('nobody', 'simpleenroll', csr.b64, withCert('factory')), 404, 'ENROLL_LABEL_NOT_FOUND', 'dev-framing');
    await refused(post('factory', 'fullcmc', csr.b64, withCert('factory')), 501, 'EST_OPERATION_UNSUPPORTED');
  });

  test('no request above ended in a server error: nothing was logged at level error', () => {
    const errors = server.output().split('\n').filter((l) => /"level":(50|60)/.test(l));
    assert.deepEqual(errors, []);
  });
});
