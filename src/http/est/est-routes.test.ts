/**
 * EST framing conformance (RFC 7030, RFC 8951) over fastify inject, on the real enrollment service and
 * storage: every CSR encoding clients send, content types, sizes, answers and plain-text errors.
 * Client-certificate authentication needs real TLS: see test/e2e/est.test.ts.
 */
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { AsnConvert } from '@peculiar/asn1-schema';
import { ContentInfo, SignedData } from '@peculiar/asn1-cms';
import fastify, { type FastifyInstance } from 'fastify';
import { enrollmentWorld, type EnrollmentWorld } from '../../../test/support/enrollment-fixture.ts';
import { parseCertificate } from '../../x509/certificate.ts';
import { toPem } from '../../x509/pem.ts';
import { estPlugin } from './est-plugin.ts';
import { basicCredentials } from './est-request.ts';
import { CERTS_ONLY, csrAttrsBody, SERVERKEYGEN_BOUNDARY } from './est-response.ts';

let w: EnrollmentWorld;
let app: FastifyInstance;
before(async () => {
  w = await enrollmentWorld();
  await w.createDms('line-1', w.settings({ authMode: 'NO_AUTH' }));
  await w.createDms('by-serial', w.settings({ authMode: 'NO_AUTH', deviceIdSource: 'serial_number' }));
  await w.createDms('basic', w.settings({ authMode: 'HTTP_BASIC', httpBasic: { username: 'factory', password: 'correct horse' } }));
  app = fastify({ logger: false });
  await app.register(estPlugin({ enrollment: w.enrollment, defaultDms: 'line-1' }));
  await app.ready();
});
after(async () => {
  await app?.close();
  await w?.dispose();
});

const b64 = (der: Uint8Array) => Buffer.from(der).toString('base64');
const lines = (s: string, n: number) => s.match(new RegExp(`.{1,${n}}`, 'g'))!.join('\r\n');

/** The certificates of a certs-only body, after checking the body's framing. */
function certsOf(res: { headers: Record<string, unknown>; body: string }): Uint8Array[] {
  assert.equal(res.headers['content-type'], CERTS_ONLY);
  assert.ok(res.body.endsWith('\n'), 'ends in a newline');
  assert.ok(res.body.split('\n').every((l) => l.length <= 76), 'lines of at most 76 characters');
  const info = AsnConvert.parse(Buffer.from(res.body, 'base64'), ContentInfo);
  const sd = AsnConvert.parse(info.content, SignedData);
  assert.equal(sd.signerInfos.length, 0, 'degenerate: no signers');
  return Array.from(sd.certificates ?? [], (c) => new Uint8Array(AsnConvert.serialize(c.certificate!)));
}

const enroll = (payload: string | Buffer, headers: Record<string, string> = { 'content-type': 'application/pkcs10' }, url = '/.well-known/est/line-1/simpleenroll') =>
  app.inject({ method: 'POST', url, headers, payload });

