/** OpenAPI document at /api/docs/json and Swagger UI at /api/docs, on the HTTPS listener. */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

export async function registerOpenApi(app: FastifyInstance, version: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Lamassu TS API',
        version,
        description: 'Admin API of Lamassu TS. Errors are JSON { code, message }; see docs/errors.md.',
      },
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description: 'An OIDC access token (roles pki-admin / pki-viewer) or the embedded admin token',
          },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });
}
