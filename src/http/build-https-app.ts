/**
 * The HTTPS listener: admin API (bearer auth), EST and other client-certificate routes, OpenAPI docs.
 * Client certificates are requested but not verified by TLS: each route decides whom it trusts.
 */
import { randomUUID } from 'node:crypto';
import type { Server as TlsServer } from 'node:tls';
import fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { adminApiScope, type AdminAuthOptions } from './auth/admin-auth.ts';
import { ID_MAX_LENGTH } from '../domain/id-limit.ts';
import { registerErrorHandling } from './errors.ts';
import { answerHalfClosedClients } from './half-close.ts';
import { clientErrorHandler, frameworkErrorHandler } from './framework-errors.ts';
import { DEFAULT_REQUEST_TIMEOUT_MS, nodeServerTimeouts } from './request-timeout.ts';
import type { HttpMetrics } from './metrics.ts';
import { registerOpenApi } from './openapi.ts';
import type { ServicePlugin } from './service-plugin.ts';
import { registerRequestGuards } from './request-guards.ts';
import { buildInfoOf, serviceHealthRoutes } from './service-health-routes.ts';
import { validatorCompiler } from './validator.ts';
import { CONSOLE_API_PREFIX, consoleConfigRoutes, consoleConnectOrigins, type ConsoleSettings } from './web/console-config-routes.ts';
import { registerWebConsole, WEB_DIST_DIR } from './web/web-console.ts';

export interface TlsMaterial {
  /** PEM. */
  key: string;
  /** PEM, the server certificate followed by its chain. */
  cert: string;
}

export interface HttpsAppOptions {
  /** Absent in tests that use inject() without sockets. */
  tls?: TlsMaterial;
  logger: FastifyBaseLogger;
  metrics: HttpMetrics;
  auth: AdminAuthOptions;
  services: ServicePlugin[];
  version: string;
  /**
   * TLS session ticket keys (48 bytes). Session resumption (tickets, TLS 1.2 and 1.3) is on either way; keys
   * shared by the worker processes of one server let a ticket from one worker resume on another.
   */
  ticketKeys?: Buffer;
  /** Largest request body in bytes (default 1 MiB). */
  bodyLimit?: number;
  /** Longest a request may take to arrive (default 60 s): a stalled client gets 408 and is disconnected. */
  requestTimeoutMs?: number;
  /** The built web console (default web/dist); false serves none. */
  webConsoleDir?: string | false;
  /** What the console is told before sign-in (GET /api/console/v1/config); default: no OIDC sign-in. */
  console?: ConsoleSettings;
}

export const ADMIN_API_PREFIX = '/api/v1';

/** What a TLS context is made of; the same at start and when the certificate is replaced. */
const secureContextOptions = (tls: TlsMaterial) => ({
  key: tls.key,
  cert: tls.cert,
  minVersion: 'TLSv1.2' as const,
  maxVersion: 'TLSv1.3' as const,
});

/** New connections get `tls`; connections already open keep theirs. */
export function replaceTlsMaterial(app: FastifyInstance, tls: TlsMaterial): void {
  (app.server as unknown as TlsServer).setSecureContext(secureContextOptions(tls));
}

export async function buildHttpsApp(opts: HttpsAppOptions): Promise<FastifyInstance> {
  const requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const https = opts.tls && {
    ...secureContextOptions(opts.tls),
    requestCert: true,
    rejectUnauthorized: false,
    ...(opts.ticketKeys ? { ticketKeys: opts.ticketKeys } : {}),
    ...nodeServerTimeouts(requestTimeoutMs),
  };
  // The https and plain server types differ only in the socket; routes and plugins see the same API.
  const app = fastify({
    loggerInstance: opts.logger,
    // Unique across both listeners and all replicas, so log lines can be joined.
    genReqId: () => randomUUID(),
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
    requestTimeout: requestTimeoutMs,
    // Every id a route names fits (src/domain/id-limit.ts); failures before routing answer in our shape.
    routerOptions: { maxParamLength: ID_MAX_LENGTH },
    clientErrorHandler: clientErrorHandler(opts.logger),
    frameworkErrors: frameworkErrorHandler,
    ...(https ? { https } : {}),
  }) as unknown as FastifyInstance;
  answerHalfClosedClients(app.server);
  app.setValidatorCompiler(validatorCompiler());
  registerErrorHandling(app);
  registerRequestGuards(app);
  opts.metrics.observe(app, 'https');
  await registerOpenApi(app, opts.version);

  const adminPlugins = opts.services.flatMap((s) => (s.adminApi ? [s.adminApi] : []));
  await app.register(adminApiScope(opts.auth, adminPlugins), { prefix: ADMIN_API_PREFIX });
  for (const s of opts.services) if (s.https) await app.register(s.https);
  await app.register(serviceHealthRoutes(opts.services.map((s) => s.name), buildInfoOf(opts.version)));
  const consoleSettings = opts.console ?? {};
  await app.register(consoleConfigRoutes(consoleSettings), { prefix: CONSOLE_API_PREFIX });
  if (opts.webConsoleDir !== false) registerWebConsole(app, opts.webConsoleDir ?? WEB_DIST_DIR, consoleConnectOrigins(consoleSettings));
  return app;
}
