/**
 * Composition root: the only module that knows the concrete engines. config -> storage -> key engines
 * -> event bus -> services -> HTTP listeners; `close()` takes it all down in the reverse order.
 */
import { randomUUID, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger as PinoLogger } from 'pino';
import type { Config, KeyEngineSettings, ServiceName } from './config/config-schema.ts';
import { ConfigError } from './config/load-config.ts';
import { isDomainError } from './domain/errors.ts';
import { systemClock, type Clock } from './domain/ports/clock.ts';
import type { EventBus } from './domain/ports/event-bus.ts';
import type { RandomSource } from './domain/ports/id-generator.ts';
import type { Logger } from './domain/ports/logger.ts';
import { CsrVerifierPool } from './engines/crypto/csr-verifier-pool.ts';
import { nativeEcSignDigestUnavailableReason } from './engines/crypto/ecdsa-digest-sign.ts';
import { KeyEngineSet, type KeyEngineConfig } from './engines/crypto/registry.ts';
import { MemoryEventBus } from './engines/eventbus/memory-event-bus.ts';
import { OutboxEventBus } from './engines/outbox/outbox-event-bus.ts';
import { OutboxRelay } from './engines/outbox/outbox-relay.ts';
import { createStorage, openBackgroundStorage } from './engines/storage/create-storage.ts';
import { ensurePrivateDirectory } from './engines/private-directory.ts';
import { SqliteCertificateWriter } from './engines/storage/sqlite-certificate-writer.ts';
import { HttpEnrollmentWebhook } from './engines/dms/http-enrollment-webhook.ts';
import { ScryptPasswordHasher } from './engines/dms/scrypt-password-hasher.ts';
import { X509CertificateInspector } from './engines/dms/x509-certificate-inspector.ts';
import { alertsServicePlugin } from './http/alerts/alerts-plugin.ts';
import { awsConnectorServicePlugin } from './http/cloudproxy/aws-connector-plugin.ts';
import { cloudProxyServicePlugin } from './http/cloudproxy/cloudproxy-plugin.ts';
import { devicesServicePlugin } from './http/devices/devices-plugin.ts';
import { dmsServicePlugin } from './http/dms/dms-plugin.ts';
import { withEst } from './http/est/est-plugin.ts';
import { SoftwareServerKeyGenerator } from './engines/dms/software-server-key-generator.ts';
import { ensureAdminToken } from './http/auth/admin-token.ts';
import { createOidcVerifier } from './http/auth/oidc-verifier.ts';
import { buildHttpApp } from './http/build-http-app.ts';
import { buildHttpsApp, replaceTlsMaterial } from './http/build-https-app.ts';
import { caServicePlugin } from './http/ca/ca-plugin.ts';
import { PrometheusMetricsRecorder } from './http/domain-metrics.ts';
import { kmsServicePlugin } from './http/kms/kms-plugin.ts';
import { HttpMetrics, type EventBusStatus } from './http/metrics.ts';
import type { ServiceDeps, ServicePlugin, ServicePluginFactory } from './http/service-plugin.ts';
import { serverTls } from './http/tls/server-tls.ts';
import { ServerTlsRenewal } from './http/tls/tls-renewal.ts';
import { vaServicePlugin } from './http/va/va-plugin.ts';
import { PublishTap } from './services/va/publish-tap.ts';
import { nativeEcVerifyUnavailableReason } from './x509/native-ec-verify.ts';

/** One line per service: its factory builds the service and returns its HTTP plugin(s). */
const serviceFactories: Partial<Record<ServiceName, ServicePluginFactory>> = {
  ca: caServicePlugin({
    keyGenerator: new SoftwareServerKeyGenerator(),
    csrVerifier: (deps) => {
      const why = nativeEcVerifyUnavailableReason();
      if (why) deps.logger.warn({ reason: why }, 'native ECDSA verifier not in use: CSR signatures are checked with node:crypto (~3x the CPU)');
      return new CsrVerifierPool({ logger: deps.logger });
    },
    // SQLite commits (fsync) on a writer thread, so they do not stall the event loop.
    issuedCertificates: ({ config, logger }) =>
      config.storage.kind === 'sqlite' && config.storage.file !== ':memory:' ? new SqliteCertificateWriter(config.storage.file, logger) : undefined,
  }),
  kms: (deps) => {
    const why = nativeEcSignDigestUnavailableReason();
    if (why) deps.logger.warn({ reason: why }, 'native ECDSA digest signer not in use: digests are signed with software ECDSA keys in blinded JavaScript arithmetic');
    return kmsServicePlugin(deps);
  },
  va: vaServicePlugin(),
  dms: withEst(dmsServicePlugin, {
    passwords: new ScryptPasswordHasher(),
    webhook: new HttpEnrollmentWebhook(),
    inspector: new X509CertificateInspector(),
    keyGenerator: new SoftwareServerKeyGenerator(),
  }),
  devices: devicesServicePlugin,
  alerts: alertsServicePlugin,
  cloudproxy: cloudProxyServicePlugin,
  'aws-connector': awsConnectorServicePlugin,
};

