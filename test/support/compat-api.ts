/**
 * The CA, DMS and device managers' admin APIs on one HTTPS app over a given Storage, for route tests that
 * run on SQLite and PostgreSQL alike (inject(), no sockets). `call` sends an admin-authenticated request.
 */
import { getRandomValues, randomUUID } from 'node:crypto';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { pino } from 'pino';
import type { Config } from '../../src/config/config-schema.ts';
import { ManualClock } from '../../src/domain/ports/clock.ts';
import { silentLogger } from '../../src/domain/ports/logger.ts';
import type { Storage } from '../../src/domain/ports/storage.ts';
import { MemoryKeyEngine } from '../../src/engines/crypto/memory/memory-key-engine.ts';
import { KeyEngineSet } from '../../src/engines/crypto/registry.ts';
import { HttpEnrollmentWebhook } from '../../src/engines/dms/http-enrollment-webhook.ts';
import { ScryptPasswordHasher } from '../../src/engines/dms/scrypt-password-hasher.ts';
import { SoftwareServerKeyGenerator } from '../../src/engines/dms/software-server-key-generator.ts';
import { X509CertificateInspector } from '../../src/engines/dms/x509-certificate-inspector.ts';
import { hashToken } from '../../src/http/auth/admin-token.ts';
import { buildHttpsApp } from '../../src/http/build-https-app.ts';
import { caServicePlugin } from '../../src/http/ca/ca-plugin.ts';
import { devicesServicePlugin } from '../../src/http/devices/devices-plugin.ts';
import { dmsServicePlugin } from '../../src/http/dms/dms-plugin.ts';
import { HttpMetrics } from '../../src/http/metrics.ts';
import type { ServiceDeps } from '../../src/http/service-plugin.ts';
import { RecordingBus } from './ca-service-fixture.ts';

export interface CompatApi {
  app: FastifyInstance;
  clock: ManualClock;
  keyEngines: KeyEngineSet;
  call(method: InjectOptions['method'], url: string, payload?: unknown): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

const ADMIN = 'C'.repeat(43);

export async function compatApi(storage: Storage): Promise<CompatApi> {
  await storage.adminTokens.insert({ id: `compat-${randomUUID()}`, tokenHash: hashToken(ADMIN), subject: 'compat', role: 'pki-admin', createdAt: new Date() });
  const clock = new ManualClock(Date.now());
  const deps: ServiceDeps = {
    config: { vaBaseUrls: ['http://va.test'] } as Config,
    storage,
    keyEngines: KeyEngineSet.of([new MemoryKeyEngine({ id: 'memory' }), new MemoryKeyEngine({ id: 'second' })], 'memory'),
    events: new RecordingBus(),
    clock,
    random: { uuid: () => randomUUID(), bytes: (n: number) => getRandomValues(new Uint8Array(n)) },
    logger: silentLogger,
  };
  const adapters = { passwords: new ScryptPasswordHasher(), webhook: new HttpEnrollmentWebhook(), inspector: new X509CertificateInspector(), keyGenerator: new SoftwareServerKeyGenerator() };
  const services = [
    await caServicePlugin({ keyGenerator: new SoftwareServerKeyGenerator() })(deps),
    await dmsServicePlugin(adapters)(deps),
    await devicesServicePlugin(deps),
  ];
  const app = await buildHttpsApp({ logger: pino({ level: 'silent' }), metrics: new HttpMetrics(), auth: { adminTokens: storage.adminTokens }, services, version: 'test' });
  return {
    app,
    clock,
    keyEngines: deps.keyEngines,
    async call(method, url, payload) {
      const res = await app.inject({ method, url, headers: { authorization: `Bearer ${ADMIN}` }, ...(payload === undefined ? {} : { payload: payload as object }) });
      const type = String(res.headers['content-type'] ?? '');
      return { status: res.statusCode, body: type.includes('json') && res.body ? res.json() : res.body };
    },
    async close() {
      await app.close();
      for (const s of services) await s.close?.();
    },
  };
}
