/**
 * EST on the wire (RFC 7030, RFC 8951) as old, strict embedded clients read it: a real `lamassu serve`, raw
 * bytes off a TLS socket. Header names in canonical case (such clients look them up case-sensitively), the
 * serverkeygen multipart by RFC 2046 to the byte, a dummy CSR key ignored by serverkeygen, DER-sorted
 * certificate SETs in PKCS#7, and csrattrs that name the key and signature the issuance profile accepts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { startLamassu, type LamassuProcess } from '../support/lamassu-process.ts';
import { admin, pemOf } from './est-server.ts';
import { headerExactly, isCanonicalName, parseMultipartStrict, rawExchange, strictBase64, type RawRequest, type RawResponse } from './est-wire.ts';

const run = promisify(execFile);
const CERTS_ONLY = 'application/pkcs7-mime; smime-type=certs-only';

let server: LamassuProcess;
let dir: string;
const f = (name: string) => path.join(dir, name);
const openssl = async (...args: string[]) => (await run('openssl', args, { cwd: dir })).stdout;

const createCa = (id: string, extra: Record<string, unknown> = {}) =>
  admin(server, 'POST', '/api/ca/v1/cas', {
    id,
    subject: { common_name: `${id} CA` },
    key_metadata: { type: 'ECDSA', bits: 256 },
    ca_expiration: { type: 'Duration', duration: '10y' },
    ...extra,
  });

const dmsBody = (id: string, caId: string, est: Record<string, unknown>, settings: Record<string, unknown> = {}, enrollment: Record<string, unknown> = {}) => ({
  id,
  name: `DMS ${id}`,
  authorized_cas: [caId],
  settings: { enrollment_settings: { enrollment_ca: caId, est_rfc7030_settings: est, ...enrollment }, ...settings },
});

let dmsCert: { cert: string; key: string };

/** A P-256 CSR for `cn` as base64 DER, the body EST clients send. */
async function csrB64(cn: string, keyArgs = ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'], reqArgs: string[] = []): Promise<string> {
  await openssl('genpkey', ...keyArgs, '-out', f(`${cn}.key`));
  await openssl('req', '-new', '-key', f(`${cn}.key`), '-subj', `/CN=${cn}`, ...reqArgs, '-outform', 'DER', '-out', f(`${cn}.csr`));
  return readFileSync(f(`${cn}.csr`)).toString('base64');
}

const est = (req: Omit<RawRequest, 'method'> & { method?: RawRequest['method'] }) => rawExchange(server, { method: 'GET', ...req });
const postCsr = (urlPath: string, b64: string, extra: Partial<RawRequest> = {}) =>
  est({ method: 'POST', path: urlPath, headers: { 'Content-Type': 'application/pkcs10', ...extra.headers }, body: b64, ...(extra.cert ? { cert: extra.cert, key: extra.key! } : {}) });

/** A TCP port nobody listens on: the webhook of `hook` is down. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'lamassu-est-wire-'));
  server = await startLamassu({ LAMASSU_EST_DEFAULT_DMS: 'wire' });
  await createCa('wire-root');
  // A long subject makes the sub-CA's certificate longer than the root's, so chain order (sub, root) is not DER order.
  await admin(server, 'POST', '/api/ca/v1/cas', {
    id: 'wire-sub',
    parent_id: 'wire-root',
    subject: { common_name: `wire-sub CA ${'x'.repeat(40)}`, organization: 'Lamassu wire tests', organization_unit: 'Subordinate issuing CAs' },
    key_metadata: { type: 'ECDSA', bits: 256 },
    ca_expiration: { type: 'Duration', duration: '5y' },
  });
  const chain = { ca_distribution_settings: { include_enrollment_ca: true, include_chain: true, managed_cas: [] } };
  await admin(server, 'POST', '/api/dmsmanager/v1/dms', dmsBody('wire', 'wire-sub', { auth_mode: 'DMS_CERTIFICATE' }, chain));
  const issued = (await admin(server, 'POST', '/api/dmsmanager/v1/dms/wire/certificate', { key: { type: 'ECDSA', bits: 256 } })).json;
  dmsCert = { cert: pemOf(issued.certificate), key: pemOf(issued.private_key) };
  await admin(server, 'POST', '/api/dmsmanager/v1/dms', dmsBody('wire-basic', 'wire-sub', { auth_mode: 'HTTP_BASIC', http_basic: { username: 'line-9', password: 'a long enough password' } }));
  const webhook = { url: `http://127.0.0.1:${await closedPort()}/authorize`, timeout: '1s' };
  await admin(server, 'POST', '/api/dmsmanager/v1/dms', dmsBody('wire-hook', 'wire-sub', { auth_mode: 'EXTERNAL_WEBHOOK', external_webhook_settings: webhook }));
});
after(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Every header name canonical; the EST ones present exactly so where the answer needs them. */
function assertCanonicalHeaders(res: RawResponse, required: string[], what: string) {
  for (const h of res.headers) assert.ok(isCanonicalName(h.name), `${what}: header name "${h.name}" is not in canonical case:\n${res.head}`);
  for (const name of ['Content-Type', 'Content-Length', ...required]) {
    assert.ok(headerExactly(res, name) !== undefined, `${what}: no "${name}" header (case-sensitive):\n${res.head}`);
  }
}

