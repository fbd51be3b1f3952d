import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import type { KeyEngineHealth } from '../domain/ports/key-engine.ts';
import type { Storage } from '../domain/ports/storage.ts';
import { createStorage } from '../engines/storage/create-storage.ts';
import { buildHttpApp } from './build-http-app.ts';
import { HttpMetrics } from './metrics.ts';

describe('HTTP app: /health and /metrics', () => {
  let storage: Storage;
  let app: FastifyInstance;
  let databaseUp = true;
  let hsm: KeyEngineHealth = { ok: true };

  let dir: string;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'lamassu-http-'));
    storage = await createStorage({ kind: 'sqlite', file: path.join(dir, 'db.sqlite') });
    app = await buildHttpApp({
      logger: pino({ level: 'silent' }),
      metrics: new HttpMetrics(),
      health: {
        database: () => (databaseUp ? storage.ping() : Promise.reject(new Error('password=hunter2 refused'))),
        keyEngines: [
          { id: 'files', health: async () => ({ ok: true }) },
          { id: 'hsm', health: async () => hsm },
        ],
      },
      services: [{ name: 'va', http: async (s) => void s.get('/crl/test', async () => 'crl') }],
    });
  });
  after(async () => {
    await app.close();
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports ok with the database and every key engine up', async () => {
    const res = await app.inject({ url: '/health' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), {
      status: 'ok',
      database: { ok: true },
      keyEngines: [
        { id: 'files', ok: true },
        { id: 'hsm', ok: true },
      ],
    });
  });

  it('answers 503 when a key engine is down, naming it', async () => {
    hsm = { ok: false, detail: 'token not present' };
    const res = await app.inject({ url: '/health' });
    hsm = { ok: true };
    assert.equal(res.statusCode, 503);
    assert.equal(res.json().status, 'down');
    assert.deepEqual(res.json().keyEngines[1], { id: 'hsm', ok: false, detail: 'token not present' });
  });

  it('answers 503 when the database is down, without leaking the error', async () => {
    databaseUp = false;
    const res = await app.inject({ url: '/health' });
    databaseUp = true;
    assert.equal(res.statusCode, 503);
    assert.deepEqual(res.json().database, { ok: false, detail: 'database unreachable' });
    assert.doesNotMatch(res.body, /hunter2/);
  });

  it('mounts the services\' plain-HTTP routes', async () => {
    assert.equal((await app.inject({ url: '/crl/test' })).body, 'crl');
    assert.equal((await app.inject({ url: '/nope' })).json().code, 'ROUTE_NOT_FOUND');
  });

  it('exposes request counts per route and process metrics in Prometheus text format', async () => {
    await app.inject({ url: '/crl/test' });
    await app.inject({ url: '/nope/1' });
    const res = await app.inject({ url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /^text\/plain; version=0\.0\.4/);
    assert.match(res.body, /^lamassu_http_requests_total\{listener="http",method="GET",route="\/crl\/test",status="200"\} [1-9]/m);
    assert.match(res.body, /^lamassu_http_requests_total\{listener="http",method="GET",route="unmatched",status="404"\} [1-9]/m);
    assert.match(res.body, /^lamassu_http_request_duration_seconds_count\{listener="http",method="GET",route="\/health"\} [1-9]/m);
    assert.match(res.body, /^process_cpu_user_seconds_total /m);
    assert.match(res.body, /^nodejs_eventloop_lag_seconds /m);
  });
});

describe('HTTP app: services\' fast paths', () => {
  it('a fast path answers what it takes before fastify, counted in /metrics under its route; the rest reaches the routes', async () => {
    const app = await buildHttpApp({
      logger: pino({ level: 'silent' }),
      metrics: new HttpMetrics(),
      health: { database: async () => undefined, keyEngines: [] },
      services: [
        {
          name: 'va',
          http: async (s) => void s.get('/fast', async () => 'framework'),
          httpFastPath: (req, res) => {
            if (req.url !== '/fast') return undefined;
            res.writeHead(200, { 'content-type': 'text/plain' }).end('fast');
            return '/fast-route';
          },
        },
      ],
    });
    try {
      await app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = app.server.address() as { port: number };
      const get = (p: string) => fetch(`http://127.0.0.1:${port}${p}`).then(async (r) => ({ status: r.status, text: await r.text() }));
      assert.deepEqual(await get('/fast'), { status: 200, text: 'fast' });
      assert.equal((await get('/fast?x')).text, 'framework');
      const metrics = (await get('/metrics')).text;
      assert.match(metrics, /lamassu_http_requests_total\{listener="http",method="GET",route="\/fast-route",status="200"\} 1\n/);
      assert.match(metrics, /lamassu_http_requests_total\{listener="http",method="GET",route="\/fast",status="200"\} 1\n/);
    } finally {
      await app.close();
    }
  });
});