export interface RunningServer {
  /** e.g. https://127.0.0.1:8443 (the bound port, also when configured as 0). */
  httpsUrl: string;
  httpUrl: string;
  https: FastifyInstance;
  http: FastifyInstance;
  logger: PinoLogger;
  /** Stops accepting, finishes requests in flight, then closes services, bus, key engines and database. */
  close(): Promise<void>;
}

export const createLogger = (config: Pick<Config, 'logLevel'>): PinoLogger =>
  pino({
    level: config.logLevel,
    // Belt and braces: these never belong in a log line, wherever a caller put them.
    redact: { paths: ['*.pin', '*.password', '*.passphrase', '*.secretId', '*.token', 'req.headers.authorization'], censor: '[redacted]' },
  });

/**
 * A wrong PIN, label or library path, or a broker refusing this deployment's names, is a configuration
 * error (exit 2, one line naming the setting), not a crash.
 */
function asConfigError(e: unknown): never {
  if (isDomainError(e) && typeof e.details?.setting === 'string') throw new ConfigError([e.message]);
  throw e;
}

export const systemRandom: RandomSource = { uuid: () => randomUUID(), bytes: (n) => new Uint8Array(randomBytes(n)) };

/** Our engine settings in the key-engine registry's terms. */
function keyEngineConfig(e: KeyEngineSettings, logger: Logger): KeyEngineConfig {
  if (e.type !== 'vault') return e;
  if (e.unsealKeyFile) logger.warn({ engine: e.id }, 'VAULT_UNSEAL_KEY_FILE is not used yet: unseal Vault before starting');
  return { type: 'vault', id: e.id, address: e.address, roleId: e.roleId, secretId: e.secretId, caFile: e.caFile, path: e.pkiCaPath };
}

async function packageVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

