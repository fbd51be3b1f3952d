/**
 * The VA's HTTP front-end: OCSP and CRLs on the plain-HTTP listener and on HTTPS, the settings API under
 * /api/va/v1 behind the shell's admin auth, and the CRL refresh job on one replica.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { LeasedJob } from '../../jobs/leased-job.ts';
import { CaServiceVaGateway } from '../../services/ca/va-gateway.ts';
import { PublishTap } from '../../services/va/publish-tap.ts';
import type { VaCaGateway } from '../../services/va/va-ca-gateway.ts';
import { DEFAULT_VA_SETTINGS, VaService, type VaSettings } from '../../services/va/va-service.ts';
import { adminApiScope } from '../auth/admin-auth.ts';
import { createOidcVerifier } from '../auth/oidc-verifier.ts';
import { caServiceFor } from '../ca/ca-plugin.ts';
import type { ServiceDeps, ServicePlugin, ServicePluginFactory } from '../service-plugin.ts';
import { crlRoutes } from './crl-routes.ts';
import { ocspFastPath } from './ocsp-fast-path.ts';
import { ocspRoutes } from './ocsp-routes.ts';
import { rolesRoutes } from './roles-routes.ts';

export const VA_API_PREFIX = '/api/va/v1';

export interface VaPluginOptions {
  settings?: Partial<VaSettings>;
  /** How often the CRL refresh job looks for CRLs due (default one minute). */
  crlJobIntervalMs?: number;
  /** Defaults to this server's CA service (caServiceFor). */
  ca?: VaCaGateway;
}

export interface VaPlugin extends ServicePlugin {
  va: VaService;
  crlJob: LeasedJob;
}

export async function createVaPlugin(deps: ServiceDeps, options: VaPluginOptions = {}): Promise<VaPlugin> {
  const replicaId = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  const va = new VaService({
    ca: options.ca ?? new CaServiceVaGateway(caServiceFor(deps)),
    storage: deps.storage,
    events: deps.events,
    clock: deps.clock,
    logger: deps.logger.child({ service: 'va' }),
    settings: { ...DEFAULT_VA_SETTINGS, vaBaseUrls: deps.config.vaBaseUrls, ...options.settings },
    replicaId,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
  });
  // In-process revocations invalidate before the revoke call returns (see PublishTap).
  if (deps.events instanceof PublishTap) deps.events.listen(va.onPublished);
  await va.start();
  const crlJob = new LeasedJob({
    name: 'va.crl-refresh',
    holder: replicaId,
    intervalMs: options.crlJobIntervalMs ?? 60_000,
    leases: deps.storage.leases,
    clock: deps.clock,
    logger: deps.logger,
    task: () => va.crls.refreshDue(),
  });
  crlJob.start();

  const auth = { adminTokens: deps.storage.adminTokens, ...(deps.config.oidc ? { oidc: createOidcVerifier(deps.config.oidc) } : {}) };
  const publicRoutes = async (app: Parameters<ReturnType<typeof crlRoutes>>[0]) => {
    await app.register(ocspRoutes(va.ocsp, deps.clock));
    await app.register(crlRoutes(va.crls, deps.clock));
  };
  return {
    name: 'va',
    va,
    crlJob,
    http: publicRoutes,
    httpFastPath: ocspFastPath(va.ocsp, deps.clock),
    https: async (app) => {
      await publicRoutes(app);
      await app.register(adminApiScope(auth, [rolesRoutes(va, deps.storage.crls)]), { prefix: VA_API_PREFIX });
    },
    async close() {
      await crlJob.stop();
      await va.close();
    },
  };
}

export const vaServicePlugin =
  (options: VaPluginOptions = {}): ServicePluginFactory =>
  (deps) =>
    createVaPlugin(deps, options);
