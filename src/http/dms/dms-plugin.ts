/** The `dms` service: the DMS manager's admin API at Lamassu's /api/dmsmanager/v1. EST (src/http/est) mounts on the same services. */
import { DMS_CHANGE_EVENTS } from '../../services/dms/dms-service-deps.ts';
import { adminApiScope } from '../auth/admin-auth.ts';
import { createOidcVerifier } from '../auth/oidc-verifier.ts';
import type { ServicePluginFactory } from '../service-plugin.ts';
import { dmsServicesFor, type DmsAdapters } from './dms-managers.ts';
import { dmsRoutes } from './dms-routes.ts';

export const DMS_API_PREFIX = '/api/dmsmanager/v1';

export const dmsServicePlugin =
  (adapters: DmsAdapters): ServicePluginFactory =>
  async (deps) => {
    const { dms, binding, verifiedDmsCertificates, dmsCache } = dmsServicesFor(deps, adapters);
    // A DMS certificate revoked through the CA API, or a DMS changed on another replica, takes effect here
    // as soon as the event arrives, not after the caches' TTL.
    const replica = deps.random.uuid();
    const unfollow = [
      await verifiedDmsCertificates.follow(deps.events, `dms.verified-certificates.${replica}`),
      await dmsCache.follow(deps.events, `dms.cache.${replica}`, DMS_CHANGE_EVENTS),
    ];
    const auth = { adminTokens: deps.storage.adminTokens, ...(deps.config.oidc ? { oidc: createOidcVerifier(deps.config.oidc) } : {}) };
    return {
      name: 'dms',
      // Mounted by the service itself with the shell's admin auth, to sit at Lamassu's path.
      https: async (app) => {
        await app.register(adminApiScope(auth, [dmsRoutes(dms, binding)]), { prefix: DMS_API_PREFIX });
      },
      close: async () => {
        for (const stop of unfollow) await stop();
      },
    };
  };