describe('header names in canonical case on every EST response (RFC 7030 via strict clients)', () => {
  test('cacerts at both prefixes and label-less, csrattrs, simpleenroll, serverkeygen', async () => {
    for (const p of ['/.well-known/est/wire/cacerts', '/api/dmsmanager/.well-known/est/wire/cacerts', '/.well-known/est/cacerts']) {
      const res = await est({ path: p });
      assert.equal(res.status, 200, res.body.toString());
      assertCanonicalHeaders(res, ['Content-Transfer-Encoding'], p);
      assert.equal(headerExactly(res, 'Content-Type'), CERTS_ONLY);
      assert.equal(headerExactly(res, 'Content-Transfer-Encoding'), 'base64');
    }
    const attrs = await est({ path: '/api/dmsmanager/.well-known/est/wire/csrattrs' });
    assert.equal(attrs.status, 200);
    assertCanonicalHeaders(attrs, ['Content-Transfer-Encoding'], 'csrattrs');
    assert.equal(headerExactly(attrs, 'Content-Type'), 'application/csrattrs');

    const enrolled = await postCsr('/.well-known/est/wire/simpleenroll', await csrB64('wire-dev-1'), dmsCert);
    assert.equal(enrolled.status, 200, enrolled.body.toString());
    assertCanonicalHeaders(enrolled, ['Content-Transfer-Encoding'], 'simpleenroll');

    const keygen = await postCsr('/api/dmsmanager/.well-known/est/wire/serverkeygen', await csrB64('wire-dev-2'), dmsCert);
    assert.equal(keygen.status, 200, keygen.body.toString());
    assertCanonicalHeaders(keygen, [], 'serverkeygen');
    assert.match(headerExactly(keygen, 'Content-Type')!, /^multipart\/mixed; boundary=/);
  });

  test('errors too: the 401 Basic challenge, 404, 415, 501 and a 503 with Retry-After', async () => {
    const csr = await csrB64('wire-err');
    for (const prefix of ['/.well-known/est', '/api/dmsmanager/.well-known/est']) {
      const challenge = await postCsr(`${prefix}/wire-basic/simpleenroll`, csr);
      assert.equal(challenge.status, 401, challenge.body.toString());
      assertCanonicalHeaders(challenge, ['WWW-Authenticate'], `401 at ${prefix}`);
      assert.match(headerExactly(challenge, 'WWW-Authenticate')!, /^Basic realm="wire-basic"/);
      assert.match(headerExactly(challenge, 'Content-Type')!, /^text\/plain/);
    }
    const cases: [string, Promise<RawResponse>, number][] = [
      ['unknown label', est({ path: '/.well-known/est/no-such-dms/cacerts' }), 404],
      ['unknown operation', est({ path: '/api/dmsmanager/.well-known/est/wire/nothing-here' }), 404],
      ['wrong media type', postCsr('/.well-known/est/wire/simpleenroll', csr, { headers: { 'Content-Type': 'text/plain' }, ...dmsCert }), 415],
      ['fullcmc', postCsr('/.well-known/est/wire/fullcmc', csr), 501],
    ];
    for (const [what, pending, status] of cases) {
      const res = await pending;
      assert.equal(res.status, status, `${what}: ${res.body.toString()}`);
      assertCanonicalHeaders(res, [], what);
    }
    const down = await postCsr('/.well-known/est/wire-hook/simpleenroll', csr);
    assert.equal(down.status, 503, down.body.toString());
    assertCanonicalHeaders(down, ['Retry-After'], '503');
    assert.match(headerExactly(down, 'Retry-After')!, /^\d+$/);
  });
});

