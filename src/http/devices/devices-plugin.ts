/** The `devices` service: the device manager's admin API and its certificate status follower. */
import type { ServicePluginFactory } from '../service-plugin.ts';
import { deviceServiceFor } from '../dms/dms-managers.ts';
import { deviceRoutes } from './device-routes.ts';

/** Admin routes sit under the admin API prefix, then this one (`/api/v1` + `/devmanager`). */
export const DEVICES_API_PREFIX = '/devmanager';

export const devicesServicePlugin: ServicePluginFactory = async (deps) => {
  const devices = deviceServiceFor(deps);
  const unfollow = await devices.followCertificateStatus();
  return {
    name: 'devices',
    adminApi: async (scope) => {
      await scope.register(deviceRoutes(devices), { prefix: DEVICES_API_PREFIX });
    },
    close: unfollow,
  };
};
