/** The plain-HTTP listener: /health, /metrics and the services' public routes (OCSP, CRLs). */
import { randomUUID } from 'node:crypto';
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
  const app = fastify({
    loggerInstance: opts.logger,
    // Unique across both listeners and all replicas, so log lines can be joined.
    genReqId: () => randomUUID(),
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
    requestTimeout: requestTimeoutMs,
    http: nodeServerTimeouts(requestTimeoutMs),
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
