/** The `kms` service: keys as objects of their own at Lamassu's /api/kms/v1, behind the admin API's auth. */
import { casUsingKey } from '../../services/ca/cas-using-key.ts';
import { backfillCaKeys, followCaKeys } from '../../services/kms/follow-ca-keys.ts';
import { KmsService } from '../../services/kms/kms-service.ts';
import { adminApiScope } from '../auth/admin-auth.ts';
import { createOidcVerifier } from '../auth/oidc-verifier.ts';
import type { ServicePluginFactory } from '../service-plugin.ts';
import { kmsRoutes } from './kms-routes.ts';

export const KMS_API_PREFIX = '/api/kms/v1';

export const kmsServicePlugin: ServicePluginFactory = async (deps) => {
  const service = new KmsService({
    ...deps,
    settings: { allowExport: deps.config.kmsAllowKeyExport ?? false },
    // The CAs' records are in this database whether or not this process runs the CA service.
    keyUsers: { casUsingKey: (keyId) => casUsingKey(deps.storage, keyId) },
  });
  // CA keys become KMS keys as the CA service announces them (also from other processes, over the bus).
  const unfollow = await followCaKeys(service, deps.events, deps.logger);
  const recorded = await backfillCaKeys(service, deps.storage.cas, deps.logger);
  if (recorded > 0) deps.logger.info({ keys: recorded }, 'KMS: recorded the keys of existing CAs');
  const auth = { adminTokens: deps.storage.adminTokens, ...(deps.config.oidc ? { oidc: createOidcVerifier(deps.config.oidc) } : {}) };
  return {
    name: 'kms',
    https: async (app) => {
      await app.register(adminApiScope(auth, [kmsRoutes(service)]), { prefix: KMS_API_PREFIX });
    },
    close: unfollow,
  };
};
