import assert from 'node:assert/strict';
import { getRandomValues, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { pino } from 'pino';
import type { Config } from '../../config/config-schema.ts';
import { ManualClock } from '../../domain/ports/clock.ts';
import { silentLogger } from '../../domain/ports/logger.ts';
import type { Storage } from '../../domain/ports/storage.ts';
import { MemoryKeyEngine } from '../../engines/crypto/memory/memory-key-engine.ts';
import { KeyEngineSet } from '../../engines/crypto/registry.ts';
import { createStorage } from '../../engines/storage/create-storage.ts';
import { RecordingBus } from '../../../test/support/ca-service-fixture.ts';
import { DAY, insertSynthetic } from '../../../test/support/sweep-fixture.ts';
import { hashToken } from '../auth/admin-token.ts';
import { buildHttpsApp } from '../build-https-app.ts';
import { HttpMetrics } from '../metrics.ts';
import type { ServicePlugin } from '../service-plugin.ts';
import { caServicePlugin } from './ca-plugin.ts';

const T0 = Date.UTC(2026, 0, 1);

/** Lets the job's start-up run (a timer of 0 ms and a few queries) finish; bounded, not a wait for time. */
async function eventually(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), 'condition not reached');
}

describe('CA status sweep: start-up job, POST /status-sweep, PUT /cas/{id}/about-to-expire', () => {
  let dir: string;
  let storage: Storage;
  let app: FastifyInstance;
  let ca: ServicePlugin;
  const events = new RecordingBus();
  const clock = new ManualClock(T0);
  const admin = 'A'.repeat(43);
  const viewer = 'V'.repeat(43);

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'lamassu-ca-sweep-'));
    storage = await createStorage({ kind: 'sqlite', file: path.join(dir, 'db.sqlite') });
    await storage.adminTokens.insert({ id: 'a', tokenHash: hashToken(admin), subject: 'alice', role: 'pki-admin', createdAt: clock.now() });
    await storage.adminTokens.insert({ id: 'v', tokenHash: hashToken(viewer), subject: 'victor', role: 'pki-viewer', createdAt: clock.now() });
    // Left ACTIVE past its notAfter while no server ran: the sweep at start must catch it.
    await insertSynthetic(storage, [{ issuerCaId: 'gone-ca', notAfter: T0 - DAY, thresholdMs: 30 * DAY, status: 'ACTIVE' }]);
    const deps = {
      config: { vaBaseUrls: ['http://va.test'], aboutToExpireMs: 10 * DAY, statusSweepIntervalMs: 3_600_000 } as Config,
      storage,
      keyEngines: KeyEngineSet.of([new MemoryKeyEngine({ id: 'memory' })]),
      events,
      clock,
      random: { uuid: () => randomUUID(), bytes: (n: number) => getRandomValues(new Uint8Array(n)) },
      logger: silentLogger,
    };
    ca = await caServicePlugin()(deps);
    app = await buildHttpsApp({ logger: pino({ level: 'silent' }), metrics: new HttpMetrics(), auth: { adminTokens: storage.adminTokens }, services: [ca], version: 'test' });
  });
  after(async () => {
    await app?.close();
    await ca?.close?.();
    await storage?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const call = async (method: InjectOptions['method'], url: string, payload?: unknown, token = admin) => {
    const res = await app.inject({ method, url: `/api/ca/v1${url}`, headers: { authorization: `Bearer ${token}` }, ...(payload === undefined ? {} : { payload: payload as object }) });
    return { status: res.statusCode, body: res.json() };
  };

  it('sweeps once at start, as the system', async () => {
    await eventually(() => events.ofType('certificate.status.update').length === 1);
    const [e] = events.ofType('certificate.status.update');
    assert.equal(e!.actor, 'system');
    assert.deepEqual([(e!.data as { previous_status: string }).previous_status, (e!.data as { status: string }).status], ['ACTIVE', 'EXPIRED']);
    assert.equal((await storage.certificates.get('synthetic-0'))!.status, 'EXPIRED');
  });

  it('takes the global threshold from the configuration', async () => {
    const r = await call('POST', '/cas', { id: 'short', subject: { common_name: 'short' }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration: '30d' } });
    assert.equal(r.status, 201);
    assert.equal(r.body.about_to_expire, null);
    assert.equal(r.body.certificate.status, 'ACTIVE');
    const own = await storage.certificates.get((await storage.cas.get('short'))!.certificateId);
    assert.equal(own!.notAfter.getTime() - own!.aboutToExpireAt.getTime(), 10 * DAY);
  });

  it('PUT /cas/{id}/about-to-expire sets the override and recomputes; POST /status-sweep applies it now', async () => {
    let r = await call('PUT', '/cas/short/about-to-expire', { about_to_expire: '1w3d' }, viewer);
    assert.equal(r.status, 403);
    r = await call('PUT', '/cas/short/about-to-expire', { about_to_expire: '25d' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.about_to_expire, '3w4d');
    assert.equal(events.ofType('ca.update').at(-1)!.actor, 'alice');
    clock.advance(6 * DAY);
    assert.equal((await call('POST', '/status-sweep', undefined, viewer)).status, 403);
    r = await call('POST', '/status-sweep');
    assert.deepEqual([r.status, r.body], [200, { expired: 0, about_to_expire: 1, expiring: 0 }]);
    const [e] = events.ofType('ca.status.update');
    assert.deepEqual([e!.subject, e!.actor, (e!.data as { status: string }).status], ['short', 'system', 'ABOUT_TO_EXPIRE']);
    r = await call('POST', '/status-sweep');
    assert.deepEqual(r.body, { expired: 0, about_to_expire: 0, expiring: 0 });
  });

  it('null returns to the global threshold; bad values and unknown CAs are refused', async () => {
    let r = await call('PUT', '/cas/short/about-to-expire', { about_to_expire: null });
    assert.deepEqual([r.status, r.body.about_to_expire], [200, null]);
    r = await call('PUT', '/cas/short/about-to-expire', { about_to_expire: 'soon' });
    assert.deepEqual([r.status, r.body.code], [400, 'DURATION_INVALID']);
    r = await call('PUT', '/cas/short/about-to-expire', {});
    assert.equal(r.status, 400);
    r = await call('PUT', '/cas/nope/about-to-expire', { about_to_expire: '1d' });
    assert.deepEqual([r.status, r.body.code], [404, 'CA_NOT_FOUND']);
  });
});
