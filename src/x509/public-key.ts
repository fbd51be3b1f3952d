import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import type { KeyType } from '../domain/ports/key-engine.ts';
import { children, decodeOid, DerError, expectTag, readRoot, Tag, valueOf } from './der.ts';

export type NamedCurve = 'P-256' | 'P-384' | 'P-521';

/** What we know of a SubjectPublicKeyInfo after reading it. */
export interface PublicKeyInfo {
  type: KeyType;
  /** RSA modulus bits, EC curve size (256/384/521), 256 for Ed25519. */
  bits: number;
  curve?: NamedCurve;
  /** The SubjectPublicKeyInfo DER, verbatim. */
  spki: Uint8Array;
  /** The subjectPublicKey BIT STRING value: RSAPublicKey DER, the EC point, or the Ed25519 key. */
  key: Uint8Array;
}

/** The SPKI carries a key we do not issue for (other curves, DSA, RSA-PSS-only keys, small RSA). */
export class UnsupportedKeyError extends Error {}

const CURVES: Record<string, { curve: NamedCurve; bits: number; coordBytes: number }> = {
  '1.2.840.10045.3.1.7': { curve: 'P-256', bits: 256, coordBytes: 32 },
  '1.3.132.0.34': { curve: 'P-384', bits: 384, coordBytes: 48 },
  '1.3.132.0.35': { curve: 'P-521', bits: 521, coordBytes: 66 },
};
const RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
const EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const ED25519 = '1.3.101.112';
export const RSA_MIN_BITS = 2048;
export const RSA_MAX_BITS = 8192;

/**
 * Reads a SubjectPublicKeyInfo. Throws DerError when it is not well-formed DER and UnsupportedKeyError for
 * keys outside RSA 2048-8192, EC P-256/384/521 and Ed25519.
 */
export function parsePublicKey(spki: Uint8Array): PublicKeyInfo {
  const root = readRoot(spki);
  const [algNode, keyNode, extra] = children(spki, expectTag(root, Tag.SEQUENCE, 'SubjectPublicKeyInfo'));
  if (extra) throw new DerError('trailing fields in SubjectPublicKeyInfo');
  const [oidNode, params, extraParam] = children(spki, expectTag(algNode, Tag.SEQUENCE, 'AlgorithmIdentifier'));
  if (extraParam) throw new DerError('trailing fields in AlgorithmIdentifier');
  const algOid = decodeOid(valueOf(spki, expectTag(oidNode, Tag.OID, 'algorithm OID')));
  const bitString = valueOf(spki, expectTag(keyNode, Tag.BIT_STRING, 'subjectPublicKey'));
  if (bitString.length < 1 || bitString[0] !== 0) throw new DerError('subjectPublicKey has unused bits');
  const key = bitString.subarray(1);

  if (algOid === RSA_ENCRYPTION) {
    if (params && (params.tag !== Tag.NULL || params.end !== params.valueStart)) throw new DerError('RSA parameters must be NULL');
    const bits = rsaModulusBits(key);
    if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) throw new UnsupportedKeyError(`RSA ${bits}-bit keys are not supported`);
    return { type: 'RSA', bits, spki, key };
  }
  if (algOid === EC_PUBLIC_KEY) {
    const curveOid = decodeOid(valueOf(spki, expectTag(params, Tag.OID, 'namedCurve')));
    const c = CURVES[curveOid];
    if (!c) throw new UnsupportedKeyError(`EC curve ${curveOid} is not supported`);
    const uncompressed = key[0] === 0x04 && key.length === 1 + 2 * c.coordBytes;
    const compressed = (key[0] === 0x02 || key[0] === 0x03) && key.length === 1 + c.coordBytes;
    if (!uncompressed && !compressed) throw new DerError(`bad ${c.curve} point encoding`);
    return { type: 'ECDSA', bits: c.bits, curve: c.curve, spki, key };
  }
  if (algOid === ED25519) {
    if (params) throw new DerError('Ed25519 takes no parameters');
    if (key.length !== 32) throw new DerError('Ed25519 key must be 32 bytes');
    return { type: 'ED25519', bits: 256, spki, key };
  }
  throw new UnsupportedKeyError(`public key algorithm ${algOid} is not supported`);
}

function rsaModulusBits(rsaPublicKey: Uint8Array): number {
  const [modulus, exponent, extra] = children(rsaPublicKey, expectTag(readRoot(rsaPublicKey), Tag.SEQUENCE, 'RSAPublicKey'));
  expectTag(exponent, Tag.INTEGER, 'RSA public exponent');
  if (extra) throw new DerError('trailing fields in RSAPublicKey');
  const m = valueOf(rsaPublicKey, expectTag(modulus, Tag.INTEGER, 'RSA modulus'));
  let i = 0;
  while (i < m.length && m[i] === 0) i++;
  if (i === m.length || m[0]! & 0x80) throw new DerError('RSA modulus must be positive');
  return (m.length - i - 1) * 8 + (32 - Math.clz32(m[i]!));
}

/**
 * Subject key identifier, RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING value.
 * Lamassu's Go services (crypto/x509) compute it the same way, so identifiers stay comparable across both.
 */
export function subjectKeyIdentifier(info: Pick<PublicKeyInfo, 'key'>): Uint8Array {
  return new Uint8Array(createHash('sha1').update(info.key).digest());
}

/** The public key (SPKI DER) of an unencrypted PKCS#8 private key (DER); undefined when it does not parse. */
export function spkiOfPkcs8(pkcs8: Uint8Array): Uint8Array | undefined {
  try {
    return new Uint8Array(createPublicKey(createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' })).export({ format: 'der', type: 'spki' }));
  } catch {
    return undefined;
  }
}
