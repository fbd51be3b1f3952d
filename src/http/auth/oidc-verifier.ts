/**
 * Verifies OIDC access tokens (JWTs) against the identity provider's JWKS and maps the configured roles
 * claim to our roles: `pki-admin` may do everything, `pki-viewer` may read.
 */
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { OidcConfig } from '../../config/config-schema.ts';
import { DomainError, forbidden, unauthenticated, unavailable } from '../../domain/errors.ts';
import type { AdminRole } from '../../domain/ports/admin-token.ts';
import type { Identity } from './identity.ts';

const ASYMMETRIC_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

export type OidcVerifier = (token: string) => Promise<Identity>;

function claimAt(payload: JWTPayload, dotted: string): unknown {
  return dotted
    .split('.')
    .reduce<unknown>((v, k) => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[k] : undefined), payload);
}

export function rolesToRole(roles: unknown): AdminRole | undefined {
  const list = Array.isArray(roles) ? roles : typeof roles === 'string' ? roles.split(/[\s,]+/) : [];
  if (list.includes('pki-admin')) return 'pki-admin';
  if (list.includes('pki-viewer')) return 'pki-viewer';
  return undefined;
}

/** Why a token was refused, without echoing anything the caller did not already know. */
function reason(err: unknown): DomainError {
  if (err instanceof joseErrors.JWTExpired) return unauthenticated('AUTH_INVALID_TOKEN', 'token expired');
  if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'exp' && err.reason === 'missing') {
    return unauthenticated('AUTH_TOKEN_NO_EXPIRY', 'token has no "exp" claim: tokens that never expire are not accepted');
  }
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    return unauthenticated('AUTH_INVALID_TOKEN', `token claim "${err.claim}" not accepted`);
  }
  if (err instanceof joseErrors.JWKSTimeout) return unavailable('AUTH_UNAVAILABLE', 'identity provider keys unavailable');
  if (err instanceof joseErrors.JOSEError) return unauthenticated('AUTH_INVALID_TOKEN', 'token not valid');
  // Not a token problem: fetching the key set failed.
  return unavailable('AUTH_UNAVAILABLE', 'identity provider keys unavailable');
}

/**
 * A stolen long-lived token stays useful for long; the cap bounds that. Without `iat` the lifetime
 * left from now is what counts.
 */
function checkLifetime(payload: JWTPayload, maxMs: number): void {
  const exp = payload.exp!;
  const from = typeof payload.iat === 'number' ? payload.iat : Math.floor(Date.now() / 1000);
  const lifetime = exp - from;
  const max = Math.floor(maxMs / 1000);
  if (lifetime > max) {
    throw unauthenticated(
      'AUTH_TOKEN_LIFETIME_TOO_LONG',
      `token lifetime ${lifetime} s (${typeof payload.iat === 'number' ? 'exp - iat' : 'exp - now, no iat'}) exceeds the maximum of ${max} s`,
    );
  }
}

export function createOidcVerifier(config: OidcConfig): OidcVerifier {
  const jwks = createRemoteJWKSet(new URL(config.jwksUrl));
  return async (token) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, jwks, {
        issuer: config.issuer,
        audience: config.audience,
        algorithms: ASYMMETRIC_ALGS,
        // A token without exp would be valid forever.
        requiredClaims: ['exp'],
      }));
    } catch (err) {
      throw reason(err);
    }
    if (config.maxTokenLifetimeMs !== undefined) checkLifetime(payload, config.maxTokenLifetimeMs);
    if (!payload.sub) throw unauthenticated('AUTH_INVALID_TOKEN', 'token has no subject');
    const role = rolesToRole(claimAt(payload, config.rolesClaim));
    if (!role) throw forbidden('AUTH_FORBIDDEN', `token grants neither pki-admin nor pki-viewer (claim ${config.rolesClaim})`);
    return { subject: payload.sub, role, via: 'oidc' };
  };
}
