/**
 * Maps every error a route can raise to `{ code, message }` JSON with a stable code. Domain errors carry
 * their own code; fastify's own failures (validation, body parsing) get ours; anything else is a 500
 * whose details go to the log only.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { isDomainError, type ErrorKind } from '../domain/errors.ts';

export const statusOfKind: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  unsupported: 501,
  unavailable: 503,
};

/** The JSON body of every API error; use it in route response schemas. */
export const ErrorBody = Type.Object({ code: Type.String(), message: Type.String() });

interface Mapped {
  status: number;
  code: string;
  message: string;
  /** The client's own doing and nothing to act on (it went away): log at debug only. */
  quiet?: boolean;
}

const fastifyCodes: Record<string, Omit<Mapped, 'message'>> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'MALFORMED_JSON' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'MALFORMED_JSON' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'BODY_TOO_LARGE' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
};

export function mapError(error: unknown): Mapped | undefined {
  if (isDomainError(error)) return { status: statusOfKind[error.kind], code: error.code, message: error.message };
  const e = error as Partial<FastifyError>;
  // The client closed the connection while sending its body (Node: ECONNRESET "aborted").
  if (e.code === 'ECONNRESET' || e.code === 'ECONNABORTED') {
    return { status: 400, code: 'REQUEST_ABORTED', message: 'the client aborted the request', quiet: true };
  }
  if (e.validation) return { status: 400, code: 'VALIDATION_FAILED', message: e.message ?? 'request is not valid' };
  const known = e.code ? fastifyCodes[e.code] : undefined;
  if (known) return { ...known, message: e.message ?? known.code };
  // Other fastify client errors (bad content-length, bad URL ...) carry safe messages of their own.
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500 && e.code?.startsWith('FST_')) {
    return { status: e.statusCode, code: 'BAD_REQUEST', message: e.message ?? 'bad request' };
  }
  return undefined;
}

/** A 503 for a domain reason (a dependency away), not a defect of ours. */
export const isKnownOutage = (error: unknown, status: number): boolean => status === 503 && isDomainError(error);

export function errorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const mapped = mapError(error);
  if (!mapped) {
    request.log.error({ err: error }, 'unexpected error');
    return reply.code(500).send({ code: 'INTERNAL', message: 'internal error' });
  }
  // A dependency known to be away (key engine, broker) logs its outage once itself: one warn line a request, no stack.
  if (isKnownOutage(error, mapped.status)) request.log.warn({ code: mapped.code }, mapped.message);
  else if (mapped.status >= 500) request.log.error({ err: error, code: mapped.code }, mapped.message);
  else if (mapped.quiet) request.log.debug({ code: mapped.code }, mapped.message);
  if (mapped.status === 401 && !reply.hasHeader('www-authenticate')) {
    reply.header('www-authenticate', mapped.code === 'AUTH_INVALID_TOKEN' ? 'Bearer error="invalid_token"' : 'Bearer');
  }
  return reply.code(mapped.status).send({ code: mapped.code, message: mapped.message });
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reply.code(404).send({ code: 'ROUTE_NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` });
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
}
