/**
 * What relying parties fetch without credentials, on the plain-HTTP listener (the VA base URL): the CA
 * certificate that issued theirs, at the caIssuers URL written into every certificate (RFC 5280 4.2.2.1:
 * DER over HTTP). PEM on request.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { CaService } from '../../services/ca/ca-service.ts';
import { toPem } from '../../x509/pem.ts';
import { CA_API_PREFIX_PUBLIC } from './ca-paths.ts';
import { IdParams } from './ca-schemas.ts';

export const caPublicRoutes =
  (service: CaService): FastifyPluginAsync =>
  async (scope) => {
    const app = scope.withTypeProvider<TypeBoxTypeProvider>();
    app.get(`${CA_API_PREFIX_PUBLIC}/cas/:id/certificate`, { schema: { params: IdParams } }, async (request, reply) => {
      const { der } = (await service.getCa(request.params.id)).certificate;
      reply.header('cache-control', 'public, max-age=3600');
      if ((request.headers.accept ?? '').includes('application/x-pem-file')) {
        return reply.type('application/x-pem-file').send(toPem(der, 'CERTIFICATE'));
      }
      return reply.type('application/pkix-cert').send(Buffer.from(der));
    });
  };
