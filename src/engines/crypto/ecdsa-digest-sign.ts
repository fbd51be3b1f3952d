/**
 * ECDSA over a digest the caller computed, with a private scalar held in software (node:crypto cannot: it
 * always hashes the message). Through OpenSSL's own ECDSA_do_sign in native/ec-sign-digest when that addon
 * is built (constant-time as OpenSSL is); otherwise in JavaScript, blinded, below.
 */
import { createECDH, randomBytes } from 'node:crypto';
import { bigIntToBytes, bytesToBigInt, CURVES, digestToInteger, modInverse } from '../../x509/digest-signature.ts';
import { loadNativeAddon, NATIVE_CURVE_CODE, type AddonLoad } from '../../x509/native-addon.ts';
import type { NamedCurve } from '../../x509/public-key.ts';
import { ecdsaRawToDer } from './pkcs11/ecdsa-signature.ts';

interface EcSignDigestAddon {
  sign(curve: number, digest: Uint8Array, d: Uint8Array): Uint8Array;
}

let native: AddonLoad<EcSignDigestAddon> | undefined;
const nativeAddon = () => (native ??= loadNativeAddon<EcSignDigestAddon>('ec-sign-digest'));

/** Why signing is not native (for the start-up log), or undefined when it is. */
export const nativeEcSignDigestUnavailableReason = (): string | undefined => nativeAddon().reason;

/** The DER Ecdsa-Sig-Value of `digest` under the private scalar `d` (big-endian). */
export function signEcdsaDigest(curve: NamedCurve, digest: Uint8Array, d: Uint8Array): Uint8Array {
  const { addon } = nativeAddon();
  return addon ? new Uint8Array(addon.sign(NATIVE_CURVE_CODE[curve], digest, d)) : signEcdsaDigestInJs(curve, digest, d);
}

/**
 * The same without the addon (FIPS 186-5 6.4.1): a fresh random nonce k, k*G by OpenSSL (ECDH with k as the
 * private key, a constant-time scalar multiplication), then r = x mod n, s = k^-1 (e + r*d) mod n in BigInts.
 * BigInt arithmetic is not constant-time, so the secrets are blinded by a fresh random b: the inverse is
 * taken of k*b (uniform, independent of k) and d is multiplied only by the random r*b, never by anything an
 * observer could choose. s = (k*b)^-1 * (e*b + (r*b)*d) = k^-1 * (e + r*d) mod n.
 */
export function signEcdsaDigestInJs(curve: NamedCurve, digest: Uint8Array, dBytes: Uint8Array): Uint8Array {
  const c = CURVES[curve];
  const d = bytesToBigInt(dBytes);
  const e = digestToInteger(c, digest);
  // 64 extra bits make the reduction's bias negligible (FIPS 186-5 A.3.1).
  const randomScalar = () => (bytesToBigInt(randomBytes(c.bytes + 8)) % (c.n - 1n)) + 1n;
  for (;;) {
    const k = randomScalar();
    const ecdh = createECDH(c.openssl);
    ecdh.setPrivateKey(bigIntToBytes(k, c.bytes));
    const r = bytesToBigInt(ecdh.getPublicKey().subarray(1, 1 + c.bytes)) % c.n;
    if (r === 0n) continue;
    const b = randomScalar();
    const s = (modInverse((k * b) % c.n, c.n) * ((e * b + ((r * b) % c.n) * d) % c.n)) % c.n;
    if (s === 0n) continue;
    return ecdsaRawToDer(Buffer.concat([bigIntToBytes(r, c.bytes), bigIntToBytes(s, c.bytes)]));
  }
}
