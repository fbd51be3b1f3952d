/** CRLs over HTTP: DER (application/pkix-crl) by default, PEM ("X509 CRL") for Accept: application/x-pem-file. */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Clock } from '../../domain/ports/clock.ts';
import type { CrlKind, CrlRecord } from '../../domain/va/crl-record.ts';
import type { CrlPublisher } from '../../services/va/crl-publisher.ts';
import { toPem } from '../../x509/pem.ts';

const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });

function send(request: FastifyRequest, reply: FastifyReply, crl: CrlRecord, now: number): FastifyReply {
  const maxAge = Math.max(0, Math.floor((crl.nextUpdate.getTime() - now) / 1000));
  reply.header('cache-control', `max-age=${maxAge}, public, no-transform, must-revalidate`);
  reply.header('expires', crl.nextUpdate.toUTCString());
  reply.header('last-modified', crl.thisUpdate.toUTCString());
  const pem = (request.headers.accept ?? '').includes('application/x-pem-file');
  // One CRL number is one content; the two encodings are two representations of it.
  const etag = `"${encodeURIComponent(crl.caId)}.${crl.kind}.${crl.number}.${pem ? 'pem' : 'der'}"`;
  reply.header('etag', etag);
  reply.header('vary', 'accept');
  if (request.headers['if-none-match'] === etag) return reply.code(304).send();
  if (pem) return reply.type('application/x-pem-file').send(toPem(crl.der, 'X509 CRL'));
  return reply.type('application/pkix-crl').send(Buffer.from(crl.der.buffer, crl.der.byteOffset, crl.der.byteLength));
}

export const crlRoutes =
  (crls: CrlPublisher, clock: Clock): FastifyPluginAsync =>
  async (app) => {
    const serve = (kind: CrlKind) => async (request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
      const ca = await crls.resolveCa(request.params.id);
      return send(request, reply, await crls.current(ca.id, kind), clock.now().getTime());
    };
    app.get('/api/va/crl/:id', { schema: { params: Params } }, serve('full'));
    app.get('/api/va/crl/:id/delta', { schema: { params: Params } }, serve('delta'));
  };
