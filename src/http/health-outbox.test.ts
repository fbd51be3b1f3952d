import assert from 'node:assert/strict';
import { it } from 'node:test';
import { pino } from 'pino';
import type { OutboxBacklog } from '../domain/ports/outbox.ts';
import { buildHttpApp } from './build-http-app.ts';
import { HttpMetrics } from './metrics.ts';

it('/health and /metrics show the outbox backlog; an old backlog is degraded (200), an empty one ok', async () => {
  const now = Date.UTC(2026, 0, 1, 12);
  const clock = { now: () => new Date(now) };
  let backlog: OutboxBacklog = { count: 0, oldestCreatedAt: null };
  const metrics = new HttpMetrics();
  metrics.followOutbox(async () => backlog, clock);
  const app = await buildHttpApp({
    logger: pino({ level: 'silent' }),
    metrics,
    health: { database: async () => undefined, keyEngines: [], outbox: async () => backlog, clock },
    services: [],
  });
  const metric = async (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec((await app.inject({ url: '/metrics' })).body)?.[1]);
  try {
    let res = await app.inject({ url: '/health' });
    assert.deepEqual([res.statusCode, res.json().status, res.json().outbox], [200, 'ok', { ok: true, backlog: 0, oldestAgeMs: 0 }]);
    assert.deepEqual([await metric('lamassu_outbox_backlog_events'), await metric('lamassu_outbox_oldest_age_seconds')], [0, 0]);

    backlog = { count: 12, oldestCreatedAt: now - 2000 };
    res = await app.inject({ url: '/health' });
    assert.deepEqual([res.statusCode, res.json().status, res.json().outbox], [200, 'ok', { ok: true, backlog: 12, oldestAgeMs: 2000 }]);

    backlog = { count: 5000, oldestCreatedAt: now - 45_000 };
    res = await app.inject({ url: '/health' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().status, 'degraded');
    assert.equal(res.json().outbox.ok, false);
    assert.equal(res.json().outbox.backlog, 5000);
    assert.match(res.json().outbox.detail, /wait in the outbox/);
    assert.deepEqual([await metric('lamassu_outbox_backlog_events'), await metric('lamassu_outbox_oldest_age_seconds')], [5000, 45]);
  } finally {
    await app.close();
  }
});
