/** The `devices` service: the device manager's admin API at Lamassu's /api/devmanager/v1 and its certificate status follower. */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { DeviceGauge } from '../../services/devices/device-gauge.ts';
import { adminApiScope } from '../auth/admin-auth.ts';
import { createOidcVerifier } from '../auth/oidc-verifier.ts';
import { deviceServiceFor } from '../dms/dms-managers.ts';
import type { ServicePluginFactory } from '../service-plugin.ts';
import { DeviceGroupService } from '../../services/devices/device-group-service.ts';
import { deviceGroupRoutes } from './device-group-routes.ts';
import { deviceRoutes } from './device-routes.ts';

export const DEVICES_API_PREFIX = '/api/devmanager/v1';

export const devicesServicePlugin: ServicePluginFactory = async (deps) => {
  const devices = deviceServiceFor(deps);
  const groups = new DeviceGroupService(deps);
  // Device statuses follow certificate status events at once; no periodic scan over all devices.
  const unfollow = await devices.followCertificateStatus();
  const gauge = deps.metrics
    ? new DeviceGauge({ storage: deps.storage, events: deps.events, logger: deps.logger, metrics: deps.metrics, replicaId: `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}` })
    : undefined;
  await gauge?.start();
  const auth = { adminTokens: deps.storage.adminTokens, ...(deps.config.oidc ? { oidc: createOidcVerifier(deps.config.oidc) } : {}) };
  return {
    name: 'devices',
    https: async (app) => {
      await app.register(adminApiScope(auth, [deviceRoutes(devices), deviceGroupRoutes(groups)]), { prefix: DEVICES_API_PREFIX });
    },
    close: async () => {
      await gauge?.stop();
      await unfollow();
    },
  };
};
