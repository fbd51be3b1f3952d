/**
 * OCSP over HTTP (RFC 6960 A.1, RFC 5019): POST with an application/ocsp-request body, GET with the
 * request's base64 in the path. The GET route is a wildcard read from the raw URL, so `/`, runs of `//`,
 * `+`, `=` and their percent escapes reach the base64 decoder exactly as the client sent them.
 * Every OCSP-level failure is an OCSP response (malformedRequest, unauthorized ...), never a 500.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../../domain/ports/clock.ts';
import { isDomainError } from '../../domain/errors.ts';
import { ocspError, type OcspAnswer, type OcspResponder } from '../../services/va/ocsp-responder.ts';
import { decodeOcspGetPath } from '../../x509/ocsp-request.ts';

export const OCSP_PATH = '/api/va/ocsp';
export const OCSP_REQUEST = 'application/ocsp-request';
const OCSP_RESPONSE = 'application/ocsp-response';
/** RFC 6960 requests are a few hundred bytes; this leaves room for many CertIDs. */
export const OCSP_BODY_LIMIT = 64 * 1024;

/** Status, headers and body of the HTTP answer carrying `answer` (RFC 5019 caching headers, 304 on a matching ETag). */
export function ocspHttpAnswer(answer: OcspAnswer, ifNoneMatch: string | undefined, now: number): { status: 200 | 304; headers: Record<string, string>; body?: Buffer } {
  const body = Buffer.from(answer.body.buffer, answer.body.byteOffset, answer.body.byteLength);
  if (answer.kind === 'error' || !answer.etag) return { status: 200, headers: { 'content-type': OCSP_RESPONSE, 'cache-control': 'no-store' }, body };
  const maxAge = Math.max(0, Math.floor((answer.nextUpdate.getTime() - now) / 1000));
  const headers = {
    'content-type': OCSP_RESPONSE,
    'cache-control': `max-age=${maxAge}, public, no-transform, must-revalidate`,
    expires: answer.nextUpdate.toUTCString(),
    'last-modified': answer.producedAt.toUTCString(),
    etag: answer.etag,
  };
  if (ifNoneMatch && ifNoneMatch.split(',').some((t) => t.trim() === answer.etag || t.trim() === '*')) return { status: 304, headers };
  return { status: 200, headers, body };
}

function send(reply: FastifyReply, request: FastifyRequest, answer: OcspAnswer, now: number): FastifyReply {
  const http = ocspHttpAnswer(answer, request.headers['if-none-match'], now);
  reply.code(http.status).headers(http.headers);
  return http.body ? reply.send(http.body) : reply.send();
}

/** The part of the raw URL after `${OCSP_PATH}/`, query string dropped. */
export function rawRequestPath(url: string): string {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  return path.slice(OCSP_PATH.length + 1);
}

export const ocspRoutes =
  (responder: OcspResponder, clock: Clock): FastifyPluginAsync =>
  async (app) => {
    // Encapsulated: only these routes read ocsp-request bodies.
    app.addContentTypeParser(OCSP_REQUEST, { parseAs: 'buffer', bodyLimit: OCSP_BODY_LIMIT }, (_req, body, done) => done(null, body));

    // Request logs at info cost more than an answer from cache; failures are still logged.
    const logLevel = 'warn';
    app.post(OCSP_PATH, { logLevel, bodyLimit: OCSP_BODY_LIMIT }, async (request, reply) => {
      const body = request.body;
      if (!Buffer.isBuffer(body)) return send(reply, request, ocspError('malformedRequest'), clock.now().getTime());
      const answer = await responder.respond(new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
      return send(reply, request, answer, clock.now().getTime());
    });

    app.get(`${OCSP_PATH}/*`, { logLevel }, async (request, reply) => {
      let der: Uint8Array;
      try {
        der = decodeOcspGetPath(rawRequestPath(request.url));
      } catch (err) {
        if (!isDomainError(err)) throw err;
        return send(reply, request, ocspError('malformedRequest'), clock.now().getTime());
      }
      return send(reply, request, await responder.respond(der), clock.now().getTime());
    });
  };