/** The serverkeygen answer cut by the strict parser: [key part, certificate part]. */
async function serverKeygenParts(res: RawResponse) {
  assert.equal(res.status, 200, res.body.toString());
  const boundary = /^multipart\/mixed; boundary=([0-9A-Za-z'()+_,./:=?-]{1,70})$/.exec(headerExactly(res, 'Content-Type') ?? '')?.[1];
  assert.ok(boundary, `a valid RFC 2046 boundary in ${headerExactly(res, 'Content-Type')}`);
  const parts = parseMultipartStrict(res.body, boundary);
  assert.equal(parts.length, 2, 'exactly two body parts');
  const type = (i: number) => parts[i]!.headers.find((h) => h.name.toLowerCase() === 'content-type')?.value;
  const cte = (i: number) => parts[i]!.headers.find((h) => h.name.toLowerCase() === 'content-transfer-encoding')?.value;
  assert.equal(type(0), 'application/pkcs8');
  assert.equal(type(1), CERTS_ONLY);
  assert.deepEqual([cte(0), cte(1)], ['base64', 'base64']);
  return { key: strictBase64(parts[0]!.content), pkcs7: strictBase64(parts[1]!.content) };
}

describe('serverkeygen', () => {
  test('multipart/mixed by RFC 2046 5.1.1: CRLF before every delimiter; openssl reads the PKCS#8 key and the PKCS#7 certificate', async () => {
    const res = await postCsr('/.well-known/est/wire/serverkeygen', await csrB64('wire-keygen-1'), dmsCert);
    const { key, pkcs7 } = await serverKeygenParts(res);
    writeFileSync(f('kg1.key.der'), key);
    writeFileSync(f('kg1.p7.der'), pkcs7);
    const keyText = await openssl('pkey', '-inform', 'DER', '-in', f('kg1.key.der'), '-noout', '-text');
    assert.match(keyText, /Private-Key: \(256 bit/);
    await openssl('pkcs7', '-inform', 'DER', '-in', f('kg1.p7.der'), '-print_certs', '-out', f('kg1.pem'));
    assert.match(await openssl('x509', '-in', f('kg1.pem'), '-noout', '-subject'), /CN ?= ?wire-keygen-1/);
    assert.equal(await openssl('pkey', '-inform', 'DER', '-in', f('kg1.key.der'), '-pubout'), await openssl('x509', '-in', f('kg1.pem'), '-noout', '-pubkey'));
  });

  test('the CSR key is ignored (RFC 7030 4.4.1): a throwaway 512-bit RSA CSR gives a certificate for the generated key, with its subject and extensions', async () => {
    const csr = await csrB64('wire-dummy-512', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:512'], ['-addext', 'subjectAltName=DNS:dummy-512.example']);
    assert.match(await openssl('req', '-inform', 'DER', '-in', f('wire-dummy-512.csr'), '-noout', '-text'), /Public-Key: \(512 bit\)/);
    const res = await postCsr('/.well-known/est/wire/serverkeygen', csr, dmsCert);
    const { key, pkcs7 } = await serverKeygenParts(res);
    writeFileSync(f('kg2.key.der'), key);
    writeFileSync(f('kg2.p7.der'), pkcs7);
    await openssl('pkcs7', '-inform', 'DER', '-in', f('kg2.p7.der'), '-print_certs', '-out', f('kg2.pem'));
    const text = await openssl('x509', '-in', f('kg2.pem'), '-noout', '-text');
    assert.match(text, /Subject: CN ?= ?wire-dummy-512/);
    assert.match(text, /DNS:dummy-512\.example/);
    assert.match(text, /ASN1 OID: prime256v1/, 'the DMS default key (P-256), not the CSR\'s RSA 512');
    assert.equal(await openssl('pkey', '-inform', 'DER', '-in', f('kg2.key.der'), '-pubout'), await openssl('x509', '-in', f('kg2.pem'), '-noout', '-pubkey'));
    // simpleenroll still refuses that key: only serverkeygen ignores it.
    const enroll = await postCsr('/.well-known/est/wire/simpleenroll', csr, dmsCert);
    assert.equal(enroll.status, 400);
    assert.match(enroll.body.toString(), /^CSR_KEY_UNSUPPORTED: /);
  });
});

/** The elements of the certificates [0] SET of a certs-only SignedData, as DER byte strings. */
function certificateSetElements(der: Buffer): Buffer[] {
  const read = (buf: Buffer, at: number) => {
    let len = buf[at + 1]!;
    let head = 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + buf[at + 2 + i]!;
      head += n;
    }
    return { tag: buf[at]!, start: at + head, end: at + head + len };
  };
  const children = (buf: Buffer, node: { start: number; end: number }) => {
    const out: { tag: number; at: number; start: number; end: number }[] = [];
    for (let at = node.start; at < node.end; ) {
      const n = read(buf, at);
      out.push({ ...n, at });
      at = n.end;
    }
    return out;
  };
  const contentInfo = read(der, 0);
  const explicit = children(der, contentInfo)[1]!;
  const signedData = children(der, explicit)[0]!;
  const certs = children(der, signedData).find((c) => c.tag === 0xa0)!;
  return children(der, certs).map((c) => der.subarray(c.at, c.end));
}

/** X.690 11.6: ascending as octet strings, the shorter padded with trailing zero octets. */
function derSetOrder(a: Buffer, b: Buffer): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

describe('PKCS#7 in DER', () => {
  test('cacerts: the certificates SET is sorted by encoding (X.690 11.6); openssl still prints the whole chain', async () => {
    const res = await est({ path: '/.well-known/est/wire/cacerts' });
    assert.equal(res.status, 200);
    const der = Buffer.from(res.body.toString('latin1'), 'base64');
    const certs = certificateSetElements(der);
    assert.equal(certs.length, 2, 'the sub-CA and its root');
    for (let i = 1; i < certs.length; i++) assert.ok(derSetOrder(certs[i - 1]!, certs[i]!) <= 0, `element ${i} sorts before element ${i - 1}`);
    writeFileSync(f('cacerts.p7.der'), der);
    const printed = await openssl('pkcs7', '-inform', 'DER', '-in', f('cacerts.p7.der'), '-print_certs', '-noout');
    assert.match(printed, /wire-root CA/);
    assert.match(printed, /wire-sub CA/);
  });
});

/** `openssl asn1parse` of the csrattrs body: the OIDs in order, and the values inside each attribute's SET. */
async function csrAttrOids(dmsId: string): Promise<string[]> {
  const res = await est({ path: `/.well-known/est/${dmsId}/csrattrs` });
  assert.equal(res.status, 200, res.body.toString());
  writeFileSync(f(`${dmsId}.attrs.der`), Buffer.from(res.body.toString('latin1'), 'base64'));
  const dump = await openssl('asn1parse', '-inform', 'DER', '-in', f(`${dmsId}.attrs.der`));
  return dump.split('\n').filter((l) => /OBJECT|INTEGER/.test(l)).map((l) => l.replace(/^.*(OBJECT|INTEGER)\s*:/, '').trim());
}

describe('csrattrs names what the issuance profile accepts (RFC 7030 4.5.2, RFC 9908 3.2 attribute form)', () => {
  test('no crypto enforcement: the DMS\'s own key (P-256) and ecdsa-with-SHA256; challengePassword for a webhook DMS', async () => {
    assert.deepEqual(await csrAttrOids('wire'), ['id-ecPublicKey', 'prime256v1', 'ecdsa-with-SHA256']);
    assert.deepEqual(await csrAttrOids('wire-hook'), ['challengePassword', 'id-ecPublicKey', 'prime256v1', 'ecdsa-with-SHA256']);
  });

  test('profiles with crypto enforcement: RSA 3072 only, EC P-384/521 only, Ed25519 only; serialNumber when it names devices', async () => {
    const profile = async (name: string, enforcement: Record<string, unknown>) =>
      (await admin(server, 'POST', '/api/ca/v1/profiles', { name, validity: { type: 'Duration', duration: '90d' }, crypto_enforcement: { enabled: true, ...enforcement } })).json.id as string;
    const rsa = await profile('rsa-3072', { allow_ecdsa_keys: false, allow_ed25519_keys: false, allowed_rsa_key_sizes: [3072] });
    const ec = await profile('ec-big', { allow_rsa_keys: false, allow_ed25519_keys: false, allowed_ecdsa_key_sizes: [384, 521] });
    const ed = await profile('ed-only', { allow_rsa_keys: false, allow_ecdsa_keys: false });
    const create = (id: string, profileId: string, enrollment: Record<string, unknown> = {}) =>
      admin(server, 'POST', '/api/dmsmanager/v1/dms', dmsBody(id, 'wire-sub', { auth_mode: 'NO_AUTH' }, { issuance_profile_id: profileId }, enrollment));
    await create('attrs-rsa', rsa, { device_id_source: 'serial_number' });
    await create('attrs-ec', ec);
    await create('attrs-ed', ed);
    assert.deepEqual(await csrAttrOids('attrs-rsa'), ['serialNumber', 'rsaEncryption', '0C00', 'sha256WithRSAEncryption']);
    assert.deepEqual(await csrAttrOids('attrs-ec'), ['id-ecPublicKey', 'secp384r1', 'ecdsa-with-SHA384']);
    assert.deepEqual(await csrAttrOids('attrs-ed'), ['ED25519']);
  });
});
