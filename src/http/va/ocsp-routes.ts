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
const OCSP_REQUEST = 'application/ocsp-request';
/** RFC 6960 requests are a few hundred bytes; this leaves room for many CertIDs. */
const BODY_LIMIT = 64 * 1024;

function send(reply: FastifyReply, request: FastifyRequest, answer: OcspAnswer, now: number): FastifyReply {
  reply.header('content-type', 'application/ocsp-response');
  if (answer.kind === 'error' || !answer.etag) {
    reply.header('cache-control', 'no-store');
    return reply.send(Buffer.from(answer.body.buffer, answer.body.byteOffset, answer.body.byteLength));
  }
  const maxAge = Math.max(0, Math.floor((answer.nextUpdate.getTime() - now) / 1000));
  reply.header('cache-control', `max-age=${maxAge}, public, no-transform, must-revalidate`);
  reply.header('expires', answer.nextUpdate.toUTCString());
  reply.header('last-modified', answer.producedAt.toUTCString());
  reply.header('etag', answer.etag);
  const match = request.headers['if-none-match'];
  if (match && match.split(',').some((t) => t.trim() === answer.etag || t.trim() === '*')) return reply.code(304).send();
  return reply.send(Buffer.from(answer.body.buffer, answer.body.byteOffset, answer.body.byteLength));
}

/** The part of the raw URL after `${OCSP_PATH}/`, query string dropped. */
function rawRequestPath(url: string): string {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  return path.slice(OCSP_PATH.length + 1);
}

export const ocspRoutes =
  (responder: OcspResponder, clock: Clock): FastifyPluginAsync =>
  async (app) => {
    // Encapsulated: only these routes read ocsp-request bodies.
    app.addContentTypeParser(OCSP_REQUEST, { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_req, body, done) => done(null, body));

    // Request logs at info cost more than an answer from cache; failures are still logged.
    const logLevel = 'warn';
    app.post(OCSP_PATH, { logLevel, bodyLimit: BODY_LIMIT }, async (request, reply) => {
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
