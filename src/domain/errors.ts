/**
 * Errors with stable codes. Services throw these; each front-end (REST, EST, OCSP) maps the
 * `kind` to its own protocol. Every code is documented in docs/errors.md.
 */
export type ErrorKind =
  | 'invalid' // the caller sent something malformed or not allowed (400)
  | 'unauthenticated' // no or bad credentials (401)
  | 'forbidden' // authenticated, but not allowed (403)
  | 'not_found' // unknown id (404)
  | 'conflict' // illegal state change or duplicate (409)
  | 'too_large' // body or collection over a limit (413)
  | 'unsupported' // operation or algorithm the backend does not offer (501)
  | 'unavailable'; // a dependency (database, HSM, Vault) is down (503)

export class DomainError extends Error {
  constructor(
    readonly code: string,
    readonly kind: ErrorKind,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const invalid = (code: string, message: string, details?: Record<string, unknown>) =>
  new DomainError(code, 'invalid', message, details);
export const notFound = (code: string, message: string, details?: Record<string, unknown>) =>
  new DomainError(code, 'not_found', message, details);
export const conflict = (code: string, message: string, details?: Record<string, unknown>) =>
  new DomainError(code, 'conflict', message, details);
export const unsupported = (code: string, message: string, details?: Record<string, unknown>) =>
  new DomainError(code, 'unsupported', message, details);
export const unavailable = (code: string, message: string, details?: Record<string, unknown>) =>
  new DomainError(code, 'unavailable', message, details);
export const forbidden = (code: string, message: string, details?: Record<string, unknown>) =>
  new DomainError(code, 'forbidden', message, details);
export const unauthenticated = (code: string, message: string, details?: Record<string, unknown>) =>
  new DomainError(code, 'unauthenticated', message, details);

export const isDomainError = (e: unknown): e is DomainError => e instanceof DomainError;
