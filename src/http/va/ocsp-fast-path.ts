/**
 * OCSP on the plain-HTTP listener without the web framework: relying parties ask the same few questions
 * many times a second, and the answers are cached whole, so what is left per request is HTTP. Through
 * fastify (routing, hooks, a child logger, reply plumbing) one process answered 26-43% of what bare
 * node:http answers on the same machine (BENCHMARKS.md); here a request that is plainly an OCSP GET or POST
 * is answered straight from the request listener, with the same bytes and headers as ocsp-routes.ts.
 * Anything else (a query string, HEAD, an undecodable path, another content type, no Content-Length, a body
 * over the limit) goes on to fastify, whose routes give the full behaviour, errors included.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../domain/ports/clock.ts';
import type { OcspAnswer, OcspResponder } from '../../services/va/ocsp-responder.ts';
import { decodeOcspGetPath } from '../../x509/ocsp-request.ts';
import { OCSP_BODY_LIMIT, OCSP_PATH, OCSP_REQUEST, ocspHttpAnswer, rawRequestPath } from './ocsp-routes.ts';
import type { HttpFastPath } from '../service-plugin.ts';

const GET_PREFIX = `${OCSP_PATH}/`;
/** The route labels fastify's metrics use for the same requests. */
const GET_ROUTE = `${OCSP_PATH}/*`;

const mediaType = (header: string | undefined) => header?.split(';', 1)[0]!.trim().toLowerCase();

export function ocspFastPath(responder: Pick<OcspResponder, 'respond'>, clock: Clock): HttpFastPath {
  const reply = (req: IncomingMessage, res: ServerResponse, answer: OcspAnswer) => {
    const http = ocspHttpAnswer(answer, req.headers['if-none-match'], clock.now().getTime());
    if (http.body) http.headers['content-length'] = String(http.body.length);
    res.writeHead(http.status, http.headers);
    res.end(http.body);
  };
  return (req, res) => {
    const url = req.url ?? '';
    if (url.includes('?')) return undefined;
    if (req.method === 'GET' && url.startsWith(GET_PREFIX)) {
      let der: Uint8Array;
      try {
        der = decodeOcspGetPath(rawRequestPath(url));
      } catch {
        // Undecodable: the framework answers it (400 for a broken percent-escape, else malformedRequest).
        return undefined;
      }
      void responder.respond(der).then((answer) => reply(req, res, answer));
      return GET_ROUTE;
    }
    if (req.method === 'POST' && url === OCSP_PATH && mediaType(req.headers['content-type']) === OCSP_REQUEST) {
      const length = Number(req.headers['content-length']);
      if (req.headers['transfer-encoding'] !== undefined || !Number.isInteger(length) || length < 0 || length > OCSP_BODY_LIMIT) return undefined;
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.once('end', () => {
        const body = Buffer.concat(chunks);
        void responder.respond(new Uint8Array(body.buffer, body.byteOffset, body.byteLength)).then((answer) => reply(req, res, answer));
      });
      return OCSP_PATH;
    }
    return undefined;
  };
}
