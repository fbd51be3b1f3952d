/**
 * The KMS's checks of a sign/verify request: Lamassu's algorithm names (x509/signing-algorithms.ts) for
 * the key's type, and a digest of the right length for `message_type: hash`.
 */
import { invalid } from '../../domain/errors.ts';
import type { KeyType } from '../../domain/ports/key-engine.ts';
import { digestFault, signingAlgorithmFor, type SigningAlgorithm } from '../../x509/signing-algorithms.ts';

export type MessageType = 'raw' | 'hash';

/** The algorithm for a key of `keyType`, checked with the message: 400s for anything that does not fit. */
export function kmsAlgorithm(keyType: KeyType, algorithm: string, messageType: string, message: Uint8Array): SigningAlgorithm {
  if (messageType !== 'raw' && messageType !== 'hash') throw invalid('KMS_MESSAGE_TYPE_INVALID', 'message_type must be raw or hash');
  const { algorithm: alg, fitting } = signingAlgorithmFor(keyType, algorithm);
  if (!alg) {
    throw invalid('KMS_SIGN_ALGORITHM_INVALID', `algorithm must be one of ${fitting.join(', ')} for this ${keyType} key`, {
      algorithm: String(algorithm).slice(0, 40),
    });
  }
  if (messageType === 'hash') {
    const fault = digestFault(alg, message);
    if (fault) throw invalid(alg.hash ? 'KMS_DIGEST_LENGTH_INVALID' : 'KMS_MESSAGE_TYPE_INVALID', `${algorithm}: ${fault}`);
  }
  return alg;
}
