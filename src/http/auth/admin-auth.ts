/**
 * Bearer-token authentication for the admin API. A JWT goes to the OIDC verifier; anything else is
 * looked up as an embedded admin token. Routes declare the access they need and the scope refuses to
 * register a route that does not, so no admin route is public by mistake.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { forbidden, unauthenticated } from '../../domain/errors.ts';
import type { AdminTokenRepository } from '../../domain/ports/admin-token.ts';
import { verifyAdminToken } from './admin-token.ts';
import type { Access, Identity } from './identity.ts';
import type { OidcVerifier } from './oidc-verifier.ts';

export interface AdminAuthOptions {
  adminTokens: AdminTokenRepository;
  /** Absent when no OIDC provider is configured: JWTs are then refused. */
  oidc?: OidcVerifier;
}

const IdentityBody = Type.Object({
  subject: Type.String(),
  role: Type.Union([Type.Literal('pki-admin'), Type.Literal('pki-viewer')]),
  via: Type.Union([Type.Literal('oidc'), Type.Literal('admin-token')]),
});

const looksLikeJwt = (token: string) => token.split('.').length === 3;

/**
 * A known admin token is trusted again for a few seconds without a database read: a busy API client would
 * otherwise cost a query per request (a quarter of the server's time in the issuance benchmark). Tokens
 * are never deleted today; when they are, this bounds how long a deleted one keeps working.
 */
const TOKEN_CACHE_MS = 5000;
const TOKEN_CACHE_MAX = 1000;

export function bearerAuthenticator(opts: AdminAuthOptions): (authorization: string | undefined) => Promise<Identity> {
  const recent = new Map<string, { identity: Identity; until: number }>();
  return async (authorization) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) throw unauthenticated('AUTH_REQUIRED', 'an Authorization: Bearer token is required');
    const token = match[1];
    if (looksLikeJwt(token)) {
      if (!opts.oidc) throw unauthenticated('AUTH_INVALID_TOKEN', 'OIDC tokens are not accepted: no identity provider is configured');
      return opts.oidc(token);
    }
    const hit = recent.get(token);
    if (hit && performance.now() < hit.until) return hit.identity;
    const identity = await verifyAdminToken(opts.adminTokens, token);
    if (!identity) throw unauthenticated('AUTH_INVALID_TOKEN', 'token not valid');
    if (recent.size >= TOKEN_CACHE_MAX) recent.clear();
    recent.set(token, { identity, until: performance.now() + TOKEN_CACHE_MS });
    return identity;
  };
}

function allows(identity: Identity, access: Access): boolean {
  return identity.role === 'pki-admin' || (identity.role === 'pki-viewer' && access === 'read');
}

/** Mounts `plugins` behind bearer auth; each of their routes must declare `config.access`. */
export const adminApiScope =
  (opts: AdminAuthOptions, plugins: FastifyPluginAsync[]): FastifyPluginAsync =>
  async (scope) => {
    const authenticate = bearerAuthenticator(opts);
    scope.addHook('onRoute', (route) => {
      const access = route.config?.access;
      if (access !== 'read' && access !== 'write') {
        throw new Error(`admin API route ${route.method} ${route.url} must declare config.access ('read' or 'write')`);
      }
      route.schema = { ...route.schema, security: [{ bearer: [] }] };
    });
    // onRequest: refuse before the body is even read.
    scope.addHook('onRequest', async (request: FastifyRequest) => {
      const access = request.routeOptions.config.access!;
      const identity = await authenticate(request.headers.authorization);
      if (!allows(identity, access)) {
        throw forbidden('AUTH_FORBIDDEN', `role ${identity.role} may not ${access === 'write' ? 'change' : 'read'} this resource`);
      }
      request.identity = identity;
    });
    scope.get(
      '/whoami',
      {
        config: { access: 'read' },
        schema: { tags: ['auth'], summary: 'The caller as the server sees it', response: { 200: IdentityBody } },
      },
      async (request) => request.identity,
    );
    for (const plugin of plugins) await scope.register(plugin);
  };
