/**
 * Mounts EST on the HTTPS listener, outside the admin API's bearer auth (EST authenticates by itself), at
 * RFC 7030's `/.well-known/est` and at Lamassu's `/api/dmsmanager/.well-known/est`.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ServicePluginFactory } from '../service-plugin.ts';
import { dmsServicesFor, type DmsAdapters } from '../dms/dms-managers.ts';
import { estRoutes, type EstOptions } from './est-routes.ts';

export const EST_PREFIXES = ['/.well-known/est', '/api/dmsmanager/.well-known/est'] as const;

export const estPlugin =
  (opts: EstOptions): FastifyPluginAsync =>
  async (app) => {
    for (const prefix of EST_PREFIXES) await app.register(estRoutes(opts), { prefix });
  };

/**
 * The `dms` service with EST added to its HTTPS routes, sharing its enrollment service (one per server):
 * `dms: withEst(dmsServicePlugin, adapters)` in src/app.ts.
 */
export const withEst =
  (dmsPlugin: (adapters: DmsAdapters) => ServicePluginFactory, adapters: DmsAdapters): ServicePluginFactory =>
  async (deps) => {
    const dms = await dmsPlugin(adapters)(deps);
    const est = estPlugin({
      enrollment: dmsServicesFor(deps, adapters).enrollment,
      defaultDms: deps.config.estDefaultDms,
      ...(deps.metrics ? { metrics: deps.metrics } : {}),
    });
    const own = dms.https;
    return {
      ...dms,
      https: async (app) => {
        if (own) await app.register(own);
        await app.register(est);
      },
    };
  };