const urlOf = (scheme: string, app: FastifyInstance) => {
  const a = app.server.address() as AddressInfo;
  return `${scheme}://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
};

export async function startServer(
  config: Config,
  opts: {
    logger?: PinoLogger;
    clock?: Clock;
    random?: RandomSource;
    /** Replaces the built-in service table (tests mount stand-in services). */
    serviceFactories?: Partial<Record<ServiceName, ServicePluginFactory>>;
    /** TLS session ticket keys (48 bytes) shared by the workers of `serve --workers N`; default: random. */
    tlsTicketKeys?: Buffer;
  } = {},
): Promise<RunningServer> {
  const logger = opts.logger ?? createLogger(config);
  const clock = opts.clock ?? systemClock;
  const random = opts.random ?? systemRandom;
  // Undone in reverse order on shutdown, or when start-up fails half-way.
  const closers: { name: string; close: () => Promise<void> }[] = [];
  const closeAll = async () => {
    const steps = closers.splice(0).reverse();
    for (const { name, close } of steps) {
      await close().catch((err: unknown) => logger.error({ err }, `closing ${name} failed`));
    }
  };

  try {
    await ensurePrivateDirectory(config.dataDir, 'the data directory', logger);
    const storage = await createStorage(config.storage, { logger });
    closers.push({ name: 'storage', close: () => storage.close() });
    logger.info({ dialect: storage.dialect }, 'database ready');
    const backgroundStorage = await openBackgroundStorage(config.storage, storage, logger);
    if (backgroundStorage !== storage) closers.push({ name: 'background storage', close: () => backgroundStorage.close() });

    const metrics = new HttpMetrics();
    const recorder = new PrometheusMetricsRecorder(metrics.registry);
    const keyEngines = await KeyEngineSet.open(
      config.keyEngines.map((e) => keyEngineConfig(e, logger)),
      { defaultId: config.defaultEngine, logger, clock, metrics: recorder },
    ).catch(asConfigError);
    closers.push({ name: 'key engines', close: () => keyEngines.closeAll() });
    logger.info({ engines: config.keyEngines.map((e) => `${e.id} (${e.type})`), default: config.defaultEngine }, 'key engines ready');

    let events: EventBus;
    /** The broker link, for /health and /metrics (RabbitMQ only). */
    let busStatus: (() => EventBusStatus) | undefined;
    if (config.eventBus.kind === 'amqp') {
      // Loaded only when configured: the embedded default never needs amqplib.
      const { AmqpEventBus } = await import('./engines/eventbus/amqp-event-bus.ts');
      const { url, prefix, exchange, queuePrefix } = config.eventBus;
      const amqp = new AmqpEventBus({ url, prefix, exchange, queuePrefix, logger });
      await amqp.connect().catch(asConfigError);
      events = amqp;
      busStatus = () => amqp.state();
    } else {
      events = new MemoryEventBus(logger);
    }
    const bus = events;
    closers.push({ name: 'event bus', close: () => bus.close() });
    // Services write events to the outbox with their changes; one replica relays the outbox to the bus.
    const relay = new OutboxRelay({ outbox: backgroundStorage.outbox, leases: backgroundStorage.leases, bus, clock, logger, holder: `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}` });
    relay.start();
    closers.push({ name: 'outbox relay', close: () => relay.stop() });
    const outboxBacklog = () => storage.outbox.backlog();
    // Lets in-process services see published events synchronously (the VA's OCSP cache invalidation).
    events = new PublishTap(new OutboxEventBus(bus, relay, logger));

    const deps: ServiceDeps = { config, storage, backgroundStorage, keyEngines, events, clock, random, logger, metrics: recorder };
    const services: ServicePlugin[] = [];
    for (const name of config.services) {
      const factory = (opts.serviceFactories ?? serviceFactories)[name];
      if (!factory) {
        logger.warn({ service: name }, 'service selected but not implemented yet; skipped');
        continue;
      }
      const service = await Promise.resolve(factory(deps)).catch(asConfigError);
      services.push(service);
      if (service.close) closers.push({ name: `service ${name}`, close: () => service.close!() });
    }

    await ensureAdminToken({ tokens: storage.adminTokens, dataDir: config.dataDir, clock, logger });
    const tlsOptions = {
      dataDir: config.dataDir,
      hostnames: config.tlsHostnames,
      certFile: config.tlsCertFile,
      keyFile: config.tlsKeyFile,
      lifetimeMs: config.tlsCertLifetimeMs,
      renewBeforeMs: config.tlsRenewBeforeMs,
      clock,
      logger,
    };
    const tls = await serverTls(tlsOptions);

    if (busStatus) metrics.followEventBus(busStatus);
    metrics.followOutbox(outboxBacklog, clock);
    const https = await buildHttpsApp({
      tls,
      ...(opts.tlsTicketKeys ? { ticketKeys: opts.tlsTicketKeys } : {}),
      logger,
      metrics,
      auth: { adminTokens: storage.adminTokens, oidc: config.oidc && createOidcVerifier(config.oidc) },
      console: config.oidc?.console ? { oidc: { issuer: config.oidc.issuer, ...config.oidc.console } } : {},
      services,
      version: await packageVersion(),
      requestTimeoutMs: config.httpRequestTimeoutMs,
    });
    const http = await buildHttpApp({
      logger,
      metrics,
      health: { database: () => storage.ping(), keyEngines: keyEngines.list(), ...(busStatus ? { eventBus: busStatus } : {}), outbox: outboxBacklog, clock },
      services,
      requestTimeoutMs: config.httpRequestTimeoutMs,
    });
    // Both listeners close together: each stops accepting and lets its requests in flight finish.
    closers.push({ name: 'listeners', close: async () => void (await Promise.all([https.close(), http.close()])) });
    await https.listen({ port: config.httpsPort, host: config.listenAddress });
    const tlsRenewal = new ServerTlsRenewal(tlsOptions, tls, (material) => replaceTlsMaterial(https, material));
    tlsRenewal.start();
    closers.push({ name: 'TLS renewal', close: () => tlsRenewal.stop() });
    await http.listen({ port: config.httpPort, host: config.listenAddress });

    const running: RunningServer = {
      httpsUrl: urlOf('https', https),
      httpUrl: urlOf('http', http),
      https,
      http,
      logger,
      close: closeAll,
    };
    logger.info({ https: running.httpsUrl, http: running.httpUrl, services: services.map((s) => s.name) }, 'lamassu is serving');
    return running;
  } catch (err) {
    await closeAll();
    throw err;
  }
}
