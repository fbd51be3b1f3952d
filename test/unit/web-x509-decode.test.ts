/**
 * The web console decodes certificates in the browser (web/src/x509/cert.ts). Here the same decoder reads a
 * certificate openssl made with every extension the console names, and what it says is compared with
 * `openssl x509 -text` for the same certificate.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { decodeCertificate, fingerprints, type DecodedCertificate } from '../../web/src/x509/cert.ts';

const run = promisify(execFile);
let dir: string;
let text: string;
let cert: DecodedCertificate;
let der: Uint8Array;

const CONFIG = `[req]
distinguished_name = req_dn
[req_dn]
[v3]
basicConstraints = critical,CA:TRUE,pathlen:2
keyUsage = critical,digitalSignature,keyCertSign,cRLSign
extendedKeyUsage = serverAuth,clientAuth,1.2.3.4.5
subjectAltName = DNS:a.example,email:x@example.com,URI:https://u.example/p,IP:10.0.0.1,IP:2001:db8::1,RID:1.2.3.4,dirName:dn,otherName:1.3.6.1.4.1.311.20.2.3;UTF8:upn@example
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
crlDistributionPoints = URI:http://crl.example/ca.crl
authorityInfoAccess = OCSP;URI:http://ocsp.example,caIssuers;URI:http://ca.example/ca.cer
certificatePolicies = 2.5.29.32.0,@pol
nameConstraints = permitted;DNS:.example.com,excluded;IP:192.168.0.0/255.255.0.0
1.2.3.4.5.6 = ASN1:UTF8String:hello
[dn]
CN = dir name
O = Org
[pol]
policyIdentifier = 1.3.6.1.4.1.99.1
CPS.1 = http://cps.example
userNotice.1 = @notice
[notice]
explicitText = "Notice text"
`;

/** The line after `heading` in openssl's text, trimmed. */
const after_ = (heading: string) => {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => l.trim().startsWith(heading));
  assert.ok(i >= 0, `openssl printed ${heading}`);
  return lines[i + 1]!.trim();
};

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'lamassu-x509-decode-'));
  writeFileSync(path.join(dir, 'ext.cnf'), CONFIG);
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'k.pem', '-subj', '/C=ES/O=Acme/CN=test rich', '-days', '10', '-config', 'ext.cnf', '-extensions', 'v3', '-outform', 'DER', '-out', 'c.der'], { cwd: dir });
  text = (await run('openssl', ['x509', '-inform', 'DER', '-in', 'c.der', '-noout', '-text'], { cwd: dir })).stdout;
  der = new Uint8Array(readFileSync(path.join(dir, 'c.der')));
  cert = decodeCertificate(der);
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('fields, key and signature algorithm read as openssl reads them', async () => {
  assert.equal(cert.version, 3);
  assert.equal(cert.signatureAlgorithm, /Signature Algorithm: (\S+)/.exec(text)![1]);
  assert.equal(cert.subject, /Subject: (.*)/.exec(text)![1]!.replaceAll(' = ', '='));
  assert.equal(cert.issuer, cert.subject);
  assert.equal(cert.publicKey.algorithm, 'rsaEncryption');
  assert.equal(cert.publicKey.size, 2048);
  assert.ok(text.replace(/\s+/g, '').includes(cert.publicKey.lines.slice(2, -1).join('').replace(/\s+/g, '')), 'the same modulus');
  const sha256 = (await run('openssl', ['x509', '-inform', 'DER', '-in', path.join(dir, 'c.der'), '-noout', '-fingerprint', '-sha256'])).stdout.trim().split('=')[1];
  assert.equal((await fingerprints(der)).sha256, sha256);
});

test('every extension reads as openssl prints it; an unknown one as OID and hex', () => {
  const ext = (oid: string) => cert.extensions.find((e) => e.oid === oid)!;
  assert.equal(ext('2.5.29.19').lines[0], after_('X509v3 Basic Constraints'));
  assert.ok(ext('2.5.29.19').critical);
  assert.equal(ext('2.5.29.15').lines[0], after_('X509v3 Key Usage'));
  assert.equal(ext('2.5.29.37').lines[0], after_('X509v3 Extended Key Usage'));
  // openssl writes an otherName as "UPN::value"; the console as "UPN:value".
  assert.equal(ext('2.5.29.17').lines[0], after_('X509v3 Subject Alternative Name').replace('UPN::', 'UPN:'));
  assert.equal(ext('2.5.29.14').lines[0], after_('X509v3 Subject Key Identifier'));
  assert.equal(ext('2.5.29.35').lines[0], after_('X509v3 Authority Key Identifier').replace(/^keyid:/, ''));
  assert.deepEqual(ext('2.5.29.31').lines.map((l) => l.trim()), ['Full Name:', 'URI:http://crl.example/ca.crl']);
  assert.deepEqual(ext('1.3.6.1.5.5.7.1.1').lines, ['OCSP - URI:http://ocsp.example', 'CA Issuers - URI:http://ca.example/ca.cer']);
  assert.deepEqual(ext('2.5.29.32').lines.map((l) => l.trim()), ['Policy: X509v3 Any Policy', 'Policy: 1.3.6.1.4.1.99.1', 'CPS: http://cps.example', 'User Notice: Notice text']);
  assert.deepEqual(ext('2.5.29.30').lines.map((l) => l.trim()), ['Permitted:', 'DNS:.example.com', 'Excluded:', 'IP:192.168.0.0/255.255.0.0']);
  assert.equal(ext('1.2.3.4.5.6').name, '1.2.3.4.5.6');
  assert.deepEqual(ext('1.2.3.4.5.6').lines, ['0c:05:68:65:6c:6c:6f']);
  assert.equal(cert.extensions.length, 11);
});
