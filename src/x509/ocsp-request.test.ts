import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DomainError } from '../domain/errors.ts';
import { boolean, contextTag, explicit, nullValue, octetString, oid, sequence, smallInteger, Tag, tlv } from './der.ts';
import { encodeCertId, issuerHashes } from './ocsp-cert-id.ts';
import type { OcspHashAlgorithm } from './ocsp-cert-id.ts';
import { decodeOcspGetPath, OID_OCSP_NONCE, parseOcspRequest } from './ocsp-request.ts';
import { makeTestPki, openssl } from '../../test/support/ocsp-test-pki.ts';
import type { TestPki } from '../../test/support/ocsp-test-pki.ts';

let pki: TestPki;
before(() => {
  pki = makeTestPki(2);
});
after(() => pki.cleanup());

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const malformed = (fn: () => unknown) =>
  assert.throws(fn, (e: unknown) => e instanceof DomainError && e.code === 'OCSP_MALFORMED_REQUEST' && e.kind === 'invalid');

/** `openssl ocsp -reqout` for the given leaves and flags; returns the request DER. */
function opensslRequest(leaves: number[], flags: string[] = []): Uint8Array {
  const out = `req-${randomBytes(4).toString('hex')}.der`;
  const args = ['ocsp', '-issuer', 'ca.pem', ...flags];
  for (const i of leaves) args.push('-cert', `leaf${i}.pem`);
  openssl([...args, '-reqout', out], pki.dir);
  return new Uint8Array(readFileSync(path.join(pki.dir, out)));
}

/** A request built by hand, for what openssl will not produce. */
function handRequest(certIds: Uint8Array[], extensions: Uint8Array[] = []): Uint8Array {
  const tbs = sequence(sequence(...certIds.map((c) => sequence(c))), ...(extensions.length ? [explicit(2, sequence(...extensions))] : []));
  return sequence(tbs);
}
const nonceExt = (nonce: Uint8Array) => sequence(oid(OID_OCSP_NONCE), octetString(octetString(nonce)));
const certIdFor = (alg: OcspHashAlgorithm, leaf = 0) => {
  const h = issuerHashes(alg, pki.ca.subjectName, pki.ca.spki);
  return encodeCertId(alg, h.issuerNameHash, h.issuerKeyHash, pki.leaves[leaf]!.serial);
};

describe('parseOcspRequest on requests made by openssl ocsp', () => {
  const cases: { name: string; flags: string[]; alg: OcspHashAlgorithm; nonce: boolean }[] = [
    { name: 'default (SHA-1, nonce)', flags: [], alg: 'SHA-1', nonce: true },
    { name: '-no_nonce', flags: ['-no_nonce'], alg: 'SHA-1', nonce: false },
    { name: '-sha256', flags: ['-sha256'], alg: 'SHA-256', nonce: true },
    { name: '-sha256 -no_nonce', flags: ['-sha256', '-no_nonce'], alg: 'SHA-256', nonce: false },
    { name: '-sha384', flags: ['-sha384'], alg: 'SHA-384', nonce: true },
    { name: '-sha512 -no_nonce', flags: ['-sha512', '-no_nonce'], alg: 'SHA-512', nonce: false },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const der = opensslRequest([0, 1], c.flags);
      const req = parseOcspRequest(der);
      const expected = issuerHashes(c.alg, pki.ca.subjectName, pki.ca.spki);
      assert.equal(req.requests.length, 2);
      req.requests.forEach((r, i) => {
        assert.equal(r.hashAlgorithm, c.alg);
        assert.equal(hex(r.issuerNameHash), hex(expected.issuerNameHash));
        assert.equal(hex(r.issuerKeyHash), hex(expected.issuerKeyHash));
        assert.equal(r.serialHex, pki.leaves[i]!.serialHex);
        assert.ok(hex(der).includes(hex(r.certId)));
        assert.equal(r.certId[0], 0x30);
      });
      assert.equal(req.nonce !== undefined, c.nonce);
      if (req.nonce) assert.equal(req.nonce.length, 16); // openssl's default nonce size
      assert.equal(req.hasSignature, false);
    });
  }

  test('a signed request (openssl -signer) is accepted and flagged', () => {
    const der = opensslRequest([0], ['-signer', 'leaf1.pem', '-signkey', 'leaf1.key']);
    const req = parseOcspRequest(der);
    assert.equal(req.hasSignature, true);
    assert.equal(req.requests[0]!.serialHex, pki.leaves[0]!.serialHex);
  });
});

