/**
 * EST errors are short plain-text bodies with the status the failure deserves (RFC 7030 4.2.3): domain
 * errors by their kind, our framing errors by code, fastify's own (body too large ...) by theirs. A 401 of
 * an HTTP Basic DMS names its realm so that clients know to send credentials (RFC 7030 3.2.3).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isDomainError } from '../../domain/errors.ts';
import { isKnownOutage, mapError } from '../errors.ts';
import { EstMediaTypeError } from './est-request.ts';

export function sendPlainError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).type('text/plain; charset=utf-8').send(`${code}: ${message}\n`);
}

/** Seconds a client should wait after a 503 (e.g. the enrollment webhook is down) before it tries again. */
export const EST_RETRY_AFTER_SECONDS = 30;

/** `"` and `\` would end or escape the quoted realm; DMS ids have neither, but be safe. */
const quoted = (s: string) => `"${s.replace(/["\\]/g, '')}"`;

export function estErrorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof EstMediaTypeError) return sendPlainError(reply, 415, error.code, error.message);
  const mapped = mapError(error);
  if (!mapped) {
    request.log.error({ err: error }, 'EST request failed unexpectedly');
    return sendPlainError(reply, 500, 'INTERNAL', 'internal error');
  }
  if (isKnownOutage(error, mapped.status)) request.log.warn({ code: mapped.code }, mapped.message);
  else if (mapped.status >= 500) request.log.error({ err: error, code: mapped.code }, mapped.message);
  else request.log[mapped.quiet ? 'debug' : 'info']({ code: mapped.code, status: mapped.status }, 'EST request refused');
  const realm = isDomainError(error) ? error.details?.basicRealm : undefined;
  if (mapped.status === 401 && typeof realm === 'string') reply.header('www-authenticate', `Basic realm=${quoted(realm)}, charset="UTF-8"`);
  if (mapped.status === 503) reply.header('retry-after', String(EST_RETRY_AFTER_SECONDS));
  return sendPlainError(reply, mapped.status, mapped.code, mapped.message);
}

export function estNotFoundHandler(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendPlainError(reply, 404, 'EST_ROUTE_NOT_FOUND', `no EST operation ${request.method} ${request.url.split('?')[0]}`);
}
