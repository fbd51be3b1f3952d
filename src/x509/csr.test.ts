import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isDomainError } from '../domain/errors.ts';
import { parseCsr, parseCsrInput, parseCsrTemplate, verifyCsrSignature, verifyCsrSignatureAsync, type ParsedCsr } from './csr.ts';
import { opensslCsr, TEST_KEY_KINDS, testKey, type TestKeyKind } from '../../test/support/csr-fixture.ts';
import { toPem } from './pem.ts';

/** Both routes must agree. */
async function verifies(csr: ParsedCsr): Promise<boolean> {
  const sync = verifyCsrSignature(csr);
  assert.equal(await verifyCsrSignatureAsync(csr), sync, 'sync and async verification disagree');
  return sync;
}

const SUBJ = '/C=ES/ST=Gipuzkoa/L=Arrasate/O=Lamassu/OU=IoT/CN=device-1/serialNumber=SN-0042';
const SAN = 'subjectAltName=DNS:device-1.example,IP:10.0.0.7,IP:2001:db8::1,URI:urn:dev:1,email:ops@example.com';

const expected: Record<TestKeyKind, { type: string; bits: number; curve?: string }> = {
  rsa2048: { type: 'RSA', bits: 2048 },
  rsa3072: { type: 'RSA', bits: 3072 },
  rsa4096: { type: 'RSA', bits: 4096 },
  p256: { type: 'ECDSA', bits: 256, curve: 'P-256' },
  p384: { type: 'ECDSA', bits: 384, curve: 'P-384' },
  p521: { type: 'ECDSA', bits: 521, curve: 'P-521' },
  ed25519: { type: 'ED25519', bits: 256 },
};

const code = (c: string) => (e: unknown) => isDomainError(e) && e.code === c && e.kind === 'invalid';

for (const kind of TEST_KEY_KINDS) {
  test(`openssl ${kind} CSR: parsed, subject and key verbatim, signature verifies`, async () => {
    const der = opensslCsr({
      key: kind,
      subj: SUBJ,
      addext: [SAN, 'keyUsage=critical,digitalSignature,keyAgreement', 'extendedKeyUsage=clientAuth,1.3.6.1.4.1.99999.1', 'basicConstraints=CA:FALSE'],
    });
    const csr = parseCsr(der);
    assert.deepEqual({ type: csr.publicKey.type, bits: csr.publicKey.bits, curve: csr.publicKey.curve }, { curve: undefined, ...expected[kind] });
    const spki = testKey(kind).publicKey.export({ format: 'der', type: 'spki' });
    assert.deepEqual(Buffer.from(csr.publicKey.spki), spki);
    assert.deepEqual(csr.subject, {
      country: 'ES',
      state: 'Gipuzkoa',
      locality: 'Arrasate',
      organization: 'Lamassu',
      organization_unit: 'IoT',
      common_name: 'device-1',
      serial_number: 'SN-0042',
    });
    assert.equal(csr.subjectAttributes.length, 7);
    assert.ok(Buffer.from(csr.info).includes(Buffer.from(csr.subjectName)));
    assert.deepEqual(csr.extensions.subjectAltNames, {
      dns: ['device-1.example'],
      ip: ['10.0.0.7', '2001:db8::1'],
      uri: ['urn:dev:1'],
      email: ['ops@example.com'],
    });
    assert.equal(csr.extensions.subjectAltName![0], 0x30);
    assert.deepEqual(csr.extensions.keyUsage, ['digitalSignature', 'keyAgreement']);
    assert.deepEqual(csr.extensions.extendedKeyUsage, ['clientAuth', '1.3.6.1.4.1.99999.1']);
    assert.deepEqual(csr.extensions.basicConstraints, { ca: false });
    assert.equal(await verifies(csr), true);
  });
}