describe('parseOcspRequest accepts what RFC 6960 allows', () => {
  test('explicit version v1, a requestorName, singleRequestExtensions and a critical acceptable-responses extension', () => {
    const h = issuerHashes('SHA-1', pki.ca.subjectName, pki.ca.spki);
    const certId = encodeCertId('SHA-1', h.issuerNameHash, h.issuerKeyHash, Uint8Array.of(0x42));
    const serviceLocator = sequence(oid('1.3.6.1.5.5.7.48.1.7'), octetString(sequence(pki.ca.subjectName)));
    const acceptable = sequence(oid('1.3.6.1.5.5.7.48.1.4'), boolean(true), octetString(sequence(oid('1.3.6.1.5.5.7.48.1.1'))));
    const requestorName = explicit(1, tlv(contextTag(4, true), pki.leaves[0]!.subjectName));
    const tbs = sequence(explicit(0, smallInteger(0)), requestorName, sequence(sequence(certId, explicit(0, sequence(serviceLocator)))), explicit(2, sequence(acceptable, nonceExt(Uint8Array.of(9)))));
    const req = parseOcspRequest(sequence(tbs));
    assert.equal(req.requests[0]!.serialHex, '42');
    assert.equal(hex(req.requests[0]!.certId), hex(certId));
    assert.deepEqual([...req.nonce!], [9]);
  });
  test('serials: sign octets and leading zeros are dropped, zero is "00"', () => {
    const h = issuerHashes('SHA-256', pki.ca.subjectName, pki.ca.spki);
    const withSerial = (integer: Uint8Array) =>
      handRequest([sequence(sequence(oid('2.16.840.1.101.3.4.2.1'), nullValue()), octetString(h.issuerNameHash), octetString(h.issuerKeyHash), integer)]);
    assert.equal(parseOcspRequest(withSerial(tlv(Tag.INTEGER, Uint8Array.of(0, 0x80, 1)))).requests[0]!.serialHex, '8001');
    assert.equal(parseOcspRequest(withSerial(tlv(Tag.INTEGER, Uint8Array.of(0, 0, 7)))).requests[0]!.serialHex, '7');
    assert.equal(parseOcspRequest(withSerial(tlv(Tag.INTEGER, Uint8Array.of(0)))).requests[0]!.serialHex, '0');
    // Absent hash parameters (RFC 5754 style) are as good as NULL.
    const noParams = handRequest([sequence(sequence(oid('2.16.840.1.101.3.4.2.1')), octetString(h.issuerNameHash), octetString(h.issuerKeyHash), smallInteger(5))]);
    assert.equal(parseOcspRequest(noParams).requests[0]!.hashAlgorithm, 'SHA-256');
  });
});

describe('parseOcspRequest refuses malformed requests with OCSP_MALFORMED_REQUEST', () => {
  test('nonces of 1 and 32 octets are accepted; 0 and 33 are malformed (RFC 8954)', () => {
    for (const n of [1, 32]) assert.equal(parseOcspRequest(handRequest([certIdFor('SHA-1')], [nonceExt(randomBytes(n))])).nonce!.length, n);
    for (const n of [0, 33]) malformed(() => parseOcspRequest(handRequest([certIdFor('SHA-1')], [nonceExt(randomBytes(n))])));
  });
  test('a critical nonce is fine, an unknown critical extension is not, an unknown non-critical one is ignored', () => {
    const critNonce = sequence(oid(OID_OCSP_NONCE), boolean(true), octetString(octetString(Uint8Array.of(1, 2))));
    assert.deepEqual([...parseOcspRequest(handRequest([certIdFor('SHA-1')], [critNonce])).nonce!], [1, 2]);
    const unknown = (critical: boolean) => sequence(oid('1.2.3.4'), ...(critical ? [boolean(true)] : []), octetString(Uint8Array.of(5, 0)));
    assert.equal(parseOcspRequest(handRequest([certIdFor('SHA-1')], [unknown(false)])).nonce, undefined);
    malformed(() => parseOcspRequest(handRequest([certIdFor('SHA-1')], [unknown(true)])));
  });
  test('a nonce that is not wrapped in an OCTET STRING, and duplicate nonces', () => {
    malformed(() => parseOcspRequest(handRequest([certIdFor('SHA-1')], [sequence(oid(OID_OCSP_NONCE), octetString(randomBytes(16)))])));
    const n = nonceExt(randomBytes(8));
    malformed(() => parseOcspRequest(handRequest([certIdFor('SHA-1')], [n, n])));
  });
  const good = opensslRequestOnce();
  const table: { name: string; der: () => Uint8Array }[] = [
    { name: 'empty input', der: () => new Uint8Array(0) },
    { name: 'not DER', der: () => new TextEncoder().encode('GET / HTTP/1.1') },
    { name: 'truncated', der: () => good().subarray(0, good().length - 3) },
    { name: 'trailing bytes', der: () => Uint8Array.from([...good(), 0]) },
    { name: 'empty requestList', der: () => handRequest([]) },
    { name: 'hash of the wrong size', der: () => handRequest([encodeCertId('SHA-256', randomBytes(20), randomBytes(20), Uint8Array.of(1))]) },
    {
      name: 'unknown hash algorithm (MD5)',
      der: () => handRequest([sequence(sequence(oid('1.2.840.113549.2.5')), octetString(randomBytes(16)), octetString(randomBytes(16)), smallInteger(1))]),
    },
    { name: 'version 2', der: () => sequence(sequence(explicit(0, smallInteger(1)), sequence(sequence(certIdFor('SHA-1'))))) },
    { name: 'CertID missing the serial', der: () => handRequest([sequence(sequence(oid('1.3.14.3.2.26')), octetString(randomBytes(20)), octetString(randomBytes(20)))]) },
    { name: 'a certificate instead of a request', der: () => pki.leaves[0]!.der },
  ];
  for (const c of table) test(c.name, () => malformed(() => parseOcspRequest(c.der())));
});

