/**
 * The errors every key engine throws, built in one place so that all engines (software, PKCS#11,
 * Vault) agree on code and kind, and so that no message ever carries key material: messages name
 * engines, key ids and algorithms only. Caller-supplied strings are shortened before being echoed.
 */
import { DomainError, invalid, notFound, unavailable, unsupported } from '../../domain/errors.ts';
import type { KeySpec } from '../../domain/ports/key-engine.ts';

const echo = (value: unknown): string => {
  const s = String(value);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
};

export const keyNotFound = (engineId: string, keyId: string): DomainError =>
  notFound('KEY_NOT_FOUND', `key ${echo(keyId)} not found in key engine ${engineId}`, {
    engineId,
    keyId: echo(keyId),
  });

/**
 * A well-formed key id whose file is not in the directory. The usual cause is a second replica with a key
 * directory of its own (the database is shared, the keys are not), so the message says where we looked
 * and what replicas need.
 */
export const keyFileNotFound = (engineId: string, keyId: string, directory: string): DomainError =>
  notFound(
    'KEY_NOT_FOUND',
    `key ${echo(keyId)} not found in key engine ${engineId} (filesystem): no file ${echo(keyId)}.pem in key directory ` +
      `${directory}. Replicas of lamassu serve must share one key store: the same key directory on every replica ` +
      '(a shared volume), or a PKCS#11 or Vault key engine (docs/deployment.md)',
    { engineId, keyId: echo(keyId), directory },
  );

export const keyTypeUnsupported = (engineId: string, spec: Partial<KeySpec>): DomainError =>
  unsupported(
    'KEY_TYPE_UNSUPPORTED',
    `key type ${echo(spec.type)} with ${echo(spec.bits)} bits is not supported by key engine ${engineId}`,
    { engineId, type: echo(spec.type), bits: echo(spec.bits) },
  );

export const keyInvalid = (engineId: string, reason: string): DomainError =>
  invalid('KEY_INVALID', `invalid private key for key engine ${engineId}: ${reason}`, { engineId });

export const keyImportUnsupported = (engineId: string): DomainError =>
  unsupported('KEY_IMPORT_UNSUPPORTED', `key engine ${engineId} cannot import private keys`, { engineId });

export const keyExportUnsupported = (engineId: string): DomainError =>
  unsupported('KEY_EXPORT_UNSUPPORTED', `key engine ${engineId} does not let private keys leave`, { engineId });

export const signAlgorithmUnsupported = (engineId: string, what: string): DomainError =>
  unsupported('SIGN_ALGORITHM_UNSUPPORTED', `key engine ${engineId} cannot sign with ${echo(what)}`, {
    engineId,
  });

export const keyEngineUnavailable = (engineId: string, reason: string): DomainError =>
  unavailable('KEY_ENGINE_UNAVAILABLE', `key engine ${engineId} is unavailable: ${reason}`, { engineId });

/** A stored key exists but cannot be used as stored (bad PEM, wrong key under an id). */
export const keyStoreCorrupt = (engineId: string, keyId: string, reason: string): DomainError =>
  unavailable('KEY_STORE_CORRUPT', `key ${echo(keyId)} in key engine ${engineId} is unusable: ${reason}`, {
    engineId,
    keyId: echo(keyId),
  });

/** Encrypted keys that the configured passphrase (or its absence) cannot open. */
export const keyPassphraseInvalid = (engineId: string, keyId: string): DomainError =>
  unavailable(
    'KEY_PASSPHRASE_INVALID',
    `key ${echo(keyId)} in key engine ${engineId} cannot be decrypted: the configured passphrase is wrong or missing`,
    { engineId, keyId: echo(keyId) },
  );