test('ECDSA with a stronger hash than the curve, and RSA-PSS, verify', async () => {
  for (const extra of [['-sha384'], ['-sha512']]) {
    const csr = parseCsr(opensslCsr({ key: 'p256', subj: '/CN=x', extra }));
    assert.equal(csr.signatureAlgorithm.hash, extra[0] === '-sha384' ? 'SHA-384' : 'SHA-512');
    assert.equal(await verifies(csr), true);
  }
  const pss = parseCsr(
    opensslCsr({ key: 'rsa2048', subj: '/CN=pss', extra: ['-sha256', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32'] }),
  );
  assert.deepEqual({ scheme: pss.signatureAlgorithm.scheme, hash: pss.signatureAlgorithm.hash, salt: pss.signatureAlgorithm.saltLength }, {
    scheme: 'rsa-pss',
    hash: 'SHA-256',
    salt: 32,
  });
  assert.equal(await verifies(pss), true);
});

test('challengePassword attribute is read', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lamassu-csr-cfg-'));
  try {
    const cfg = path.join(dir, 'req.cnf');
    writeFileSync(cfg, '[req]\nprompt = no\ndistinguished_name = dn\nattributes = attrs\n[dn]\nCN = d\n[attrs]\nchallengePassword = s3cret-pass\n');
    const csr = parseCsr(opensslCsr({ key: 'p256', extra: ['-config', cfg] }));
    assert.equal(csr.challengePassword, 's3cret-pass');
    assert.equal(csr.extensions.subjectAltName, undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('parseCsrInput accepts PEM (both labels), base64 with and without breaks, DER, and PEM bytes', () => {
  const der = opensslCsr({ key: 'p256', subj: '/CN=input' });
  const pem = toPem(der, 'CERTIFICATE REQUEST');
  const b64 = Buffer.from(der).toString('base64');
  const inputs: (string | Uint8Array)[] = [
    pem,
    `junk before\n${toPem(der, 'NEW CERTIFICATE REQUEST')}`,
    b64,
    b64.replace(/(.{64})/g, '$1\r\n'),
    der,
    new TextEncoder().encode(pem),
    new TextEncoder().encode(b64),
  ];
  for (const input of inputs) assert.deepEqual(parseCsrInput(input).der, der);
});

test('malformed inputs: CSR_MALFORMED, never a crash', () => {
  const der = opensslCsr({ key: 'p256', subj: '/CN=bad' });
  const bad: (string | Uint8Array)[] = [
    '',
    'not a csr at all!',
    'AAAA',
    toPem(der, 'CERTIFICATE'),
    Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00),
    der.subarray(0, der.length - 1),
    Uint8Array.from([...der, 0x00]),
    new Uint8Array(200_000).fill(0x30),
  ];
  for (const input of bad) assert.throws(() => parseCsrInput(input), code('CSR_MALFORMED'), String(input).slice(0, 40));
  // Random garbage at every length must be refused cleanly.
  for (let n = 0; n < 300; n++) {
    const junk = Uint8Array.from({ length: n }, (_, i) => (i === 0 ? 0x30 : (i * 7919 + n) & 0xff));
    assert.throws(() => parseCsr(junk), code('CSR_MALFORMED'));
  }
  // Every truncation of a real CSR too.
  for (let n = 0; n < der.length; n++) assert.throws(() => parseCsr(der.subarray(0, n)), code('CSR_MALFORMED'));
});

test('tampered signature or tampered request info: verify is false', async () => {
  for (const kind of ['p256', 'rsa2048', 'ed25519'] as const) {
    const der = opensslCsr({ key: kind, subj: '/CN=tamper-me' });
    const sig = new Uint8Array(der);
    sig[sig.length - 5]! ^= 0x01;
    assert.equal(await verifies(parseCsr(sig)), false, kind);
    const info = new Uint8Array(der);
    const at = Buffer.from(info).indexOf('tamper-me');
    info[at] = 'T'.charCodeAt(0);
    assert.equal(await verifies(parseCsr(info)), false, kind);
  }
});

test('a valid signature by a different key does not verify', async () => {
  const a = parseCsr(opensslCsr({ key: 'p256', subj: '/CN=same' }));
  const b = parseCsr(opensslCsr({ key: ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], subj: '/CN=same' }));
  assert.equal(await verifies({ ...a, publicKey: b.publicKey }), false);
});

test('unsupported keys: CSR_KEY_UNSUPPORTED; SHA-1: CSR_SIGNATURE_ALGORITHM_UNSUPPORTED', () => {
  const k1 = opensslCsr({ key: ['ec', '-pkeyopt', 'ec_paramgen_curve:secp256k1'], subj: '/CN=k1' });
  assert.throws(() => parseCsr(k1), code('CSR_KEY_UNSUPPORTED'));
  const rsa1024 = opensslCsr({ key: ['rsa:1024'], subj: '/CN=small' });
  assert.throws(() => parseCsr(rsa1024), code('CSR_KEY_UNSUPPORTED'));
  const sha1 = opensslCsr({ key: 'rsa2048', subj: '/CN=sha1', extra: ['-sha1'] });
  assert.throws(() => parseCsr(sha1), code('CSR_SIGNATURE_ALGORITHM_UNSUPPORTED'));
});

test('parseCsrTemplate reads the request of a CSR whose key and signature are unusable (serverkeygen dummies, RFC 7030 4.4.1)', () => {
  const dummy = opensslCsr({ key: ['rsa:512'], subj: '/CN=dummy/O=Plant', addext: ['subjectAltName=DNS:dummy.example'], extra: ['-sha1'] });
  assert.throws(() => parseCsr(dummy), code('CSR_KEY_UNSUPPORTED'));
  const t = parseCsrTemplate(dummy);
  assert.equal(t.subject.common_name, 'dummy');
  assert.deepEqual(t.extensions.subjectAltNames?.dns, ['dummy.example']);
  assert.equal(t.extensionRequest?.[0], 0x30, 'the Extensions SEQUENCE, verbatim');
  assert.equal('publicKey' in t, false);
  assert.throws(() => parseCsrTemplate(dummy.subarray(0, dummy.length - 1)), code('CSR_MALFORMED'));
});

test('SPKI from the CSR loads in node:crypto unchanged', () => {
  const csr = parseCsr(opensslCsr({ key: 'p384', subj: '/CN=k' }));
  assert.equal(createPublicKey({ key: Buffer.from(csr.publicKey.spki), format: 'der', type: 'spki' }).asymmetricKeyType, 'ec');
});

test('compressed EC points (P-256, P-384) parse and verify', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lamassu-csr-cmp-'));
  try {
    for (const [curve, pointBytes] of [['prime256v1', 33], ['secp384r1', 49]] as const) {
      const raw = path.join(dir, `${curve}.pem`);
      const cmp = path.join(dir, `${curve}-c.pem`);
      const out = path.join(dir, `${curve}.der`);
      const run = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
      run(['ecparam', '-name', curve, '-genkey', '-noout', '-out', raw]);
      run(['ec', '-in', raw, '-conv_form', 'compressed', '-out', cmp]);
      run(['req', '-new', '-key', cmp, '-subj', '/CN=compressed', '-outform', 'DER', '-out', out]);
      const csr = parseCsr(new Uint8Array(readFileSync(out)));
      assert.equal(csr.publicKey.key.length, pointBytes);
      assert.equal(await verifies(csr), true, curve);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('byte mutations of a real CSR: parsed or refused with a DomainError, never another exception', () => {
  const der = opensslCsr({ key: 'p256', subj: SUBJ, addext: [SAN, 'keyUsage=critical,digitalSignature'] });
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
  for (let n = 0; n < 3000; n++) {
    const m = new Uint8Array(der);
    for (let k = 0; k <= n % 3; k++) m[rand() % m.length] = rand() & 0xff;
    try {
      verifyCsrSignature(parseCsr(m));
    } catch (e) {
      assert.ok(isDomainError(e), `mutation ${n} threw ${String(e)}`);
    }
  }
});
