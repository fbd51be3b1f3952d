/** The alerts API over HTTP: roles and ownership, 400s that name the fault, Lamassu's shapes. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { pino } from 'pino';
import type { Config } from '../../config/config-schema.ts';
import { systemClock } from '../../domain/ports/clock.ts';
import { silentLogger } from '../../domain/ports/logger.ts';
import type { KeyEngineSet } from '../../engines/crypto/registry.ts';
import { MemoryEventBus } from '../../engines/eventbus/memory-event-bus.ts';
import { openTestStorage } from '../../../test/support/storage.ts';
import { ensureAdminToken, hashToken } from '../auth/admin-token.ts';
import { buildHttpsApp } from '../build-https-app.ts';
import { HttpMetrics } from '../metrics.ts';
import type { ServicePlugin } from '../service-plugin.ts';
import { alertsServicePlugin } from './alerts-plugin.ts';

let db: Awaited<ReturnType<typeof openTestStorage>>;
let app: FastifyInstance;
let service: ServicePlugin;
let bus: MemoryEventBus;
let dir: string;
let adminToken: string;
const viewerToken = 'viewer-token-alice';

before(async () => {
  db = await openTestStorage('sqlite');
  dir = mkdtempSync(path.join(tmpdir(), 'lamassu-alerts-api-'));
  adminToken = readFileSync(await ensureAdminToken({ tokens: db.storage.adminTokens, dataDir: dir, clock: systemClock, logger: silentLogger }), 'utf8').trim();
  await db.storage.adminTokens.insert({ id: randomUUID(), tokenHash: hashToken(viewerToken), subject: 'alice', role: 'pki-viewer', createdAt: new Date() });
  bus = new MemoryEventBus(silentLogger);
  service = await alertsServicePlugin({
    config: {} as Config,
    storage: db.storage,
    keyEngines: {} as KeyEngineSet,
    events: bus,
    clock: systemClock,
    random: { uuid: () => randomUUID(), bytes: (n) => new Uint8Array(n).fill(7) },
    logger: silentLogger,
  });
  app = await buildHttpsApp({ logger: pino({ level: 'silent' }), metrics: new HttpMetrics(), auth: { adminTokens: db.storage.adminTokens }, services: [service], version: 'test' });
});
after(async () => {
  await app?.close();
  await service?.close?.();
  await bus?.close();
  await db?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const call = async (token: string | undefined, method: InjectOptions['method'], url: string, payload?: unknown) => {
  const res = await app.inject({
    method,
    url: `/api/alerts/v1${url}`,
    headers: token ? { authorization: `Bearer ${token}` } : {},
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
  return { status: res.statusCode, body: res.json() };
};
const hook = { type: 'WEBHOOK', name: 'hook', config: { webhook_url: 'http://127.0.0.1:9/hook' } };

test('a viewer manages their own subscriptions, not anyone else\'s; an admin sees all', async () => {
  const mine = await call(viewerToken, 'POST', '/user/alice/subscribe', { event_type: 'certificate.#', channel: hook });
  assert.equal(mine.status, 201, JSON.stringify(mine.body));
  assert.equal(mine.body.user_id, 'alice');
  assert.equal(mine.body.condition_mode, 'any');
  assert.deepEqual(mine.body.channel, { type: 'WEBHOOK', name: 'hook', config: { webhook_url: 'http://127.0.0.1:9/hook', webhook_method: 'POST' } });
  assert.equal(mine.body.webhook_secret, '07'.repeat(32));

  const other = await call(viewerToken, 'POST', '/user/bob/subscribe', { event_type: 'certificate.#', channel: hook });
  assert.deepEqual([other.status, other.body.code], [403, 'ALERT_USER_FORBIDDEN']);
  const bobs = await call(adminToken, 'POST', '/user/bob/subscribe', { event_type: 'ca.*', channel: hook });
  assert.equal(bobs.status, 201);
  assert.deepEqual([(await call(viewerToken, 'GET', '/user/bob/subscriptions')).status], [403]);
  assert.deepEqual((await call(viewerToken, 'GET', `/subscriptions/${bobs.body.id}/deliveries`)).body.code, 'ALERT_SUBSCRIPTION_NOT_FOUND');
  assert.deepEqual((await call(viewerToken, 'POST', `/user/alice/unsubscribe/${bobs.body.id}`)).status, 404);
  assert.deepEqual((await call(adminToken, 'GET', '/user/alice/subscriptions')).body.map((s: { id: string }) => s.id), [mine.body.id]);
  const mineListed = await call(viewerToken, 'GET', '/user/alice/subscriptions');
  assert.equal(mineListed.body[0].webhook_secret, undefined);
  assert.deepEqual(await call(viewerToken, 'GET', `/subscriptions/${mine.body.id}/deliveries`), { status: 200, body: { list: [] } });
  assert.deepEqual(await call(viewerToken, 'POST', `/user/alice/unsubscribe/${mine.body.id}`), { status: 200, body: [] });
  assert.equal((await call(undefined, 'GET', '/events/latest')).status, 401);
});

test('bad subscriptions are 400s with a code naming the fault', async () => {
  const cases: [unknown, string, RegExp][] = [
    [{ event_type: 'certificate.#', conditions: [{ type: 'JSON-SCHEMA', condition: '{' }], channel: hook }, 'ALERT_CONDITION_INVALID', /conditions\[0\] \(JSON-SCHEMA\): not JSON/],
    [{ event_type: 'certificate.#', conditions: [{ type: 'XPATH', condition: '/a' }], channel: hook }, 'ALERT_CONDITION_INVALID', /conditions\[0\]: type must be JSON-PATH or JSON-SCHEMA/],
    [{ event_type: 'cert ificate', channel: hook }, 'ALERT_EVENT_TYPE_INVALID', /event_type/],
    [{ event_type: '#', channel: { type: 'WEBHOOK', config: { webhook_url: 'not a url' } } }, 'ALERT_CHANNEL_INVALID', /webhook_url is not a URL/],
    [{ event_type: '#', channel: { type: 'WEBHOOK', config: { webhook_url: 'http://x/', webhook_method: 'GET' } } }, 'ALERT_CHANNEL_INVALID', /webhook_method/],
    [{ event_type: '#', channel: { type: 'EMAIL', config: { email: 'ops@example.test' } } }, 'ALERT_CHANNEL_UNAVAILABLE', /LAMASSU_SMTP_HOST/],
    [{ event_type: '#', channel: { type: 'EMAIL', config: { email: 'nobody' } } }, 'ALERT_CHANNEL_INVALID', /email/],
    [{ event_type: '#', condition_mode: 'some', channel: hook }, 'VALIDATION_FAILED', /condition_mode/],
    [{ event_type: '#' }, 'VALIDATION_FAILED', /channel/],
  ];
  for (const [body, code, message] of cases) {
    const r = await call(adminToken, 'POST', '/user/ops/subscribe', body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.body.code, code, JSON.stringify(r.body));
    assert.match(r.body.message, message);
  }
  assert.deepEqual((await call(adminToken, 'GET', '/user/ops/subscriptions')).body, []);
});

test('the latest event of each type, with its count, in Lamassu\'s shape', async () => {
  const ev = (type: string) => ({ specversion: '1.0' as const, id: randomUUID(), source: 'lamassu/ca', type, time: new Date().toISOString(), data: { n: 1 } });
  const [a, b, c] = [ev('ca.create'), ev('ca.create'), ev('certificate.create')];
  await bus.publish([a, b, c, b]);
  const deadline = Date.now() + 5000;
  let latest: { event_types: string; counter: number; event: { id: string }; seen_at: string }[] = [];
  while (latest.length < 2 || latest[0].counter < 2) {
    assert.ok(Date.now() < deadline, JSON.stringify(latest));
    latest = (await call(viewerToken, 'GET', '/events/latest')).body;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.deepEqual(latest.map((l) => [l.event_types, l.counter, l.event.id]), [['ca.create', 2, b.id], ['certificate.create', 1, c.id]]);
  assert.ok(!Number.isNaN(Date.parse(latest[0].seen_at)));
});
