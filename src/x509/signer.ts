import type { HashAlgorithm, KeyType } from '../domain/ports/key-engine.ts';
import { nullValue, oid, sequence } from './der.ts';

/** Signature algorithms we issue with. ECDSA picks the hash that matches the curve (RFC 5480). */
export type SignatureAlgorithm =
  | 'ecdsa-with-SHA256'
  | 'ecdsa-with-SHA384'
  | 'ecdsa-with-SHA512'
  | 'sha256WithRSAEncryption'
  | 'sha384WithRSAEncryption'
  | 'sha512WithRSAEncryption'
  | 'Ed25519';

interface AlgorithmInfo {
  oid: string;
  hash?: HashAlgorithm;
  /** RSA algorithm identifiers carry an explicit NULL parameter; ECDSA and Ed25519 carry none. */
  nullParams: boolean;
}

export const signatureAlgorithms: Record<SignatureAlgorithm, AlgorithmInfo> = {
  'ecdsa-with-SHA256': { oid: '1.2.840.10045.4.3.2', hash: 'SHA-256', nullParams: false },
  'ecdsa-with-SHA384': { oid: '1.2.840.10045.4.3.3', hash: 'SHA-384', nullParams: false },
  'ecdsa-with-SHA512': { oid: '1.2.840.10045.4.3.4', hash: 'SHA-512', nullParams: false },
  sha256WithRSAEncryption: { oid: '1.2.840.113549.1.1.11', hash: 'SHA-256', nullParams: true },
  sha384WithRSAEncryption: { oid: '1.2.840.113549.1.1.12', hash: 'SHA-384', nullParams: true },
  sha512WithRSAEncryption: { oid: '1.2.840.113549.1.1.13', hash: 'SHA-512', nullParams: true },
  Ed25519: { oid: '1.3.101.112', nullParams: false },
};

export function signatureAlgorithmFor(type: KeyType, bits: number): SignatureAlgorithm {
  if (type === 'ED25519') return 'Ed25519';
  if (type === 'RSA') return 'sha256WithRSAEncryption';
  return bits >= 521 ? 'ecdsa-with-SHA512' : bits >= 384 ? 'ecdsa-with-SHA384' : 'ecdsa-with-SHA256';
}

const idCache = new Map<SignatureAlgorithm, Uint8Array>();
/** The AlgorithmIdentifier DER, encoded once per algorithm. */
export function algorithmIdentifier(alg: SignatureAlgorithm): Uint8Array {
  let der = idCache.get(alg);
  if (!der) {
    const info = signatureAlgorithms[alg];
    der = info.nullParams ? sequence(oid(info.oid), nullValue()) : sequence(oid(info.oid));
    idCache.set(alg, der);
  }
  return der;
}

/**
 * Signs to-be-signed bytes (TBSCertificate, TBSCertList, ResponseData) with a CA's or responder's key,
 * wherever that key lives. Signatures come back in X.509 encoding (ECDSA as DER).
 */
export interface X509Signer {
  readonly algorithm: SignatureAlgorithm;
  sign(tbs: Uint8Array): Promise<Uint8Array>;
}
