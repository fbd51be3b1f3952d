import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { ContentInfo, id_signedData, SignedData } from '@peculiar/asn1-cms';
import { makeTestPki, opensslStatus } from '../../test/support/ocsp-test-pki.ts';
import type { TestPki } from '../../test/support/ocsp-test-pki.ts';
import { toPem } from './pem.ts';
import { base64Lines, certsOnlyPkcs7 } from './pkcs7.ts';

let pki: TestPki;
before(() => {
  pki = makeTestPki(1);
});
after(() => pki.cleanup());

const subjects = (out: string) => [...out.matchAll(/^subject=(.*)$/gm)].map((m) => m[1]!.replace(/\s+/g, ''));

test('openssl pkcs7 -print_certs lists the certificates, in order, from DER and from PEM', () => {
  const der = certsOnlyPkcs7([pki.leaves[0]!.der, pki.ca.der, pki.root.der]);
  writeFileSync(path.join(pki.dir, 'certs.p7b'), der);
  writeFileSync(path.join(pki.dir, 'certs.p7.pem'), toPem(der, 'PKCS7'));
  const fromDer = opensslStatus(['pkcs7', '-inform', 'DER', '-in', 'certs.p7b', '-print_certs', '-noout'], pki.dir);
  assert.ok(fromDer.ok, fromDer.out);
  assert.deepEqual(subjects(fromDer.out), ['CN=device-0,O=Lamassu', 'CN=TestIssuingCA,O=Lamassu', 'CN=TestRoot,O=Lamassu']);
  const fromPem = opensslStatus(['pkcs7', '-in', 'certs.p7.pem', '-print_certs', '-noout'], pki.dir);
  assert.deepEqual(subjects(fromPem.out), subjects(fromDer.out));
});

test('the structure is a degenerate SignedData: version 1, no digests, no content, no signers', () => {
  const der = certsOnlyPkcs7([pki.ca.der]);
  const info = AsnConvert.parse(der, ContentInfo);
  assert.equal(info.contentType, id_signedData);
  const sd = AsnConvert.parse(info.content, SignedData);
  assert.equal(sd.version, 1);
  assert.equal(sd.digestAlgorithms.length, 0);
  assert.equal(sd.encapContentInfo.eContent, undefined);
  assert.equal(sd.signerInfos.length, 0);
  assert.equal(sd.certificates?.length, 1);
  assert.deepEqual(new Uint8Array(AsnConvert.serialize(sd.certificates![0]!.certificate!)), pki.ca.der);
});

test('EST body: 64-character lines, each ending in a newline, that openssl decodes back', () => {
  const der = certsOnlyPkcs7([pki.leaves[0]!.der, pki.ca.der]);
  const body = base64Lines(der);
  assert.ok(body.endsWith('\n'));
  const lines = body.slice(0, -1).split('\n');
  assert.ok(lines.slice(0, -1).every((l) => l.length === 64));
  assert.ok(lines.at(-1)!.length > 0 && lines.at(-1)!.length <= 64);
  assert.deepEqual(new Uint8Array(Buffer.from(body, 'base64')), der);
  writeFileSync(path.join(pki.dir, 'est.b64'), body);
  const r = opensslStatus(['base64', '-d', '-in', 'est.b64', '-out', 'est.p7b'], pki.dir);
  assert.ok(r.ok, r.out);
  assert.equal(subjects(opensslStatus(['pkcs7', '-inform', 'DER', '-in', 'est.p7b', '-print_certs', '-noout'], pki.dir).out).length, 2);
  assert.equal(base64Lines(new Uint8Array(48)), `${'A'.repeat(64)}\n`);
});
