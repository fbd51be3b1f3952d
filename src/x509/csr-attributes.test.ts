import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeCsrAttrs } from './csr-attributes.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('CsrAttrs DER: bare OIDs, then the key attribute (RFC 9908 3.2) and the signature algorithm OID', () => {
  assert.equal(hex(encodeCsrAttrs({ oids: [] })), '3000');
  // { challengePassword, { rsaEncryption, { 3072 } }, sha256WithRSAEncryption }
  assert.equal(
    hex(encodeCsrAttrs({ oids: ['1.2.840.113549.1.9.7'], key: { type: 'RSA', bits: 3072 } })),
    '3029' + '06092a864886f70d010907' + '3011' + '06092a864886f70d010101' + '3104' + '02020c00' + '06092a864886f70d01010b',
  );
  // { { id-ecPublicKey, { secp521r1 } }, ecdsa-with-SHA512 }
  assert.equal(hex(encodeCsrAttrs({ oids: [], key: { type: 'ECDSA', bits: 521 } })), '301e' + '3012' + '06072a8648ce3d0201' + '3107' + '06052b81040023' + '06082a8648ce3d040304');
  assert.equal(hex(encodeCsrAttrs({ oids: [], key: { type: 'ED25519', bits: 256 } })), '3005' + '06032b6570');
});
