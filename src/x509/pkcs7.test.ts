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
import { compareSetOfElements } from './der.ts';

let pki: TestPki;
before(() => {
  pki = makeTestPki(1);
});
after(() => pki.cleanup());

const subjects = (out: string) => [...out.matchAll(/^subject=(.*)$/gm)].map((m) => m[1]!.replace(/\s+/g, ''));

/** The encodings in the certificates [0] SET, in the order they are written. */
function certificateElements(der: Uint8Array): Uint8Array[] {
  const sd = AsnConvert.parse(AsnConvert.parse(der, ContentInfo).content, SignedData);
  return Array.from(sd.certificates ?? [], (c) => new Uint8Array(AsnConvert.serialize(c.certificate!)));
}

test('DER SET OF order (X.690 11.6): octet-wise, the shorter padded with zero octets', () => {
  const b = (...x: number[]) => Uint8Array.from(x);
  assert.ok(compareSetOfElements(b(0x30, 0x01), b(0x30, 0x02)) < 0);
  assert.ok(compareSetOfElements(b(0x31), b(0x30, 0xff)) > 0);
  assert.ok(compareSetOfElements(b(0x30, 0x01), b(0x30, 0x01, 0x05)) < 0);
  assert.equal(compareSetOfElements(b(0x30, 0x01), b(0x30, 0x01, 0x00)), 0);
});

test('the certificates SET is in DER order whatever order the certificates come in', () => {
  const all = [pki.leaves[0]!.der, pki.ca.der, pki.root.der];
  const sorted = [...all].sort(compareSetOfElements);
  for (const given of [all, [...all].reverse(), [pki.ca.der, pki.root.der, pki.leaves[0]!.der]]) {
    const elements = certificateElements(certsOnlyPkcs7(given));
    assert.deepEqual(elements, sorted);
    for (let i = 1; i < elements.length; i++) assert.ok(compareSetOfElements(elements[i - 1]!, elements[i]!) < 0);
  }
  assert.notDeepEqual(sorted, all, 'chain order is not DER order here, so the test can tell them apart');
});

test('openssl pkcs7 -print_certs lists every certificate, from DER and from PEM', () => {
  const der = certsOnlyPkcs7([pki.leaves[0]!.der, pki.ca.der, pki.root.der]);
  writeFileSync(path.join(pki.dir, 'certs.p7b'), der);
  writeFileSync(path.join(pki.dir, 'certs.p7.pem'), toPem(der, 'PKCS7'));
  const fromDer = opensslStatus(['pkcs7', '-inform', 'DER', '-in', 'certs.p7b', '-print_certs', '-noout'], pki.dir);
  assert.ok(fromDer.ok, fromDer.out);
  assert.deepEqual(subjects(fromDer.out).sort(), ['CN=TestIssuingCA,O=Lamassu', 'CN=TestRoot,O=Lamassu', 'CN=device-0,O=Lamassu']);
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
