/**
 * GET /api/console/v1/config: what the web console needs to know before anyone signs in, so it is public.
 * Today that is whether it may offer OIDC sign-in, and with which issuer and client (a public client: the
 * authorization code flow with PKCE has no secret to hide). Nothing here is secret: an identity provider's
 * issuer and client id are in every authorization request the browser makes anyway.
 */
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';

export const CONSOLE_API_PREFIX = '/api/console/v1';

export interface ConsoleOidc {
  /** The `iss` of tokens; discovery is at `<issuer>/.well-known/openid-configuration`. */
  issuer: string;
  clientId: string;
  scopes: string[];
}

export interface ConsoleSettings {
  /** Absent: the console takes pasted tokens only. */
  oidc?: ConsoleOidc;
}

const ConsoleConfigBody = Type.Object({
  oidc: Type.Union(
    [
      Type.Object({
        issuer: Type.String({ description: 'OIDC issuer; the console runs discovery at <issuer>/.well-known/openid-configuration' }),
        client_id: Type.String({ description: 'the console as a public client of the identity provider' }),
        scopes: Type.Array(Type.String(), { description: 'scopes the console requests (openid always among them)' }),
      }),
      Type.Null(),
    ],
    { description: 'null: no OIDC sign-in is configured for the console; sign in with a pasted token' },
  ),
});

export const consoleConfigRoutes =
  (settings: ConsoleSettings): FastifyPluginAsync =>
  async (app) => {
    const body = {
      oidc: settings.oidc ? { issuer: settings.oidc.issuer, client_id: settings.oidc.clientId, scopes: settings.oidc.scopes } : null,
    };
    app.get(
      '/config',
      {
        schema: {
          tags: ['console'],
          summary: "The web console's sign-in options (public: read before signing in)",
          response: { 200: ConsoleConfigBody },
        },
      },
      async (_request, reply) => reply.header('cache-control', 'no-cache').send(body),
    );
  };

/** Origins the console's page may connect to besides its own server: the identity provider, for discovery and the code exchange. */
export function consoleConnectOrigins(settings: ConsoleSettings): string[] {
  return settings.oidc ? [new URL(settings.oidc.issuer).origin] : [];
}