describe('cacerts', () => {
  test('certs-only PKCS#7, spelled exactly, base64 in lines, with the enrollment CA; PEM on request', async () => {
    const res = await app.inject({ method: 'GET', url: '/.well-known/est/line-1/cacerts' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(certsOf(res), [w.factoryCa.certificate.der]);
    const pem = await app.inject({ method: 'GET', url: '/.well-known/est/line-1/cacerts', headers: { accept: 'application/x-pem-file' } });
    assert.equal(pem.headers['content-type'], 'application/x-pem-file');
    assert.equal(pem.body, toPem(w.factoryCa.certificate.der, 'CERTIFICATE'));
  });

  test('a CA label answers that CA; Lamassu\'s prefix and the label-less default DMS work too', async () => {
    assert.deepEqual(certsOf(await app.inject({ method: 'GET', url: '/.well-known/est/other-ca/cacerts' })), [w.otherCa.certificate.der]);
    assert.deepEqual(certsOf(await app.inject({ method: 'GET', url: '/api/dmsmanager/.well-known/est/line-1/cacerts' })), [w.factoryCa.certificate.der]);
    assert.deepEqual(certsOf(await app.inject({ method: 'GET', url: '/.well-known/est/cacerts' })), [w.factoryCa.certificate.der]);
  });

  test('an unknown label is 404 in plain text; the internal CA is not a label', async () => {
    for (const label of ['nope', 'LAMASSU-DMS-MANAGER']) {
      const res = await app.inject({ method: 'GET', url: `/.well-known/est/${label}/cacerts` });
      assert.equal(res.statusCode, 404, label);
      assert.match(res.headers['content-type'] as string, /^text\/plain/);
      assert.match(res.body, /^ENROLL_LABEL_NOT_FOUND: .+\n$/);
    }
  });
});

describe('simpleenroll: every CSR encoding clients send', () => {
  test('base64 with and without line breaks, with and without Content-Transfer-Encoding, PEM, raw DER, parameters and case in the content type', async () => {
    const cases: [string, (der: Uint8Array) => string | Buffer, Record<string, string>][] = [
      ['base64, 64-char CRLF lines', (d) => `${lines(b64(d), 64)}\r\n`, { 'content-type': 'application/pkcs10' }],
      ['base64, 76-char LF lines, CTE base64', (d) => `${lines(b64(d), 76).replaceAll('\r', '')}\n`, { 'content-type': 'application/pkcs10', 'content-transfer-encoding': 'base64' }],
      ['base64, one line, no newline', (d) => b64(d), { 'content-type': 'application/pkcs10' }],
      ['PEM', (d) => toPem(d, 'CERTIFICATE REQUEST'), { 'content-type': 'application/pkcs10' }],
      ['PEM, NEW CERTIFICATE REQUEST', (d) => toPem(d, 'NEW CERTIFICATE REQUEST'), { 'content-type': 'application/pkcs10' }],
      ['DER, CTE binary', (d) => Buffer.from(d), { 'content-type': 'application/pkcs10', 'content-transfer-encoding': 'binary' }],
      ['parameters and case', (d) => b64(d), { 'content-type': 'Application/PKCS10; name="device.p10"; charset=us-ascii' }],
      ['older clients', (d) => b64(d), { 'content-type': 'application/x-pkcs10' }],
    ];
    let n = 0;
    for (const [name, encode, headers] of cases) {
      const der = await w.csr(`enc-${n++}`);
      const res = await enroll(encode(der), headers);
      assert.equal(res.statusCode, 200, `${name}: ${res.body}`);
      const [cert] = certsOf(res);
      const parsed = parseCertificate(cert!);
      assert.equal(parsed.subject.common_name, `enc-${n - 1}`, name);
    }
  });

  test('the label-less path enrolls with the default DMS', async () => {
    const res = await enroll(b64(await w.csr('default-1')), undefined, '/.well-known/est/simpleenroll');
    assert.equal(res.statusCode, 200, res.body);
    assert.equal((await w.devices.get('default-1')).dmsId, 'line-1');
  });

  test('Accept: application/x-pem-file gets the certificate as PEM', async () => {
    const res = await enroll(b64(await w.csr('pem-answer')), { 'content-type': 'application/pkcs10', accept: 'application/x-pem-file' });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['content-type'], 'application/x-pem-file');
    assert.match(res.body, /^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n$/);
  });

  test('refused, in plain text, with nothing issued: wrong or missing content type 415, garbage 400, empty 400, oversized 413', async () => {
    const issued = await w.issuedBy('factory-ca');
    const csr = b64(await w.csr('refused-1'));
    const expect = async (res: Awaited<ReturnType<typeof enroll>>, status: number, code: string) => {
      assert.equal(res.statusCode, status, res.body);
      assert.match(res.headers['content-type'] as string, /^text\/plain/);
      assert.ok(res.body.startsWith(`${code}: `), res.body);
      assert.ok(res.body.length < 300, 'short');
    };
    await expect(await enroll(csr, { 'content-type': 'application/json' }), 415, 'EST_UNSUPPORTED_MEDIA_TYPE');
    await expect(await enroll(csr, { 'content-type': 'text/plain' }), 415, 'EST_UNSUPPORTED_MEDIA_TYPE');
    await expect(await enroll(csr, {}), 415, 'EST_UNSUPPORTED_MEDIA_TYPE');
    await expect(await enroll('this is not a CSR', undefined), 400, 'CSR_MALFORMED');
    await expect(await enroll('QUJDRA==', undefined), 400, 'CSR_MALFORMED');
    await expect(await enroll(Buffer.from([0x30, 0x82, 0x01]), undefined), 400, 'CSR_MALFORMED');
    await expect(await enroll('-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n', undefined), 400, 'CSR_MALFORMED');
    await expect(await enroll('', undefined), 400, 'EST_CSR_MISSING');
    await expect(await enroll('A'.repeat(64 * 1024 + 1), undefined), 413, 'BODY_TOO_LARGE');
    assert.equal(await w.issuedBy('factory-ca'), issued);
    assert.equal(await w.devices.find('refused-1'), undefined);
  });

  test('a CSR whose signature does not verify is 400 CSR_INVALID_SIGNATURE', async () => {
    const der = Buffer.from(await w.csr('bad-sig'));
    der[der.length - 5]! ^= 0x01;
    const res = await enroll(b64(der));
    assert.equal(res.statusCode, 400, res.body);
    assert.match(res.body, /^CSR_INVALID_SIGNATURE: /);
  });

  test('a second enrollment of the same device is 409; a CA label without a DMS certificate is 401', async () => {
    assert.equal((await enroll(b64(await w.csr('twice')))).statusCode, 200);
    const again = await enroll(b64(await w.csr('twice')));
    assert.equal(again.statusCode, 409, again.body);
    assert.match(again.body, /^ENROLL_DEVICE_ALREADY_ENROLLED: /);
    const ca = await enroll(b64(await w.csr('ca-label')), undefined, '/.well-known/est/factory-ca/simpleenroll');
    assert.equal(ca.statusCode, 401, ca.body);
  });
});

describe('HTTP Basic (RFC 7030 3.2.3)', () => {
  const url = '/.well-known/est/basic/simpleenroll';
  const auth = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  test('no credentials and wrong credentials are 401 with WWW-Authenticate Basic and the realm; right ones enroll', async () => {
    const csr = b64(await w.csr('basic-1'));
    for (const headers of [{}, { authorization: auth('factory', 'wrong password') }, { authorization: auth('other', 'correct horse') }] as Record<string, string>[]) {
      const res = await enroll(csr, { 'content-type': 'application/pkcs10', ...headers }, url);
      assert.equal(res.statusCode, 401, res.body);
      assert.equal(res.headers['www-authenticate'], 'Basic realm="basic", charset="UTF-8"');
      assert.match(res.headers['content-type'] as string, /^text\/plain/);
    }
    assert.equal(await w.devices.find('basic-1'), undefined);
    const ok = await enroll(csr, { 'content-type': 'application/pkcs10', authorization: auth('factory', 'correct horse') }, url);
    assert.equal(ok.statusCode, 200, ok.body);
  });

  test('a malformed Basic header is 400; other schemes count as no credentials', async () => {
    const csr = b64(await w.csr('basic-2'));
    const bad = await enroll(csr, { 'content-type': 'application/pkcs10', authorization: 'Basic %%%' }, url);
    assert.equal(bad.statusCode, 400, bad.body);
    assert.equal((await enroll(csr, { 'content-type': 'application/pkcs10', authorization: 'Bearer abc' }, url)).statusCode, 401);
    assert.deepEqual(basicCredentials(`Basic ${Buffer.from('u:p:q').toString('base64')}`), { username: 'u', password: 'p:q' });
    assert.throws(() => basicCredentials(`Basic ${Buffer.from('nocolon').toString('base64')}`));
  });
});

describe('simplereenroll, serverkeygen, csrattrs, fullcmc', () => {
  test('simplereenroll without the current certificate as client certificate is 401 and issues nothing', async () => {
    const issued = await w.issuedBy('factory-ca');
    const res = await enroll(b64(await w.csr('enc-0')), undefined, '/.well-known/est/line-1/simplereenroll');
    assert.equal(res.statusCode, 401, res.body);
    assert.equal(await w.issuedBy('factory-ca'), issued);
  });

  test('serverkeygen: multipart/mixed, a PKCS#8 key part then a certs-only part whose certificate holds that key', async () => {
    const res = await enroll(b64(await w.csr('keygen-1')), undefined, '/.well-known/est/line-1/serverkeygen');
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['content-type'], `multipart/mixed; boundary=${SERVERKEYGEN_BOUNDARY}`);
    const parts = res.body.split(`--${SERVERKEYGEN_BOUNDARY}`);
    assert.equal(parts.length, 4);
    assert.equal(parts[3], '--\r\n');
    const part = (raw: string) => {
      const [head, body] = raw.split('\r\n\r\n') as [string, string];
      return { type: /Content-Type: (.+)/.exec(head)![1]!.trim(), body };
    };
    const key = part(parts[1]!);
    const cert = part(parts[2]!);
    assert.equal(key.type, 'application/pkcs8');
    assert.equal(cert.type, CERTS_ONLY);
    const [der] = certsOf({ headers: { 'content-type': cert.type }, body: cert.body });
    const privateKey = createPrivateKey({ key: Buffer.from(key.body, 'base64'), format: 'der', type: 'pkcs8' });
    const x509 = new X509Certificate(Buffer.from(der!));
    assert.match(x509.subject, /CN=keygen-1/);
    assert.ok(x509.checkPrivateKey(privateKey), 'the certificate holds the generated key');
  });

  test('csrattrs: application/csrattrs in base64 lines; the key the profile accepts, and the serialNumber OID when devices are named by it', async () => {
    const plain = await app.inject({ method: 'GET', url: '/.well-known/est/line-1/csrattrs' });
    assert.equal(plain.statusCode, 200);
    assert.equal(plain.headers['content-type'], 'application/csrattrs');
    assert.equal(plain.body, csrAttrsBody({ oids: [], key: { type: 'ECDSA', bits: 256 } }));
    const serial = await app.inject({ method: 'GET', url: '/.well-known/est/by-serial/csrattrs' });
    // SEQUENCE { serialNumber, SEQUENCE { id-ecPublicKey, SET { prime256v1 } }, ecdsa-with-SHA256 }
    const expected = '3026' + '0603550405' + '3015' + '06072a8648ce3d0201' + '310a' + '06082a8648ce3d030107' + '06082a8648ce3d040302';
    assert.equal(Buffer.from(serial.body, 'base64').toString('hex'), expected);
    assert.equal(csrAttrsBody({ oids: [] }), 'MAA=\n', 'nothing to ask: an empty SEQUENCE, never an empty body');
  });

  test('fullcmc is 501, an unknown operation 404, both in plain text', async () => {
    const cmc = await enroll('x', undefined, '/.well-known/est/line-1/fullcmc');
    assert.equal(cmc.statusCode, 501);
    assert.match(cmc.body, /^EST_OPERATION_UNSUPPORTED: /);
    const unknown = await app.inject({ method: 'GET', url: '/.well-known/est/line-1/unknownop' });
    assert.equal(unknown.statusCode, 404);
    assert.match(unknown.body, /^EST_ROUTE_NOT_FOUND: /);
  });
});