function opensslRequestOnce() {
  let der: Uint8Array | undefined;
  return () => (der ??= opensslRequest([0]));
}

describe('decodeOcspGetPath', () => {
  /** Real openssl requests whose base64 holds '/', '+' and '=' (nonces vary, so a few tries suffice). */
  function realRequestsWith(chars: string[]): Uint8Array[] {
    const found = new Map<string, Uint8Array>();
    const variants = [[], ['-no_nonce'], ['-sha256'], ['-sha256', '-no_nonce']];
    for (let i = 0; i < 60 && found.size < chars.length; i++) {
      const der = opensslRequest([i % 2], variants[i % variants.length]);
      const b64 = Buffer.from(der).toString('base64');
      for (const c of chars) if (!found.has(c) && b64.includes(c)) found.set(c, der);
    }
    assert.deepEqual([...found.keys()].sort(), [...chars].sort(), 'openssl produced requests covering every character');
    return [...found.values()];
  }
  /** A request whose base64 holds "//": searched over serials; openssl itself parses it. */
  function requestWithDoubleSlash(): Uint8Array {
    const h = issuerHashes('SHA-1', pki.ca.subjectName, pki.ca.spki);
    for (;;) {
      const der = handRequest([encodeCertId('SHA-1', h.issuerNameHash, h.issuerKeyHash, randomBytes(16))]);
      if (Buffer.from(der).toString('base64').includes('//')) {
        writeFileSync(path.join(pki.dir, 'slashes.der'), der);
        assert.match(openssl(['ocsp', '-reqin', 'slashes.der', '-req_text'], pki.dir), /Serial Number/);
        return der;
      }
    }
  }

  const encodings: { name: string; path: (b64: string) => string }[] = [
    { name: 'raw', path: (b) => b },
    { name: 'percent-encoded (%2F %2B %3D)', path: (b) => encodeURIComponent(b) },
    { name: 'lowercase percent escapes', path: (b) => encodeURIComponent(b).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()) },
    { name: 'only "=" percent-encoded', path: (b) => b.replace(/=/g, '%3D') },
    { name: 'padding dropped', path: (b) => b.replace(/=+$/, '') },
    { name: 'base64url', path: (b) => b.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '') },
    { name: 'leading slash from a base URL ending in "/"', path: (b) => `/${b}` },
    { name: '"+" turned into a space', path: (b) => b.replace(/\+/g, ' ') },
  ];

  test('round-trips real requests containing "/", "+", "=" and "//" under every encoding', () => {
    const requests = [...realRequestsWith(['/', '+', '=']), requestWithDoubleSlash()];
    for (const der of requests) {
      const b64 = Buffer.from(der).toString('base64');
      for (const e of encodings) {
        const decoded = decodeOcspGetPath(e.path(b64));
        assert.equal(hex(decoded), hex(der), `${e.name}: ${e.path(b64)}`);
        assert.ok(parseOcspRequest(decoded).requests.length > 0);
      }
    }
  });

  test('"//" is two base64 characters: collapsing it changes the bytes', () => {
    const der = requestWithDoubleSlash();
    const collapsed = Buffer.from(der).toString('base64').replace(/\/\/+/g, '/');
    assert.throws(() => {
      const bytes = decodeOcspGetPath(collapsed);
      assert.notEqual(hex(bytes), hex(der));
      parseOcspRequest(bytes);
    }, DomainError);
  });

  for (const [name, p] of [
    ['empty', ''],
    ['only slashes', '///'],
    ['bad percent escape', 'MEIw%zz'],
    ['characters outside base64', 'MEIw*AAA'],
    ['impossible length', 'MEIwQ'],
    ['padding in the middle', 'ME==IwQA'],
  ] as const) {
    test(`refuses ${name}`, () => malformed(() => decodeOcspGetPath(p)));
  }
});
