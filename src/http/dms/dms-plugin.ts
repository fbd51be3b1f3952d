/** The `dms` service: the DMS manager's admin API. EST (src/http/est) mounts on the same services. */
import type { ServicePluginFactory } from '../service-plugin.ts';
import { dmsServicesFor, type DmsAdapters } from './dms-managers.ts';
import { dmsRoutes } from './dms-routes.ts';

/** Admin routes sit under the admin API prefix, then this one (`/api/v1` + `/dmsmanager`). */
export const DMS_API_PREFIX = '/dmsmanager';

export const dmsServicePlugin =
  (adapters: DmsAdapters): ServicePluginFactory =>
  async (deps) => {
    const { dms } = dmsServicesFor(deps, adapters);
    return {
      name: 'dms',
      adminApi: async (scope) => {
        await scope.register(dmsRoutes(dms), { prefix: DMS_API_PREFIX });
      },
    };
  };
