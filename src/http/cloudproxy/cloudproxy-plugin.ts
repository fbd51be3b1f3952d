/** The `cloudproxy` service: /api/cloudproxy/v1, the registry of cloud connectors. */
import { CloudProxyService } from '../../services/cloudproxy/cloud-proxy-service.ts';
import { adminApiScope } from '../auth/admin-auth.ts';
import { createOidcVerifier } from '../auth/oidc-verifier.ts';
import type { ServicePluginFactory } from '../service-plugin.ts';
import { cloudProxyRoutes } from './cloudproxy-routes.ts';
import { connectorDriversFor } from './connector-drivers.ts';

export const CLOUDPROXY_API_PREFIX = '/api/cloudproxy/v1';

export const cloudProxyServicePlugin: ServicePluginFactory = (deps) => {
  const proxy = new CloudProxyService({
    connectors: deps.storage.connectors,
    drivers: () => connectorDriversFor(deps),
    clock: deps.clock,
    random: deps.random,
    logger: deps.logger.child({ service: 'cloudproxy' }),
  });
  const auth = { adminTokens: deps.storage.adminTokens, ...(deps.config.oidc ? { oidc: createOidcVerifier(deps.config.oidc) } : {}) };
  return {
    name: 'cloudproxy',
    https: async (app) => {
      await app.register(adminApiScope(auth, [cloudProxyRoutes(proxy)]), { prefix: CLOUDPROXY_API_PREFIX });
    },
  };
};
