import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isDomainError } from '../domain/errors.ts';
import { parseCertificate, verifyCertificateSignature } from './certificate.ts';
import { buildName, decodeName } from './name.ts';
import { fromPem } from './pem.ts';

const code = (c: string) => (e: unknown) => isDomainError(e) && e.code === c && e.kind === 'invalid';

/** A self-signed certificate made by openssl, so the reader is checked against an independent producer. */
function opensslCert(keyArgs: string[], extra: string[] = []): Uint8Array {
  const dir = mkdtempSync(path.join(tmpdir(), 'lamassu-cert-'));
  try {
    const out = path.join(dir, 'c.pem');
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', ...keyArgs, '-nodes', '-keyout', path.join(dir, 'k.pem'), '-subj', '/C=ES/O=Lamassu/CN=Imported CA', '-days', '30', '-out', out, ...extra],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    return fromPem(readFileSync(out, 'utf8'), 'CERTIFICATE')!;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('reads an openssl CA certificate: names, key, validity, SKI/AKI, basicConstraints, usages, URLs', async () => {
  const der = opensslCert(['ec', '-pkeyopt', 'ec_paramgen_curve:P-384'], [
    '-set_serial', '0x00ff01',
    '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:2',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-addext', 'extendedKeyUsage=serverAuth,OCSPSigning',
    '-addext', 'subjectAltName=DNS:ca.example,IP:::1,URI:https://ca.example/x',
    '-addext', 'crlDistributionPoints=URI:http://va.example/crl',
    '-addext', 'authorityInfoAccess=OCSP;URI:http://va.example/ocsp,caIssuers;URI:http://ca.example/ca.crt',
  ]);
  const c = parseCertificate(der);
  assert.equal(c.serialNumber, 'ff01');
  assert.deepEqual(c.subject, { country: 'ES', organization: 'Lamassu', common_name: 'Imported CA' });
  assert.deepEqual(c.issuerName, c.subjectName);
  assert.deepEqual({ type: c.publicKey.type, bits: c.publicKey.bits }, { type: 'ECDSA', bits: 384 });
  assert.equal(c.notAfter.getTime() - c.notBefore.getTime(), 30 * 86_400_000);
  assert.deepEqual(c.basicConstraints, { ca: true, pathLen: 2 });
  assert.deepEqual(c.keyUsage, ['keyCertSign', 'cRLSign']);
  assert.deepEqual(c.extendedKeyUsage, ['serverAuth', 'OCSPSigning']);
  assert.deepEqual(c.subjectAltNames, { dns: ['ca.example'], ip: ['::1'], uri: ['https://ca.example/x'], email: [] });
  assert.deepEqual(c.crlDistributionPoints, ['http://va.example/crl']);
  assert.deepEqual(c.ocspUrls, ['http://va.example/ocsp']);
  assert.deepEqual(c.caIssuersUrls, ['http://ca.example/ca.crt']);
  assert.equal(c.subjectKeyIdentifier?.length, 20);
  assert.deepEqual(c.authorityKeyIdentifier, c.subjectKeyIdentifier);
  assert.equal(c.signatureAlgorithm?.hash, 'SHA-256');
  assert.equal(verifyCertificateSignature(c, c.publicKey.spki), true);
});

test('RSA and Ed25519 self-signed certificates verify; a tampered signature does not', async () => {
  for (const keyArgs of [['rsa:2048'], ['ed25519']]) {
    const der = opensslCert(keyArgs);
    const c = parseCertificate(der);
    assert.equal(verifyCertificateSignature(c, c.publicKey.spki), true, keyArgs[0]);
    const bad = new Uint8Array(der);
    bad[bad.length - 3]! ^= 0x40;
    assert.equal(verifyCertificateSignature(parseCertificate(bad), c.publicKey.spki), false, keyArgs[0]);
    assert.equal(verifyCertificateSignature(c, Uint8Array.of(1, 2, 3)), false);
  }
});

test('malformed certificates: CERTIFICATE_MALFORMED; odd keys: CERTIFICATE_KEY_UNSUPPORTED', () => {
  const der = opensslCert(['ec', '-pkeyopt', 'ec_paramgen_curve:P-256']);
  for (const bad of [new Uint8Array(0), Uint8Array.of(0x30, 0x00), Uint8Array.from([...der, 0]), new TextEncoder().encode('garbage')]) {
    assert.throws(() => parseCertificate(bad), code('CERTIFICATE_MALFORMED'));
  }
  for (let n = 0; n < der.length; n++) assert.throws(() => parseCertificate(der.subarray(0, n)), code('CERTIFICATE_MALFORMED'));
  const k1 = opensslCert(['ec', '-pkeyopt', 'ec_paramgen_curve:secp256k1']);
  assert.throws(() => parseCertificate(k1), code('CERTIFICATE_KEY_UNSUPPORTED'));
});

test('byte mutations of a real certificate: parsed or refused with a DomainError, never another exception', () => {
  const der = opensslCert(['ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], [
    '-addext', 'subjectAltName=DNS:a.example,IP:10.1.2.3',
    '-addext', 'crlDistributionPoints=URI:http://va.example/crl',
    '-addext', 'authorityInfoAccess=OCSP;URI:http://va.example/ocsp',
  ]);
  let seed = 777;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
  for (let n = 0; n < 3000; n++) {
    const m = new Uint8Array(der);
    for (let k = 0; k <= n % 3; k++) m[rand() % m.length] = rand() & 0xff;
    try {
      const c = parseCertificate(m);
      verifyCertificateSignature(c, c.publicKey.spki);
    } catch (e) {
      assert.ok(isDomainError(e), `mutation ${n} threw ${String(e)}`);
    }
  }
});

test('a huge attribute value is read, not a stack overflow', () => {
  // serialNumber is a PrintableString: the byte-per-character path.
  const value = 'x'.repeat(300_000);
  assert.equal(decodeName(buildName({ serial_number: value })).fields.serial_number, value);
});
