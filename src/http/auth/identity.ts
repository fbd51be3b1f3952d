/**
 * Who is calling the admin API, and what a route needs. Routes declare `config: { access: 'read' }` or
 * `'write'`; the admin auth hook sets `request.identity` before the handler runs.
 */
import type { FastifyRequest } from 'fastify';
import type { AdminRole } from '../../domain/ports/admin-token.ts';

export type Access = 'read' | 'write';

export interface Identity {
  /** Token subject (`sub` of an OIDC token, the admin token's subject); recorded as the `actor` of changes. */
  subject: string;
  role: AdminRole;
  via: 'oidc' | 'admin-token';
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Required on every admin API route. */
    access?: Access;
  }
  interface FastifyRequest {
    identity?: Identity;
  }
}

/** The caller's subject, for the `actor` of events and audit records; only valid on admin API routes. */
export function actorOf(request: FastifyRequest): string {
  if (!request.identity) throw new Error(`route ${request.routeOptions.url} is not behind admin auth`);
  return request.identity.subject;
}
