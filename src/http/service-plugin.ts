/**
 * The contract between the server shell and each service's HTTP front-end. A service contributes one
 * factory (registered in src/app.ts); the shell mounts what it returns on the right listener with the
 * right authentication, so a service plugin only decodes, calls its service and encodes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyPluginAsync } from 'fastify';
import type { Config, ServiceName } from '../config/config-schema.ts';
import type { Clock } from '../domain/ports/clock.ts';
import type { EventBus } from '../domain/ports/event-bus.ts';
import type { RandomSource } from '../domain/ports/id-generator.ts';
import type { Logger } from '../domain/ports/logger.ts';
import type { MetricsRecorder } from '../domain/ports/metrics.ts';
import type { Storage } from '../domain/ports/storage.ts';
import type { KeyEngineSet } from '../engines/crypto/registry.ts';

/** What app.ts hands every service factory. */
export interface ServiceDeps {
  config: Config;
  storage: Storage;
  /**
   * The same database for work in the background (bus consumers, delivery loops): on PostgreSQL a small pool
   * of its own, so background work never waits in the pool's queue behind a burst of API requests; on
   * SQLite (one connection) the same storage.
   */
  backgroundStorage?: Storage;
  keyEngines: KeyEngineSet;
  events: EventBus;
  clock: Clock;
  random: RandomSource;
  logger: Logger;
  /** Where services report what operators watch (/metrics); absent: nothing is recorded. */
  metrics?: MetricsRecorder;
}

export interface ServicePlugin {
  name: ServiceName;
  /**
   * Admin API routes, mounted under `/api/v1` on the HTTPS listener behind bearer-token auth. Every
   * route must declare `config: { access: 'read' | 'write' }` (registration fails otherwise); handlers
   * read the caller with `actorOf(request)` from src/http/auth/identity.ts.
   */
  adminApi?: FastifyPluginAsync;
  /** HTTPS routes that authenticate by themselves, e.g. EST with `clientCertificateChain(request)` (client-certificate.ts). */
  https?: FastifyPluginAsync;
  /** Plain-HTTP routes, e.g. OCSP and CRLs. */
  http?: FastifyPluginAsync;
  /** Plain-HTTP requests answered before the framework sees them (hot paths); each also has a route in `http`. */
  httpFastPath?: HttpFastPath;
  /** Stops the service's own work (jobs, consumers); called at shutdown before storage closes. */
  close?(): Promise<void>;
}

/**
 * Answers a request straight from Node's request listener, or leaves it (undefined) to the framework. When it
 * takes one it returns the route label the request is counted under in /metrics, and answers it, always.
 */
export type HttpFastPath = (req: IncomingMessage, res: ServerResponse) => string | undefined;

export type ServicePluginFactory = (deps: ServiceDeps) => ServicePlugin | Promise<ServicePlugin>;
