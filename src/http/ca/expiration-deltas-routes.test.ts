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
import { opensslCsr } from '../../../test/support/csr-fixture.ts';
import { DAY } from '../../../test/support/sweep-fixture.ts';
import { toPem } from '../../x509/pem.ts';
import { hashToken } from '../auth/admin-token.ts';
import { buildHttpsApp } from '../build-https-app.ts';
import { HttpMetrics } from '../metrics.ts';
import type { ServicePlugin } from '../service-plugin.ts';
import { caServicePlugin } from './ca-plugin.ts';

const T0 = Date.UTC(2026, 0, 1);
const csr = (cn: string) => Buffer.from(toPem(opensslCsr({ key: 'p256', subj: `/CN=${cn}` }), 'CERTIFICATE REQUEST')).toString('base64');

describe('expiration deltas through the CA API: CA create / PUT, profiles, certificates, POST /status-sweep', () => {
  let dir: string;
  let storage: Storage;
  let app: FastifyInstance;
  let ca: ServicePlugin;
  const events = new RecordingBus();
  const clock = new ManualClock(T0);
  const admin = 'A'.repeat(43);

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'lamassu-ca-deltas-'));
    storage = await createStorage({ kind: 'sqlite', file: path.join(dir, 'db.sqlite') });
    await storage.adminTokens.insert({ id: 'a', tokenHash: hashToken(admin), subject: 'alice', role: 'pki-admin', createdAt: clock.now() });
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

  const call = async (method: InjectOptions['method'], url: string, payload?: unknown) => {
    const res = await app.inject({ method, url: `/api/ca/v1${url}`, headers: { authorization: `Bearer ${admin}` }, ...(payload === undefined ? {} : { payload: payload as object }) });
    return { status: res.statusCode, body: res.json() };
  };

  it('deltas set through the API are stored, shown, validated, and drive certificate.expiring', async () => {
    let r = await call('POST', '/cas', {
      id: 'deltas',
      subject: { common_name: 'deltas' },
      key_metadata: { type: 'ECDSA', bits: 256 },
      ca_expiration: { type: 'Duration', duration: '60d' },
      expiration_deltas: { preventive_delta: '30d', critical_delta: '7d' },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.deepEqual(r.body.expiration_deltas, { preventive_delta: '30d', critical_delta: '7d' });
    assert.deepEqual(r.body.certificate.expiration, { source: 'ca', preventive_delta: '30d', critical_delta: '7d', stage: 'none' });
    assert.deepEqual((await call('GET', '/cas/deltas')).body.expiration_deltas, { preventive_delta: '30d', critical_delta: '7d' });

    r = await call('POST', '/profiles', { id: 'short-notice', name: 'short notice', expiration_deltas: { preventive_delta: '20d' } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.deepEqual(r.body.expiration_deltas, { preventive_delta: '20d', critical_delta: null });

    // Issued by the CA's default (its deltas) and under the profile (the profile's).
    const byCa = await call('POST', '/cas/deltas/certificates/sign', { csr: csr('by-ca') });
    assert.equal(byCa.status, 201, JSON.stringify(byCa.body));
    assert.deepEqual(byCa.body.expiration, { source: 'ca', preventive_delta: '30d', critical_delta: '7d', stage: 'none' });
    const byProfile = await call('POST', '/cas/deltas/certificates/sign', { csr: csr('by-profile'), profile_id: 'short-notice' });
    assert.deepEqual(byProfile.body.expiration, { source: 'profile', preventive_delta: '20d', critical_delta: null, stage: 'none' });

    // Refused with a stable code: not a duration, critical not shorter than preventive, on CAs and profiles.
    for (const body of [{ preventive_delta: 'soon' }, { preventive_delta: '7d', critical_delta: '7d' }, { preventive_delta: '7d', critical_delta: '30d' }, { critical_delta: '0d' }]) {
      r = await call('PUT', '/cas/deltas/expiration-deltas', { expiration_deltas: body });
      assert.deepEqual([r.status, r.body.code], [400, 'EXPIRY_DELTAS_INVALID'], JSON.stringify(body));
    }
    r = await call('PUT', '/profiles/short-notice', { name: 'x', expiration_deltas: { preventive_delta: '1d', critical_delta: '2d' } });
    assert.deepEqual([r.status, r.body.code], [400, 'EXPIRY_DELTAS_INVALID']);
    r = await call('PUT', '/cas/nope/expiration-deltas', { expiration_deltas: null });
    assert.deepEqual([r.status, r.body.code], [404, 'CA_NOT_FOUND']);

    // 31 days on: the CA's own certificate and the one it issued crossed 30d; the profile's (20d) not yet.
    clock.set(new Date(T0 + 31 * DAY));
    r = await call('POST', '/status-sweep');
    assert.equal(r.body.expiring, 2);
    const announced = events.ofType('certificate.expiring').map((e) => (e.data as { serial_number: string; delta: string; delta_value: string }));
    assert.deepEqual(
      announced.map((d) => `${d.delta} ${d.delta_value}`),
      ['preventive 30d', 'preventive 30d'],
    );
    assert.ok(announced.some((d) => d.serial_number === byCa.body.serial_number));
    assert.equal((await call('GET', `/certificates/${byCa.body.serial_number}`)).body.expiration.stage, 'preventive');

    // Moving the CA's critical delta re-plans; null removes its deltas.
    r = await call('PUT', '/cas/deltas/expiration-deltas', { expiration_deltas: { preventive_delta: '30d', critical_delta: '29d' } });
    assert.equal(r.status, 200);
    assert.equal((await call('POST', '/status-sweep')).body.expiring, 2);
    r = await call('PUT', '/cas/deltas/expiration-deltas', { expiration_deltas: null });
    assert.deepEqual([r.status, r.body.expiration_deltas], [200, null]);
  });

  it('the OpenAPI document has the new fields', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/docs/json' });
    assert.equal(res.statusCode, 200);
    const doc = res.body;
    for (const name of ['expiration_deltas', 'preventive_delta', 'critical_delta', '/api/ca/v1/cas/{id}/expiration-deltas']) assert.ok(doc.includes(name), name);
  });
});
