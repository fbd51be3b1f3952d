/**
 * Public keys as PKCS#11 stores them (modulus/exponent, EC params + point) to and from the
 * SubjectPublicKeyInfo DER the rest of Lamassu uses. node:crypto does the DER through JWK.
 */
import { createHash, createPublicKey, type JsonWebKey } from 'node:crypto';
import type { KeyType } from '../../../domain/ports/key-engine.ts';

export interface Curve {
  type: Extract<KeyType, 'ECDSA' | 'ED25519'>;
  bits: number;
  /** JWK "crv" name. */
  jwk: string;
  /** DER of the OBJECT IDENTIFIER: the value of CKA_EC_PARAMS. */
  params: Buffer;
}

export const curves: readonly Curve[] = [
  { type: 'ECDSA', bits: 256, jwk: 'P-256', params: Buffer.from('06082a8648ce3d030107', 'hex') },
  { type: 'ECDSA', bits: 384, jwk: 'P-384', params: Buffer.from('06052b81040022', 'hex') },
  { type: 'ECDSA', bits: 521, jwk: 'P-521', params: Buffer.from('06052b81040023', 'hex') },
  { type: 'ED25519', bits: 256, jwk: 'Ed25519', params: Buffer.from('06032b6570', 'hex') },
];

export const curveByParams = (params: Buffer) => curves.find((c) => c.params.equals(params));
export const curveFor = (type: KeyType, bits: number) => curves.find((c) => c.type === type && c.bits === bits);

/** The key id of the port: lowercase hex SHA-256 of the SPKI DER. */
export const keyIdOf = (spki: Uint8Array) => createHash('sha256').update(spki).digest('hex');

/**
 * CKA_EC_POINT is specified as a DER OCTET STRING (SoftHSM returns it so), but some tokens
 * return the bare point; accept both.
 */
export function unwrapEcPoint(value: Buffer): Buffer {
  if (value[0] !== 0x04 || value.length < 2) return value;
  let len = value[1];
  let offset = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 2 || value.length < 2 + n) return value;
    len = n === 1 ? value[2] : (value[2] << 8) | value[3];
    offset = 2 + n;
  }
  return offset + len === value.length ? value.subarray(offset) : value;
}

export function wrapEcPoint(point: Buffer): Buffer {
  const len = point.length < 0x80 ? Buffer.from([point.length]) : Buffer.from([0x81, point.length]);
  return Buffer.concat([Buffer.from([0x04]), len, point]);
}

const b64u = (b: Buffer) => b.toString('base64url');

export function rsaSpki(modulus: Buffer, exponent: Buffer): Uint8Array {
  return der({ kty: 'RSA', n: b64u(modulus), e: b64u(exponent) });
}

/** `point`: the bare point (uncompressed 04||x||y for Weierstrass curves, 32 bytes for Ed25519). */
export function ecSpki(curve: Curve, point: Buffer): Uint8Array {
  if (curve.type === 'ED25519') return der({ kty: 'OKP', crv: curve.jwk, x: b64u(point) });
  const size = (point.length - 1) / 2;
  if (point[0] !== 0x04 || !Number.isInteger(size)) throw new Error('EC point is not uncompressed');
  return der({ kty: 'EC', crv: curve.jwk, x: b64u(point.subarray(1, 1 + size)), y: b64u(point.subarray(1 + size)) });
}

/** RSA modulus size in bits, ignoring a leading zero byte some tokens keep. */
export function modulusBits(modulus: Buffer): number {
  let i = 0;
  while (i < modulus.length && modulus[i] === 0) i++;
  return i === modulus.length ? 0 : (modulus.length - i) * 8 - Math.clz32(modulus[i]) + 24;
}

const der = (jwk: JsonWebKey) => new Uint8Array(createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'der' }));
