/**
 * Lamassu's per-service health, `GET /api/{ca,dmsmanager,devmanager,va,kms,alerts}/health` on the HTTPS
 * listener, for each service this server runs: `{health, version, build, build_time}`, what Lamassu
 * clients show about a service. Unauthenticated, like Lamassu's. Dependency checks stay on the plain
 * listener's /health (load balancers); this one says which build answers.
 */
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import type { ServiceName } from '../config/config-schema.ts';

/** Lamassu's gateway prefix of each service (helm routes /api/<prefix>/...). */
export const LAMASSU_SERVICE_PREFIX: Record<ServiceName, string> = {
  ca: 'ca',
  kms: 'kms',
  va: 'va',
  dms: 'dmsmanager',
  devices: 'devmanager',
  alerts: 'alerts',
  cloudproxy: 'cloudproxy',
  'aws-connector': 'aws-connector',
};

export interface BuildInfo {
  version: string;
  /** The source revision, where the build recorded one. */
  build: string;
  /** RFC 3339. */
  buildTime: string;
}

const ServiceHealth = Type.Object({
  health: Type.Boolean(),
  version: Type.String(),
  build: Type.String(),
  build_time: Type.String({ description: 'RFC 3339: when this program was built' }),
});

/** When this module was compiled (dist/) or checked out (tsx): the program's own build time. */
export function buildInfoOf(version: string): BuildInfo {
  const mtime = statSync(fileURLToPath(import.meta.url)).mtime;
  return { version, build: 'unknown', buildTime: new Date(Math.floor(mtime.getTime() / 1000) * 1000).toISOString() };
}

export const serviceHealthRoutes =
  (services: ServiceName[], info: BuildInfo): FastifyPluginAsync =>
  async (app) => {
    const body = { health: true, version: info.version, build: info.build, build_time: info.buildTime };
    for (const name of new Set(services)) {
      app.get(
        `/api/${LAMASSU_SERVICE_PREFIX[name]}/health`,
        { schema: { tags: ['health'], summary: `Which build of the ${name} service answers (Lamassu's health)`, response: { 200: ServiceHealth } } },
        async () => body,
      );
    }
  };
