/**
 * Lamassu's signatures with a CA key: POST /cas/{id}/signature/sign and /verify. `message_type: raw`
 * signs the message (the engine hashes it); `hash` (also `digest`, AWS KMS's word) signs a digest the
 * caller computed with the algorithm's hash, which must be exactly that long.
 */
import { canSign } from '../../domain/ca/ca.ts';
import { conflict, invalid } from '../../domain/errors.ts';
import type { HashAlgorithm, KeyType } from '../../domain/ports/key-engine.ts';
import { parseCertificate } from '../../x509/certificate.ts';
import { DIGEST_BYTES, verifyDigestSignature } from '../../x509/digest-signature.ts';
import { verifySignature, type SignatureScheme } from '../../x509/signature-verify.ts';
import { caEvent, CaEventType, publishAfterCommit } from './ca-events.ts';
import type { CaServiceDeps } from './ca-service-deps.ts';
import { resolveEngine } from './engine-signer.ts';
import { getCa } from './get-ca.ts';

interface Algorithm {
  keyType: KeyType;
  scheme: SignatureScheme;
  hash: HashAlgorithm;
}

const HASH_BYTES: Record<HashAlgorithm, number> = { 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64 };

/** Lamassu's (and AWS KMS's) signing algorithm names. */
export const SIGNATURE_ALGORITHMS: Readonly<Record<string, Algorithm>> = Object.fromEntries(
  (['256', '384', '512'] as const).flatMap((n) => {
    const hash = `SHA-${n}` as HashAlgorithm;
    return [
      [`ECDSA_SHA_${n}`, { keyType: 'ECDSA', scheme: 'ecdsa', hash }],
      [`RSASSA_PKCS1_V1_5_SHA_${n}`, { keyType: 'RSA', scheme: 'rsa-pkcs1', hash }],
      [`RSASSA_PSS_SHA_${n}`, { keyType: 'RSA', scheme: 'rsa-pss', hash }],
    ];
  }),
);

export interface SignatureInput {
  caId: string;
  message: Uint8Array;
  messageType: string;
  algorithm: string;
}

/** Lamassu writes raw and hash; AWS KMS (whose algorithm names Lamassu uses) RAW and DIGEST. */
function isDigest(messageType: string): boolean {
  const t = messageType.toLowerCase();
  if (t === 'hash' || t === 'digest') return true;
  if (t === 'raw') return false;
  throw invalid('SIGNATURE_MESSAGE_TYPE_INVALID', 'message_type must be raw or hash (digest)');
}

function algorithmFor(keyType: KeyType, input: SignatureInput): Algorithm & { prehashed: boolean } {
  const prehashed = isDigest(input.messageType);
  const alg = Object.hasOwn(SIGNATURE_ALGORITHMS, input.algorithm) ? SIGNATURE_ALGORITHMS[input.algorithm] : undefined;
  if (!alg || alg.keyType !== keyType) {
    const fitting = Object.entries(SIGNATURE_ALGORITHMS).filter(([, a]) => a.keyType === keyType).map(([name]) => name);
    throw invalid('SIGNATURE_ALGORITHM_INVALID', `signature_algorithm must be one of ${fitting.join(', ') || '(none for this key type)'}`, {
      algorithm: String(input.algorithm).slice(0, 40),
    });
  }
  if (prehashed && input.message.length !== DIGEST_BYTES[alg.hash]) {
    throw invalid('SIGNATURE_DIGEST_INVALID', `a ${alg.hash} digest is ${DIGEST_BYTES[alg.hash]} bytes; the message is ${input.message.length}`);
  }
  return { ...alg, prehashed };
}

export async function signWithCa(deps: CaServiceDeps, input: SignatureInput & { actor: string }): Promise<Uint8Array> {
  const ca = await getCa(deps, input.caId);
  const alg = algorithmFor(ca.certificate.keyType, input);
  if (!canSign(ca)) throw conflict('CA_CANNOT_SIGN', `CA "${ca.id}" cannot sign (revoked, expired, or without its key)`, { id: ca.id });
  const signature = await resolveEngine(deps, ca.engineId).sign({
    keyId: ca.keyId!,
    data: input.message,
    hash: alg.hash,
    ...(alg.scheme === 'rsa-pss' ? { rsaPadding: 'pss' as const } : {}),
    ...(alg.prehashed ? { prehashed: true } : {}),
  });
  // No state changes; the event still goes through the outbox, so other replicas and alerts hear of it.
  const events = [caEvent(deps, CaEventType.caSignSignature, ca.id, { id: ca.id, signature_algorithm: input.algorithm, message_type: input.messageType }, input.actor)];
  await deps.storage.outbox.append(events);
  await publishAfterCommit(deps, events);
  return signature;
}

/** With the CA certificate's public key: works for every CA, also one imported without its key. */
export async function verifyWithCa(deps: CaServiceDeps, input: SignatureInput & { signature: Uint8Array }): Promise<boolean> {
  const ca = await getCa(deps, input.caId);
  const alg = algorithmFor(ca.certificate.keyType, input);
  const key = parseCertificate(ca.certificate.der).publicKey;
  if (alg.prehashed) return verifyDigestSignature(key, alg.scheme as 'ecdsa' | 'rsa-pkcs1' | 'rsa-pss', alg.hash, input.message, input.signature);
  // False for a malformed or wrong signature; never throws. The oid is informative only here.
  const info = { oid: input.algorithm, scheme: alg.scheme, hash: alg.hash, ...(alg.scheme === 'rsa-pss' ? { saltLength: HASH_BYTES[alg.hash] } : {}) };
  return verifySignature(key, info, input.message, input.signature);
}
