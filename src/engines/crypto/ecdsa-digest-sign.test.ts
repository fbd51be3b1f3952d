import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, verify } from 'node:crypto';
import { test } from 'node:test';
import { needNativeAddon } from '../../../test/support/services.ts';
import type { HashAlgorithm } from '../../domain/ports/key-engine.ts';
import type { NamedCurve } from '../../x509/public-key.ts';
import { signEcdsaDigest, signEcdsaDigestInJs } from './ecdsa-digest-sign.ts';

const CURVES: NamedCurve[] = ['P-256', 'P-384', 'P-521'];
const HASHES: HashAlgorithm[] = ['SHA-256', 'SHA-384', 'SHA-512'];
const nodeHash = (h: HashAlgorithm) => h.replace('-', '').toLowerCase();

function keyOf(curve: NamedCurve) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
  return { publicKey, d: Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url') };
}

for (const [route, sign] of [['native (OpenSSL ECDSA_do_sign)', signEcdsaDigest], ['JavaScript, blinded', signEcdsaDigestInJs]] as const) {
  test(`ECDSA over a digest, ${route}: node:crypto verifies it over the message for every curve and hash; each signature is fresh`, async (t) => {
    if (route.startsWith('native') && !(await needNativeAddon(t, 'ec-sign-digest'))) return;
    for (const curve of CURVES) {
      const { publicKey, d } = keyOf(curve);
      for (const hash of HASHES) {
        const message = Buffer.from(`digest signature ${curve} ${hash}`);
        const digest = createHash(nodeHash(hash)).update(message).digest();
        const sig = sign(curve, digest, d);
        assert.equal(sig[0], 0x30, 'DER Ecdsa-Sig-Value');
        assert.ok(verify(nodeHash(hash), message, publicKey, sig), `${curve} ${hash}`);
        assert.ok(!verify(nodeHash(hash), Buffer.from('another message'), publicKey, sig));
        assert.notDeepEqual(sign(curve, digest, d), sig, 'a fresh nonce each time');
      }
    }
  });
}

test('native ECDSA over a digest refuses a scalar outside [1, n-1] instead of signing with it', async (t) => {
  if (!(await needNativeAddon(t, 'ec-sign-digest'))) return;
  const digest = createHash('sha256').update('x').digest();
  assert.throws(() => signEcdsaDigest('P-256', digest, Buffer.alloc(32)), /scalar/);
  assert.throws(() => signEcdsaDigest('P-256', digest, Buffer.alloc(32, 0xff)), /scalar/);
});
