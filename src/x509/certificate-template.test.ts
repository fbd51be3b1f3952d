import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isDomainError } from '../domain/errors.ts';
import { createCertificateTemplate, randomSerialNumber, signCertificate, type CertificateTemplateOptions } from './certificate-template.ts';
import { serialHex } from './serial.ts';
import { parseCertificate, verifyCertificateSignature } from './certificate.ts';
import { parseCsr, verifyCsrSignature } from './csr.ts';
import { opensslCsr, TEST_KEY_KINDS, testKey } from '../../test/support/csr-fixture.ts';
import { keyObjectSigner } from './key-object-signer.ts';
import { buildName, decodeName } from './name.ts';
import { toPem } from './pem.ts';
import { parsePublicKey, subjectKeyIdentifier } from './public-key.ts';

const hex = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString('hex');
const colonHex = (b: Uint8Array | undefined) => hex(b).toUpperCase().replace(/(..)(?!$)/g, '$1:');
const spkiOf = (k: KeyObject) => new Uint8Array(k.export({ format: 'der', type: 'spki' }));
const DAY = 86_400_000;
const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);
const VA = ['http://va1.example/api/va', 'http://va2.example/api/va'];

interface Issued {
  der: Uint8Array;
  key: KeyObject;
  spki: Uint8Array;
  ski: Uint8Array;
  subjectName: Uint8Array;
}

/** A CA certificate: self-signed when `issuer` is omitted. */
async function caCert(name: string, privateKey: KeyObject, publicKey: KeyObject, issuer?: Issued, pathLen?: number): Promise<Issued> {
  const spki = spkiOf(publicKey);
  const ski = subjectKeyIdentifier(parsePublicKey(spki));
  const subjectName = buildName({ common_name: name, organization: 'Lamassu', country: 'ES' });
  const signingKey = issuer?.key ?? privateKey;
  const signer = keyObjectSigner(signingKey);
  const template = createCertificateTemplate({
    issuerName: issuer?.subjectName ?? subjectName,
    issuerKeyIdentifier: issuer?.ski ?? ski,
    signatureAlgorithm: signer.algorithm,
    basicConstraints: { ca: true, pathLen },
    keyUsage: ['keyCertSign', 'cRLSign', 'digitalSignature'],
    ...(issuer ? { crlDistributionPoints: VA.map((u) => `${u}/crl/root`), ocspUrls: VA.map((u) => `${u}/ocsp`) } : {}),
  });
  const der = await signCertificate(template, signer, {
    serialNumber: randomSerialNumber(),
    notBefore: new Date(NOW.getTime() - DAY),
    notAfter: new Date(NOW.getTime() + 3650 * DAY),
    subjectName,
    spki,
    subjectKeyIdentifier: ski,
  });
  return { der, key: privateKey, spki, ski, subjectName };
}

