/**
 * Lamassu's signatures with a CA key: POST /cas/{id}/signature/sign and /verify. `message_type: raw`
 * signs the message (the engine hashes it); `hash` (also `digest`, AWS KMS's word) signs a digest the
 * caller computed with the algorithm's hash, which must be exactly that long.
 */
import { canSign } from '../../domain/ca/ca.ts';
import { conflict, invalid } from '../../domain/errors.ts';
import type { KeyType } from '../../domain/ports/key-engine.ts';
import { parseCertificate } from '../../x509/certificate.ts';
import { digestFault, signingAlgorithmFor, verifyWithAlgorithm, type SigningAlgorithm } from '../../x509/signing-algorithms.ts';
import { caEvent, CaEventType, publishAfterCommit } from './ca-events.ts';
import type { CaServiceDeps } from './ca-service-deps.ts';
import { resolveEngine } from './engine-signer.ts';
import { getCa } from './get-ca.ts';

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

function algorithmFor(keyType: KeyType, input: SignatureInput): SigningAlgorithm & { prehashed: boolean } {
  const prehashed = isDigest(input.messageType);
  const { algorithm: alg, fitting } = signingAlgorithmFor(keyType, input.algorithm);
  if (!alg) {
    throw invalid('SIGNATURE_ALGORITHM_INVALID', `signature_algorithm must be one of ${fitting.join(', ') || '(none for this key type)'}`, {
      algorithm: String(input.algorithm).slice(0, 40),
    });
  }
  const fault = prehashed ? digestFault(alg, input.message) : undefined;
  if (fault) throw invalid('SIGNATURE_DIGEST_INVALID', `${input.algorithm}: ${fault}`);
  return { ...alg, prehashed };
}

export async function signWithCa(deps: CaServiceDeps, input: SignatureInput & { actor: string }): Promise<Uint8Array> {
  const ca = await getCa(deps, input.caId);
  const alg = algorithmFor(ca.certificate.keyType, input);
  if (!canSign(ca)) throw conflict('CA_CANNOT_SIGN', `CA "${ca.id}" cannot sign (revoked, expired, or without its key)`, { id: ca.id });
  const signature = await resolveEngine(deps, ca.engineId).sign({
    keyId: ca.keyId!,
    data: input.message,
    ...(alg.hash ? { hash: alg.hash } : {}),
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
  return verifyWithAlgorithm(parseCertificate(ca.certificate.der).publicKey, alg, alg.prehashed, input.message, input.signature);
}
