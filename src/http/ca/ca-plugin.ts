/**
 * The CA service's HTTP front-end: one CaService per server, its admin API under /api/ca/v1 behind
 * bearer auth, CA certificates for caIssuers URLs on the plain-HTTP listener, and the internal CA
 * LAMASSU-DMS-MANAGER ensured at start.
 */
import type { CertificateRepository } from '../../domain/ca/certificate-repository.ts';
import type { ServerKeyGenerator } from '../../domain/dms/server-key-generator.ts';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { CsrSignatureVerifier } from '../../domain/ports/csr-signature-verifier.ts';
import { DEFAULT_CA_SETTINGS, type CaSettings, type InternalCaOptions } from '../../services/ca/ca-service-deps.ts';
import { CaService } from '../../services/ca/ca-service.ts';
import { CertificateGauges } from '../../services/ca/certificate-gauges.ts';
import type { LeasedJob } from '../../jobs/leased-job.ts';
import { statusSweepJob } from '../../jobs/status-sweep-job.ts';
import { adminApiScope } from '../auth/admin-auth.ts';
import { createOidcVerifier } from '../auth/oidc-verifier.ts';
import type { ServiceDeps, ServicePlugin, ServicePluginFactory } from '../service-plugin.ts';
import { CA_API_PREFIX } from './ca-paths.ts';
import { caLamassuRoutes } from './ca-lamassu-routes.ts';
import { caPublicRoutes } from './ca-public-routes.ts';
import { caRoutes } from './ca-routes.ts';

export { CA_API_PREFIX } from './ca-paths.ts';

export interface CaPluginOptions {
  /** For POST /certificates without an engine: keys handed out once. */
  keyGenerator?: ServerKeyGenerator;
  settings?: Partial<CaSettings>;
  internalCa?: InternalCaOptions;
  /** Makes this server's CSR verifier (worker threads); closed with the service. */
  csrVerifier?: (deps: ServiceDeps) => CsrSignatureVerifier;
  /** Makes where issued certificates are committed, if not the server's storage; closed with the service. */
  issuedCertificates?: (deps: ServiceDeps) => (Pick<CertificateRepository, 'insert' | 'insertMany'> & { close(): Promise<void> }) | undefined;
}

const services = new WeakMap<ServiceDeps, CaService>();

const HOUR = 3_600_000;

/** The plugin with `job` stopped first when it closes (a sweep in flight finishes before storage goes). */
const stoppingFirst = (job: LeasedJob, plugin: ServicePlugin): ServicePlugin => ({
  ...plugin,
  close: async () => {
    await job.stop();
    await plugin.close?.();
  },
});
const closeIssued = new WeakMap<CaService, { close(): Promise<void> }>();

/**
 * The CaService of this server. Everything that talks to the CA service in-process (the DMS and device
 * managers through their gateway) should use this one instance, so that they share its issuing-CA cache.
 */
export function caServiceFor(deps: ServiceDeps, options: CaPluginOptions = {}): CaService {
  let service = services.get(deps);
  if (!service) {
    const issuedCertificates = options.issuedCertificates?.(deps);
    service = new CaService({
      ...deps,
      settings: {
        ...DEFAULT_CA_SETTINGS,
        vaBaseUrls: deps.config.vaBaseUrls,
        aboutToExpireMs: deps.config.aboutToExpireMs ?? DEFAULT_CA_SETTINGS.aboutToExpireMs,
        ...options.settings,
        ...(options.internalCa ? { internalCa: options.internalCa } : {}),
      },
      ...(options.keyGenerator ? { keyGenerator: options.keyGenerator } : {}),
      ...(options.csrVerifier ? { csrVerifier: options.csrVerifier(deps) } : {}),
      ...(issuedCertificates ? { issuedCertificates } : {}),
    });
    if (issuedCertificates) closeIssued.set(service, issuedCertificates);
    services.set(deps, service);
  }
  return service;
}

export const caServicePlugin =
  (options: CaPluginOptions = {}): ServicePluginFactory =>
  async (deps) => {
    const service = caServiceFor(deps, options);
    await service.ensureInternalCa();
    // Time-driven statuses, at start and on the schedule, on one replica at a time.
    const sweepIntervalMs = deps.config.statusSweepIntervalMs ?? HOUR;
    const sweep = statusSweepJob({
      sweeper: service,
      intervalMs: sweepIntervalMs,
      leases: deps.storage.leases,
      clock: deps.clock,
      logger: deps.logger,
      ...(deps.metrics ? { metrics: deps.metrics } : {}),
    });
    // Certificate gauges for /metrics: only where something exposes them.
    const gauges = deps.metrics
      ? new CertificateGauges({
          storage: deps.storage,
          events: deps.events,
          clock: deps.clock,
          logger: deps.logger,
          metrics: deps.metrics,
          replicaId: `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`,
          refreshMs: sweepIntervalMs,
        })
      : undefined;
    await gauges?.start();
    sweep.start();
    const auth = { adminTokens: deps.storage.adminTokens, ...(deps.config.oidc ? { oidc: createOidcVerifier(deps.config.oidc) } : {}) };
    return stoppingFirst(sweep, {
      name: 'ca',
      // Mounted by the service itself with the shell's admin auth, to sit at Lamassu's /api/ca/v1.
      https: async (app) => {
        await app.register(adminApiScope(auth, [caRoutes(service), caLamassuRoutes(service)]), { prefix: CA_API_PREFIX });
      },
      http: caPublicRoutes(service),
      close: async () => {
        await gauges?.stop();
        await service.deps.csrVerifier?.close();
        await closeIssued.get(service)?.close();
      },
    });
  };
