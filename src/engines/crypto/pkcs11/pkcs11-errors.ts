/**
 * PKCS#11 return values to DomainErrors. Messages carry the CKR name only: never arguments,
 * so neither the PIN nor key material can leak through an error.
 */
import pkcs11js from 'pkcs11js';
import { DomainError, isDomainError } from '../../../domain/errors.ts';
import { keyEngineUnavailable } from '../key-errors.ts';

/** Raised by the engine itself when a session turns out not to be logged in. */
export class NotLoggedInError extends Error {
  constructor() {
    super('PKCS#11 session is not logged in');
  }
}

/** No token with the configured label is present (removed, or the label is wrong). */
export class TokenNotFoundError extends Error {
  constructor(readonly label: string) {
    super(`no PKCS#11 token labelled "${label}"`);
  }
}

export const ckrCode = (e: unknown): number | undefined =>
  e instanceof pkcs11js.Pkcs11Error ? e.code : undefined;

export const ckrName = (code: number) =>
  Object.keys(pkcs11js).find((k) => k.startsWith('CKR_') && (pkcs11js as unknown as Record<string, unknown>)[k] === code) ??
  `CKR_0x${code.toString(16)}`;

/**
 * Failures a fresh session (and login) may cure: the session or the login went away behind
 * our back, or the token was removed and reinserted, which also invalidates object handles.
 */
const recoverable = new Set([
  pkcs11js.CKR_SESSION_HANDLE_INVALID,
  pkcs11js.CKR_SESSION_CLOSED,
  pkcs11js.CKR_USER_NOT_LOGGED_IN,
  pkcs11js.CKR_DEVICE_REMOVED,
  pkcs11js.CKR_DEVICE_ERROR,
  pkcs11js.CKR_TOKEN_NOT_PRESENT,
  pkcs11js.CKR_TOKEN_NOT_RECOGNIZED,
  pkcs11js.CKR_KEY_HANDLE_INVALID,
  pkcs11js.CKR_OBJECT_HANDLE_INVALID,
]);

export const isRecoverable = (e: unknown) => {
  if (e instanceof NotLoggedInError || isTokenLost(e)) return true;
  const code = ckrCode(e);
  return code !== undefined && recoverable.has(code);
};

/**
 * Failures that say the token (or the library's view of it) is gone, which a new session alone
 * may not cure: SoftHSM2 answers CKR_GENERAL_ERROR for a token whose files went away, and keeps
 * doing so after they are back until the library is finalised and initialised again.
 */
const tokenLost = new Set([
  pkcs11js.CKR_GENERAL_ERROR,
  pkcs11js.CKR_CRYPTOKI_NOT_INITIALIZED,
  pkcs11js.CKR_DEVICE_REMOVED,
  pkcs11js.CKR_DEVICE_ERROR,
  pkcs11js.CKR_TOKEN_NOT_PRESENT,
  pkcs11js.CKR_TOKEN_NOT_RECOGNIZED,
  pkcs11js.CKR_SLOT_ID_INVALID,
]);

export const isTokenLost = (e: unknown) => {
  if (e instanceof TokenNotFoundError) return true;
  const code = ckrCode(e);
  return code !== undefined && tokenLost.has(code);
};

const loginFailures = new Set([
  pkcs11js.CKR_PIN_INCORRECT,
  pkcs11js.CKR_PIN_INVALID,
  pkcs11js.CKR_PIN_LEN_RANGE,
  pkcs11js.CKR_PIN_EXPIRED,
  pkcs11js.CKR_PIN_LOCKED,
  pkcs11js.CKR_USER_PIN_NOT_INITIALIZED,
]);

/** The token refused the PIN itself (wrong, locked, expired): trying again only brings a lockout closer. */
export const isPinRefused = (e: unknown) => {
  const code = ckrCode(e);
  return code !== undefined && loginFailures.has(code);
};

/** `operation` names what the engine was doing ("sign", "open" ...), for people. */
export function toDomainError(e: unknown, engineId: string, operation: string): DomainError {
  if (isDomainError(e)) return e;
  const code = ckrCode(e);
  if (code !== undefined && loginFailures.has(code)) {
    return new DomainError(
      'KEY_ENGINE_AUTH_FAILED',
      'unavailable',
      `key engine ${engineId} cannot log in to its PKCS#11 token: ${ckrName(code)}`,
      { engineId, ckr: ckrName(code) },
    );
  }
  if (code !== undefined) return keyEngineUnavailable(engineId, `PKCS#11 ${operation} failed with ${ckrName(code)}`);
  if (e instanceof NotLoggedInError) return keyEngineUnavailable(engineId, `PKCS#11 ${operation}: not logged in`);
  if (e instanceof TokenNotFoundError) {
    const error = keyEngineUnavailable(engineId, e.message);
    return new DomainError(error.code, error.kind, error.message, { ...error.details, tokenMissing: true });
  }
  // Native errors (library not loadable ...) carry no call arguments either; keep their first line.
  const text = e instanceof Error ? e.message.split('\n')[0] : 'unknown error';
  return keyEngineUnavailable(engineId, `PKCS#11 ${operation} failed: ${text}`);
}
