import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import pg from 'pg';
import { needPostgres, postgresUrl } from '../test/support/services.ts';
import { startServer, type RunningServer } from './app.ts';
import { loadConfig } from './config/load-config.ts';
import type { ServicePluginFactory } from './http/service-plugin.ts';

const silent = () => pino({ level: 'silent' });

const dataDirs: string[] = [];
after(() => dataDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const freshDataDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'lamassu-app-'));
  dataDirs.push(d);
  return d;
};

const configFor = (env: Record<string, string> = {}) =>
  loadConfig({
    env: {
      LAMASSU_DATA_DIR: freshDataDir(),
      LAMASSU_HTTPS_PORT: '0',
      LAMASSU_HTTP_PORT: '0',
      LAMASSU_LISTEN_ADDRESS: '127.0.0.1',
      ...env,
    },
  });

/** GET over the server's own TLS CA with the admin token. */
function adminGet(server: RunningServer, dataDir: string, pathname: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      new URL(pathname, server.httpsUrl),
      {
        ca: readFileSync(path.join(dataDir, 'tls', 'ca.pem')),
        servername: 'localhost',
        headers: { authorization: `Bearer ${readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim()}`, connection: 'close' },
      },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('startServer', () => {
  it('finishes a request in flight on close, with the database still open, then stops listening', async () => {
    const config = configFor();
    const order: string[] = [];
    let entered!: () => void;
    const inHandler = new Promise<void>((r) => (entered = r));
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const slow: ServicePluginFactory = ({ storage }) => ({
      name: 'ca',
      adminApi: async (app) => {
        app.get('/slow', { config: { access: 'read' } }, async () => {
          entered();
          await released;
          await storage.ping(); // the database is still open while requests finish
          return { done: true };
        });
      },
      close: async () => void order.push('service'),
    });
    const server = await startServer(config, { logger: silent(), serviceFactories: { ca: slow } });
    const response = adminGet(server, config.dataDir, '/api/v1/slow');
    await inHandler;
    const closing = server.close().then(() => order.push('closed'));
    release();
    assert.deepEqual(await response, { status: 200, body: '{"done":true}' });
    await closing;
    assert.deepEqual(order, ['service', 'closed']);
    await assert.rejects(fetch(`${server.httpUrl}/health`), 'the listener no longer accepts');
  });

  it('mounts only the selected services', async () => {
    const config = configFor({ LAMASSU_SERVICES: 'va' });
    const factories: Record<'ca' | 'va', ServicePluginFactory> = {
      ca: () => ({ name: 'ca', http: async (app) => void app.get('/ca-route', async () => 'ca') }),
      va: () => ({ name: 'va', http: async (app) => void app.get('/crl/x', async () => 'crl') }),
    };
    const server = await startServer(config, { logger: silent(), serviceFactories: factories });
    try {
      assert.equal(await (await fetch(`${server.httpUrl}/crl/x`)).text(), 'crl');
      assert.equal((await fetch(`${server.httpUrl}/ca-route`)).status, 404);
    } finally {
      await server.close();
    }
  });

  it('closes what it opened when start-up fails', async () => {
    const config = configFor({ LAMASSU_SERVICES: 'ca,kms' });
    const closed: string[] = [];
    const factories: Record<'ca' | 'kms', ServicePluginFactory> = {
      ca: () => ({ name: 'ca', close: async () => void closed.push('ca') }),
      kms: () => {
        throw new Error('service cannot start');
      },
    };
    await assert.rejects(startServer(config, { logger: silent(), serviceFactories: factories }), /service cannot start/);
    assert.deepEqual(closed, ['ca']);
  });

  it('runs on PostgreSQL when DATABASE_URL is set', async (t) => {
    if (!(await needPostgres(t))) return;
    const schema = `app_test_${process.pid}`;
    const config = configFor({ DATABASE_URL: postgresUrl(), LAMASSU_POSTGRES_SCHEMA: schema });
    assert.equal(config.storage.kind, 'postgres');
    const server = await startServer(config, { logger: silent(), serviceFactories: {} });
    try {
      const health = await fetch(`${server.httpUrl}/health`);
      assert.equal(health.status, 200);
      assert.deepEqual(((await health.json()) as { database: unknown }).database, { ok: true });
      assert.equal((await adminGet(server, config.dataDir, '/api/v1/whoami')).status, 200);
    } finally {
      await server.close();
      const client = new pg.Client(postgresUrl());
      await client.connect();
      await client.query(`drop schema if exists ${schema} cascade`);
      await client.end();
    }
  });
});
