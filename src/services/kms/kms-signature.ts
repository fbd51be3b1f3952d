/**
 * Lamassu's KMS signing algorithms (the AWS KMS names) and signing or checking with them: over the message
 * itself (`message_type: raw`) or over its digest (`hash`, as long as the algorithm's hash output).
 */
import { invalid } from '../../domain/errors.ts';
import type { HashAlgorithm, KeyType } from '../../domain/ports/key-engine.ts';
import { DIGEST_BYTES, verifyDigestWithSpki } from '../../x509/digest-signature.ts';
import { parsePublicKey } from '../../x509/public-key.ts';
import { verifySignature, type SignatureScheme } from '../../x509/signature-verify.ts';

export interface KmsAlgorithm {
  keyType: KeyType;
  scheme: SignatureScheme;
  /** Absent for Ed25519, which signs the message itself. */
  hash?: HashAlgorithm;
}

export const KMS_SIGNING_ALGORITHMS: Readonly<Record<string, KmsAlgorithm>> = Object.fromEntries([
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

export type MessageType = 'raw' | 'hash';

/** The algorithm for a key of `keyType`, checked with the message: 400s for anything that does not fit. */
export function kmsAlgorithm(keyType: KeyType, algorithm: string, messageType: string, message: Uint8Array): KmsAlgorithm {
  if (messageType !== 'raw' && messageType !== 'hash') throw invalid('KMS_MESSAGE_TYPE_INVALID', 'message_type must be raw or hash');
  const alg = Object.hasOwn(KMS_SIGNING_ALGORITHMS, algorithm) ? KMS_SIGNING_ALGORITHMS[algorithm] : undefined;
  if (!alg || alg.keyType !== keyType) {
    const fitting = Object.entries(KMS_SIGNING_ALGORITHMS).filter(([, a]) => a.keyType === keyType).map(([name]) => name);
    throw invalid('KMS_SIGN_ALGORITHM_INVALID', `algorithm must be one of ${fitting.join(', ')} for this ${keyType} key`, {
      algorithm: String(algorithm).slice(0, 40),
    });
  }
  if (messageType === 'hash') {
    if (!alg.hash) throw invalid('KMS_MESSAGE_TYPE_INVALID', `${algorithm} signs whole messages only: send message_type raw`);
    if (message.length !== DIGEST_BYTES[alg.hash]) {
      throw invalid('KMS_DIGEST_LENGTH_INVALID', `a ${alg.hash} digest is ${DIGEST_BYTES[alg.hash]} bytes; the message has ${message.length}`);
    }
  }
  return alg;
}

/** Checks a signature with the key's public half; false for a wrong or malformed signature. */
export function verifyWithPublicKey(spki: Uint8Array, alg: KmsAlgorithm, messageType: MessageType, message: Uint8Array, signature: Uint8Array): boolean {
  if (messageType === 'hash') return verifyDigestWithSpki(spki, alg.scheme as 'ecdsa' | 'rsa-pkcs1' | 'rsa-pss', alg.hash!, message, signature);
  const info = {
    oid: 'kms',
    scheme: alg.scheme,
    ...(alg.hash ? { hash: alg.hash } : {}),
    ...(alg.scheme === 'rsa-pss' ? { saltLength: DIGEST_BYTES[alg.hash!] } : {}),
  };
  try {
    return verifySignature(parsePublicKey(spki), info, message, signature);
  } catch {
    return false;
  }
}