function openssl(args: string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

TEST_KEY_KINDS.forEach((rootKind, idx) => {
  const subKind = TEST_KEY_KINDS[(idx + 3) % TEST_KEY_KINDS.length]!;
  const leafKind = TEST_KEY_KINDS[(idx + 1) % TEST_KEY_KINDS.length]!;
  test(`chain root ${rootKind} -> sub ${subKind} -> leaf ${leafKind} (from an openssl CSR) verifies with openssl -x509_strict`, async () => {
    const root = await caCert('Root ' + rootKind, testKey(rootKind).privateKey, testKey(rootKind).publicKey);
    const sub = await caCert('Sub ' + subKind, testKey(subKind).privateKey, testKey(subKind).publicKey, root, 0);

    const csr = parseCsr(
      opensslCsr({ key: leafKind, subj: '/O=Lamassu/CN=device-1', addext: ['subjectAltName=DNS:device-1.example,IP:10.0.0.7,email:ops@example.com'] }),
    );
    assert.equal(verifyCsrSignature(csr), true);
    const signer = keyObjectSigner(sub.key);
    const template = createCertificateTemplate({
      issuerName: sub.subjectName,
      issuerKeyIdentifier: sub.ski,
      signatureAlgorithm: signer.algorithm,
      basicConstraints: { ca: false },
      keyUsage: ['digitalSignature'],
      extendedKeyUsage: ['clientAuth'],
      crlDistributionPoints: VA.map((u) => `${u}/crl/sub`),
      ocspUrls: VA.map((u) => `${u}/ocsp`),
      caIssuersUrls: ['http://ca.example/api/ca/v1/cas/sub/certificate'],
    });
    const serial = randomSerialNumber();
    const leafSki = subjectKeyIdentifier(csr.publicKey);
    const leaf = await signCertificate(template, signer, {
      serialNumber: serial,
      notBefore: NOW,
      notAfter: new Date(NOW.getTime() + 365 * DAY),
      subjectName: csr.subjectName,
      spki: csr.publicKey.spki,
      subjectKeyIdentifier: leafSki,
      subjectAltName: csr.extensions.subjectAltName,
    });

    const dir = mkdtempSync(path.join(tmpdir(), 'lamassu-chain-'));
    try {
      const f = (n: string, der: Uint8Array) => {
        const p = path.join(dir, n);
        writeFileSync(p, toPem(der, 'CERTIFICATE'));
        return p;
      };
      const [rootPem, subPem, leafPem] = [f('root.pem', root.der), f('sub.pem', sub.der), f('leaf.pem', leaf)];
      assert.match(openssl(['verify', '-x509_strict', '-CAfile', rootPem, '-untrusted', subPem, leafPem]), /leaf\.pem: OK/);

      const text = openssl(['x509', '-in', leafPem, '-text', '-noout']);
      assert.match(text, /X509v3 Basic Constraints: \n\s+CA:FALSE/);
      assert.match(text, /X509v3 Key Usage: critical\s+Digital Signature\n/);
      assert.match(text, /X509v3 Extended Key Usage: \s*TLS Web Client Authentication\n/);
      assert.match(text, new RegExp(`X509v3 Subject Key Identifier: \\s*${colonHex(leafSki)}\\n`));
      assert.match(text, new RegExp(`X509v3 Authority Key Identifier: \\s*(keyid:)?${colonHex(sub.ski)}\\n`));
      assert.match(text, /X509v3 Subject Alternative Name: \s*DNS:device-1.example, IP Address:10.0.0.7, email:ops@example.com\n/);
      assert.match(text, /CRL Distribution Points: \s*Full Name:\s+URI:http:\/\/va1.example\/api\/va\/crl\/sub\s+URI:http:\/\/va2.example\/api\/va\/crl\/sub\n/);
      assert.match(text, /OCSP - URI:http:\/\/va1.example\/api\/va\/ocsp\s+OCSP - URI:http:\/\/va2.example\/api\/va\/ocsp\s+CA Issuers - URI:http:\/\/ca.example/);
      const subText = openssl(['x509', '-in', subPem, '-text', '-noout']);
      assert.match(subText, /X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0\n/);
      assert.match(subText, /X509v3 Key Usage: critical\s+Digital Signature, Certificate Sign, CRL Sign\n/);

      // node's X509Certificate is a second independent reader.
      const x = new X509Certificate(leaf);
      assert.equal(x.verify(testKey(subKind).publicKey), true);
      assert.equal(x.serialNumber.toLowerCase().replace(/^0+(?=.)/, ''), parseCertificate(leaf).serialNumber);
      assert.equal(new Date(x.validTo).getTime(), NOW.getTime() + 365 * DAY);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    const parsed = parseCertificate(leaf);
    assert.equal(parsed.version, 3);
    assert.equal(parsed.serialNumber, serialHex(serial));
    assert.deepEqual(parsed.subject, { organization: 'Lamassu', common_name: 'device-1' });
    assert.deepEqual(parsed.issuer, { country: 'ES', organization: 'Lamassu', common_name: 'Sub ' + subKind });
    assert.deepEqual(parsed.subjectName, csr.subjectName);
    assert.deepEqual(parsed.publicKey.spki, csr.publicKey.spki);
    assert.equal(parsed.publicKey.type, csr.publicKey.type);
    assert.equal(parsed.notBefore.getTime(), NOW.getTime());
    assert.deepEqual(parsed.subjectKeyIdentifier, leafSki);
    assert.deepEqual(parsed.authorityKeyIdentifier, sub.ski);
    assert.deepEqual(parsed.basicConstraints, { ca: false });
    assert.deepEqual(parsed.keyUsage, ['digitalSignature']);
    assert.deepEqual(parsed.extendedKeyUsage, ['clientAuth']);
    assert.deepEqual(parsed.subjectAltNames, { dns: ['device-1.example'], ip: ['10.0.0.7'], uri: [], email: ['ops@example.com'] });
    assert.deepEqual(parsed.crlDistributionPoints, VA.map((u) => `${u}/crl/sub`));
    assert.deepEqual(parsed.ocspUrls, VA.map((u) => `${u}/ocsp`));
    assert.deepEqual(parsed.caIssuersUrls, ['http://ca.example/api/ca/v1/cas/sub/certificate']);
    assert.equal(verifyCertificateSignature(parsed, sub.spki), true);
    assert.equal(verifyCertificateSignature(parsed, root.spki), false);
    const parsedSub = parseCertificate(sub.der);
    assert.deepEqual(parsedSub.basicConstraints, { ca: true, pathLen: 0 });
    assert.equal(verifyCertificateSignature(parsedSub, root.spki), true);
    const parsedRoot = parseCertificate(root.der);
    assert.equal(verifyCertificateSignature(parsedRoot, parsedRoot.publicKey), true);
  });
});

test('known answer: fixed Ed25519 key, serial, dates and names give fixed certificate bytes', async () => {
  // RFC 8032 test vector 1 secret key, wrapped in PKCS#8; Ed25519 signatures are deterministic.
  const key = createPrivateKey({
    key: Buffer.from('302e020100300506032b6570042204209d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex'),
    format: 'der',
    type: 'pkcs8',
  });
  const spki = spkiOf(createPublicKey(key));
  const name = buildName({ common_name: 'KAT', country: 'ES' });
  const template = createCertificateTemplate({
    issuerName: name,
    issuerKeyIdentifier: Uint8Array.of(1, 2, 3, 4),
    signatureAlgorithm: 'Ed25519',
    basicConstraints: { ca: false },
    keyUsage: ['digitalSignature'],
    extendedKeyUsage: ['clientAuth'],
    crlDistributionPoints: ['http://va/crl'],
    ocspUrls: ['http://va/ocsp'],
  });
  const input = {
    serialNumber: Uint8Array.of(0x80, 0x01),
    notBefore: new Date('2026-01-02T03:04:05.999Z'),
    notAfter: new Date('2050-06-07T08:09:10Z'),
    subjectName: name,
    spki,
    subjectKeyIdentifier: subjectKeyIdentifier(parsePublicKey(spki)),
  };
  assert.equal(hex(template.tbs(input)), KAT_TBS);
  const cert = await signCertificate(template, keyObjectSigner(key), input);
  assert.equal(hex(cert), KAT_CERT);
  assert.equal(new X509Certificate(cert).verify(createPublicKey(key)), true);
});

// Checked with `openssl x509 -text` and asn1parse: serial 0x8001 gets its 00 pad, notBefore drops the
// milliseconds as UTCTime, notAfter in 2050 is GeneralizedTime, SKI = SHA-1 of the RFC 8032 public key.
const KAT_CERT =
  '308201993082014ba0030201020203008001300506032b6570301b310b3009060355040613024553310c300a06035504030c' +
  '034b41543020170d3236303130323033303430355a180f32303530303630373038303931305a301b310b3009060355040613' +
  '024553310c300a06035504030c034b4154302a300506032b6570032100d75a980182b10ab7d54bfed3c964073a0ee172f3da' +
  'a62325af021a68f707511aa381af3081ac30090603551d1304023000300e0603551d0f0101ff04040302078030130603551d' +
  '25040c300a06082b06010505070302301d0603551d0e041604145b27aa5589179770e47575b162a1ded97b8bfc6d300f0603' +
  '551d2304083006800401020304301e0603551d1f041730153013a011a00f860d687474703a2f2f76612f63726c302a06082b' +
  '06010505070101041e301c301a06082b06010505073001860e687474703a2f2f76612f6f637370300506032b657003410087' +
  '9b8ee14a6bf5521c1b5a53c99fb879b4de85a574f1a6dc54fc9eaaab5b11e329a5bfa9413c54eaed7cd15e93ab1370e08d75' +
  '62e8c6eb838b76be69f5685e0a';
// The TBSCertificate is the 331-byte element after the outer 4-byte header.
const KAT_TBS = KAT_CERT.slice(8, 8 + 2 * (4 + 331));

test('empty subject makes SAN critical; per-certificate usage overrides; empty lists drop extensions', async () => {
  const t = createCertificateTemplate({
    issuerName: buildName({ common_name: 'CA' }),
    signatureAlgorithm: 'ecdsa-with-SHA256',
    keyUsage: ['digitalSignature'],
    extendedKeyUsage: ['clientAuth'],
  });
  const spki = spkiOf(testKey('p256').publicKey);
  const san = Uint8Array.of(0x30, 0x06, 0x82, 0x04, 0x61, 0x2e, 0x65, 0x78);
  const base = { serialNumber: Uint8Array.of(1), notBefore: NOW, notAfter: NOW, spki };
  const tbs = t.tbs({ ...base, subjectName: Uint8Array.of(0x30, 0x00), subjectAltName: san, keyUsage: ['keyAgreement'], extendedKeyUsage: [] });
  const cert = parseCertificate(await signCertificate(t, keyObjectSigner(testKey('p256').privateKey), {
    ...base,
    subjectName: Uint8Array.of(0x30, 0x00),
    subjectAltName: san,
    keyUsage: ['keyAgreement'],
    extendedKeyUsage: [],
  }));
  assert.deepEqual(cert.keyUsage, ['keyAgreement']);
  assert.equal(cert.extendedKeyUsage, undefined);
  assert.deepEqual(cert.subjectAltNames.dns, ['a.ex']);
  // SAN extension: OID 2.5.29.17 followed by BOOLEAN TRUE.
  assert.ok(Buffer.from(tbs).includes(Buffer.from('0603551d110101ff', 'hex')));
});

test('template refuses bad serials, windows and non-DER verbatim inputs', () => {
  const t = createCertificateTemplate({ issuerName: buildName({ common_name: 'CA' }), signatureAlgorithm: 'Ed25519' });
  const ok = { serialNumber: Uint8Array.of(1), notBefore: NOW, notAfter: NOW, subjectName: buildName({}), spki: spkiOf(testKey('ed25519').publicKey) };
  assert.ok(t.tbs(ok).length > 0);
  assert.throws(() => t.tbs({ ...ok, serialNumber: new Uint8Array(0) }), RangeError);
  assert.throws(() => t.tbs({ ...ok, serialNumber: new Uint8Array(21).fill(1) }), RangeError);
  assert.throws(() => t.tbs({ ...ok, serialNumber: new Uint8Array(3) }), RangeError);
  assert.throws(() => t.tbs({ ...ok, notAfter: new Date(NOW.getTime() - 1000) }), RangeError);
  assert.throws(() => t.tbs({ ...ok, spki: ok.spki.subarray(1) }), RangeError);
  assert.throws(() => t.tbs({ ...ok, subjectName: Uint8Array.of(0x30, 0x00, 0x00) }), RangeError);
});

test('buildName: RFC 5280 string types, order and validation', () => {
  const der = buildName({ common_name: 'Ñandú device', organization: 'Lamassu', organization_unit: 'IoT', country: 'ES', state: 'Gipuzkoa', locality: 'Arrasate', serial_number: 'A-1' });
  const dir = mkdtempSync(path.join(tmpdir(), 'lamassu-name-'));
  let text: string;
  try {
    writeFileSync(path.join(dir, 'name.der'), der);
    text = openssl(['asn1parse', '-inform', 'DER', '-in', path.join(dir, 'name.der')]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.match(text, /countryName\s*\n.*PRINTABLESTRING\s*:ES/);
  assert.match(text, /serialNumber\s*\n.*PRINTABLESTRING\s*:A-1/);
  assert.match(text, /commonName\s*\n.*UTF8STRING/);
  assert.deepEqual(decodeName(der).fields.common_name, 'Ñandú device');
  assert.deepEqual(decodeName(der).attributes.map((a) => a.type), ['2.5.4.6', '2.5.4.8', '2.5.4.7', '2.5.4.10', '2.5.4.11', '2.5.4.3', '2.5.4.5']);
  for (const bad of [{ country: 'ESP' }, { country: 'E1' }, { serial_number: 'ñ' }]) {
    assert.throws(() => buildName(bad), (e: unknown) => isDomainError(e) && e.code === 'SUBJECT_INVALID');
  }
});
