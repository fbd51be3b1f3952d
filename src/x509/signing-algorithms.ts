/**
 * The signing algorithm names Lamassu uses (AWS KMS's: ECDSA_SHA_256, RSASSA_PSS_SHA_384, ...) for
 * signatures over a caller's message, and checking such a signature with a public key: over the message
 * itself (`raw`) or over a digest the caller computed with the algorithm's hash (`hash`). Shared by the
 * CA signature routes and the KMS.
 */
import type { HashAlgorithm, KeyType } from '../domain/ports/key-engine.ts';
import { DIGEST_BYTES, verifyDigestSignature } from './digest-signature.ts';
import type { PublicKeyInfo } from './public-key.ts';
import { verifySignature, type SignatureScheme } from './signature-verify.ts';

export interface SigningAlgorithm {
  keyType: KeyType;
  scheme: SignatureScheme;
  /** Absent for Ed25519, which signs the message itself (never a digest). */
  hash?: HashAlgorithm;
}

export const SIGNING_ALGORITHMS: Readonly<Record<string, SigningAlgorithm>> = Object.fromEntries([
  ...(['256', '384', '512'] as const).flatMap((n) => {
    const hash = `SHA-${n}` as HashAlgorithm;
    return [
      [`ECDSA_SHA_${n}`, { keyType: 'ECDSA', scheme: 'ecdsa', hash }],
      [`RSASSA_PKCS1_V1_5_SHA_${n}`, { keyType: 'RSA', scheme: 'rsa-pkcs1', hash }],
      [`RSASSA_PSS_SHA_${n}`, { keyType: 'RSA', scheme: 'rsa-pss', hash }],
    ];
  }),
  ['ED25519', { keyType: 'ED25519', scheme: 'ed25519' }],
]);

/** The algorithm named `name` if it exists and fits a `keyType` key; `fitting` lists the names that would. */
export function signingAlgorithmFor(keyType: KeyType, name: string): { algorithm?: SigningAlgorithm; fitting: string[] } {
  const algorithm = Object.hasOwn(SIGNING_ALGORITHMS, name) ? SIGNING_ALGORITHMS[name] : undefined;
  const fitting = Object.entries(SIGNING_ALGORITHMS)
    .filter(([, a]) => a.keyType === keyType)
    .map(([n]) => n);
  return algorithm && algorithm.keyType === keyType ? { algorithm, fitting } : { fitting };
}

/** Why a digest cannot be signed with `alg` (it must be exactly the hash's output), or undefined when it can. */
export function digestFault(alg: SigningAlgorithm, digest: Uint8Array): string | undefined {
  if (!alg.hash) return 'this algorithm signs whole messages only: send message_type raw';
  const bytes = DIGEST_BYTES[alg.hash];
  return digest.length === bytes ? undefined : `a ${alg.hash} digest is ${bytes} bytes; the message has ${digest.length}`;
}

/** Checks a signature over `message` (or over the digest `message` when `prehashed`); false for a wrong or malformed one, never throws. */
export function verifyWithAlgorithm(key: PublicKeyInfo, alg: SigningAlgorithm, prehashed: boolean, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    if (prehashed) return alg.hash !== undefined && alg.scheme !== 'ed25519' && verifyDigestSignature(key, alg.scheme, alg.hash, message, signature);
    const info = {
      oid: 'caller-chosen',
      scheme: alg.scheme,
      ...(alg.hash ? { hash: alg.hash } : {}),
      ...(alg.scheme === 'rsa-pss' ? { saltLength: DIGEST_BYTES[alg.hash!] } : {}),
    };
    return verifySignature(key, info, message, signature);
  } catch {
    return false;
  }
}
