/**
 * Failures that happen before any route runs, answered in our shape like every other error:
 * - Node's HTTP parser (headers too large, malformed request line, timeouts): `clientErrorHandler`;
 * - fastify's router (undecodable URL, a path segment over the id limit): `frameworkErrors`.
 * JSON `{code, message}` everywhere; plain text under the EST prefixes, as EST answers.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger, FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ID_MAX_LENGTH } from '../domain/id-limit.ts';
import { EST_PREFIXES } from './est/est-plugin.ts';
import { sendPlainError } from './est/est-errors.ts';

interface Answer {
  status: number;
  code: string;
  message: string;
}

function parserFailure(err: Error & { code?: string }): Answer {
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    return { status: 431, code: 'HEADERS_TOO_LARGE', message: 'the request headers are larger than the server accepts (16 KiB)' };
  }
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, code: 'REQUEST_TIMEOUT', message: 'the request was not received in time' };
  return { status: 400, code: 'BAD_REQUEST', message: `the HTTP request is malformed${err.code ? ` (${err.code})` : ''}` };
}

const answered = Symbol('client error answered');
/** How long a refused connection may keep sending before it is cut. */
const LINGER_MS = 5_000;

/**
 * Node's `clientError`: the request cannot be parsed, so the connection cannot go on. Answer with
 * `Connection: close` (a kept-alive client must not send its next request on it), then close our side
 * and drop whatever the client still sends: closing with unread bytes would reset the connection and
 * could destroy the answer before the client reads it.
 */
export const clientErrorHandler =
  (log: FastifyBaseLogger) =>
  (err: Error & { code?: string }, socket: Socket): void => {
    const s = socket as Socket & { [answered]?: boolean; _httpMessage?: { headersSent?: boolean } | null };
    if (err.code === 'ECONNRESET' || s.destroyed || s[answered]) return;
    s[answered] = true;
    const answer = parserFailure(err);
    log.debug({ err, code: answer.code }, 'unparsable HTTP request refused');
    // A response already on its way on this socket cannot be followed by another one.
    if (s.writable && !s._httpMessage?.headersSent) {
      const body = JSON.stringify({ code: answer.code, message: answer.message });
      s.write(
        `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    const cut = setTimeout(() => s.destroy(), LINGER_MS);
    cut.unref();
    s.once('close', () => clearTimeout(cut));
    s.on('error', () => s.destroy());
    s.end();
    s.resume();
  };

const isEstPath = (url: string) => EST_PREFIXES.some((p) => url === p || url.startsWith(`${p}/`));

function routerFailure(error: FastifyError): Answer {
  if (error.code === 'FST_ERR_BAD_URL') return { status: 400, code: 'MALFORMED_URL', message: 'the URL has an invalid percent-encoding' };
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return { status: 414, code: 'PATH_SEGMENT_TOO_LONG', message: `a path segment is longer than ${ID_MAX_LENGTH} characters: no id is` };
  }
  return { status: 500, code: 'INTERNAL', message: 'internal error' };
}

/** fastify's `frameworkErrors`: the router could not pick a route. */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const answer = routerFailure(error);
  if (answer.status >= 500) request.log.error({ err: error }, 'router failure');
  if (isEstPath(request.url)) {
    sendPlainError(reply, answer.status, answer.code, answer.message);
    return;
  }
  reply.code(answer.status).send({ code: answer.code, message: answer.message });
}
