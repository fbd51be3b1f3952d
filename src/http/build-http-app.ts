/** The plain-HTTP listener: /health, /metrics and the services' public routes (OCSP, CRLs). */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { ID_MAX_LENGTH } from '../domain/id-limit.ts';
import { registerErrorHandling } from './errors.ts';
import { answerHalfClosedClients } from './half-close.ts';
import { clientErrorHandler, frameworkErrorHandler } from './framework-errors.ts';
import { DEFAULT_REQUEST_TIMEOUT_MS, nodeServerTimeouts } from './request-timeout.ts';
import { healthRoutes, type HealthChecks } from './health-routes.ts';
import type { HttpMetrics } from './metrics.ts';
import type { ServicePlugin } from './service-plugin.ts';
import { registerRequestGuards } from './request-guards.ts';
import { validatorCompiler } from './validator.ts';

export interface HttpAppOptions {
  logger: FastifyBaseLogger;
  metrics: HttpMetrics;
  health: HealthChecks;
  services: ServicePlugin[];
  bodyLimit?: number;
  /** Longest a request may take to arrive (default 60 s): a stalled client gets 408 and is disconnected. */
  requestTimeoutMs?: number;
}

export async function buildHttpApp(opts: HttpAppOptions): Promise<FastifyInstance> {
  const requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const fastPaths = opts.services.flatMap((s) => (s.httpFastPath ? [s.httpFastPath] : []));
  const app = fastify({
    // Node's server as fastify would make it, with the services' fast paths in front of fastify's handler.
    serverFactory: (handler, options) => {
      const server = http.createServer(nodeServerTimeouts(requestTimeoutMs), (req, res) => {
        for (const fast of fastPaths) {
          const started = performance.now();
          const route = fast(req, res);
          if (route === undefined) continue;
          res.once('finish', () => opts.metrics.record('http', req.method ?? '', route, res.statusCode, (performance.now() - started) / 1000));
          return;
        }
        handler(req, res);
      });
      // What fastify sets on a server it makes itself (its defaults are filled in by now).
      const keepAliveMs = Number(options.keepAliveTimeout);
      if (Number.isFinite(keepAliveMs)) server.keepAliveTimeout = keepAliveMs;
      const connectionMs = Number(options.connectionTimeout);
      if (Number.isFinite(connectionMs)) server.setTimeout(connectionMs);
      return server;
    },
    loggerInstance: opts.logger,
    // Unique across both listeners and all replicas, so log lines can be joined.
    genReqId: () => randomUUID(),
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
    requestTimeout: requestTimeoutMs,
    // Every id a route names fits (src/domain/id-limit.ts); failures before routing answer in our shape.
    routerOptions: { maxParamLength: ID_MAX_LENGTH },
    clientErrorHandler: clientErrorHandler(opts.logger),
    frameworkErrors: frameworkErrorHandler,
  });
  answerHalfClosedClients(app.server);
  app.setValidatorCompiler(validatorCompiler());
  registerErrorHandling(app);
  registerRequestGuards(app);
  opts.metrics.observe(app, 'http');
  await app.register(healthRoutes(opts.health, opts.metrics));
  for (const s of opts.services) if (s.http) await app.register(s.http);
  return app;
}
