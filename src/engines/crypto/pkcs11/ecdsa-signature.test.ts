import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { describe, it } from 'node:test';
import { ecdsaRawToDer } from './ecdsa-signature.ts';

describe('ecdsaRawToDer', () => {
  it('turns r||s into DER that OpenSSL (strict about minimal encoding) verifies, on every curve', () => {
    for (const namedCurve of ['prime256v1', 'secp384r1', 'secp521r1']) {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve });
      // Enough signatures that leading zero bytes and set top bits both occur.
      for (let i = 0; i < 64; i++) {
        const data = Buffer.from(`message ${i}`);
        const raw = sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
        const der = ecdsaRawToDer(raw);
        assert.ok(verify('sha256', data, { key: publicKey, dsaEncoding: 'der' }, der), namedCurve);
      }
    }
  });

  it('keeps a zero byte before a high first byte and strips redundant zeros', () => {
    const raw = Buffer.concat([Buffer.from([0x80]), Buffer.alloc(31, 1), Buffer.alloc(31), Buffer.from([0x05])]);
    const der = Buffer.from(ecdsaRawToDer(raw));
    assert.equal(der.toString('hex'), `3026022100${'80' + '01'.repeat(31)}020105`);
  });

  it('refuses an odd-length input', () => {
    assert.throws(() => ecdsaRawToDer(new Uint8Array(3)));
  });
});
