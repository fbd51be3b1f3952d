import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import type { AdminTokenRepository } from '../../domain/ports/admin-token.ts';
import { buildHttpsApp } from '../build-https-app.ts';
import { CONSOLE_SCREENS } from './web-console.ts';
import type { ConsoleSettings } from './console-config-routes.ts';
import { HttpMetrics } from '../metrics.ts';
import type { ServicePlugin } from '../service-plugin.ts';

const INDEX = '<!doctype html><title>console</title><script type="module" src="/assets/index-AbC123.js"></script>';
const SCRIPT = 'console.log("console")';

/** Stands in for EST: a prefix with its own plain-text 404, which the console must never answer for. */
const estLike: ServicePlugin = {
  name: 'dms',
  https: async (app) => {
    await app.register(
      async (scope) => {
        scope.setNotFoundHandler((request, reply) => reply.code(404).type('text/plain').send(`EST_ROUTE_NOT_FOUND: ${request.url}`));
        scope.get('/:label/cacerts', async () => 'certs');
      },
      { prefix: '/.well-known/est' },
    );
  },
};

const noTokens: AdminTokenRepository = {
  count: async () => 0,
  insert: async () => undefined,
  findByHash: async () => undefined,
} as unknown as AdminTokenRepository;

async function appWith(webConsoleDir: string | false, console?: ConsoleSettings): Promise<FastifyInstance> {
  return buildHttpsApp({
    ...(console ? { console } : {}),
    logger: pino({ level: 'silent' }),
    metrics: new HttpMetrics(),
    auth: { adminTokens: noTokens },
    services: [estLike],
    version: 'test',
    webConsoleDir,
  });
}

describe('web console on the HTTPS listener', () => {
  let dir: string;
  let app: FastifyInstance;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'lamassu-web-'));
    mkdirSync(path.join(dir, 'assets'));
    writeFileSync(path.join(dir, 'index.html'), INDEX);
    writeFileSync(path.join(dir, 'assets', 'index-AbC123.js'), SCRIPT);
    writeFileSync(path.join(dir, 'assets', 'index-AbC123.css'), 'body{}');
    app = await appWith(dir);
  });
  after(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves index.html at / and at every console screen, revalidated on each load', async () => {
    for (const url of ['/', '/cas', '/cas/root-1', '/certificates/0a1b', '/dms/new', '/devices/dev%2F1', '/profiles']) {
      const res = await app.inject({ url });
      assert.equal(res.statusCode, 200, url);
      assert.equal(res.headers['content-type'], 'text/html; charset=utf-8', url);
      assert.equal(res.headers['cache-control'], 'no-cache', url);
      assert.equal(res.body, INDEX, url);
      assert.match(String(res.headers['content-security-policy']), /script-src 'self';.*frame-ancestors 'none'/, url);
    }
  });

  it('serves hashed assets with their content type, cached for a year, and answers 304 to a matching ETag', async () => {
    const js = await app.inject({ url: '/assets/index-AbC123.js' });
    assert.equal(js.statusCode, 200);
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(js.headers['x-content-type-options'], 'nosniff');
    assert.equal(js.body, SCRIPT);
    const css = await app.inject({ url: '/assets/index-AbC123.css' });
    assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
    const again = await app.inject({ url: '/assets/index-AbC123.js', headers: { 'if-none-match': String(js.headers.etag) } });
    assert.equal(again.statusCode, 304);
    assert.equal(again.body, '');
  });

  it('shadows nothing: a missing asset, an unknown API route and an unknown page keep the JSON 404', async () => {
    for (const url of ['/assets/gone-123.js', '/api/v1/nothing-here', '/api/ca/v1/nothing', '/nope', '/health/x']) {
      const res = await app.inject({ url });
      assert.equal(res.statusCode, 404, url);
      assert.equal(res.json().code, 'ROUTE_NOT_FOUND', url);
    }
  });

  it('leaves EST its own routes and its own plain-text 404', async () => {
    assert.equal((await app.inject({ url: '/.well-known/est/line-1/cacerts' })).body, 'certs');
    const unknown = await app.inject({ url: '/.well-known/est/line-1/unknownop' });
    assert.equal(unknown.statusCode, 404);
    assert.match(unknown.body, /^EST_ROUTE_NOT_FOUND: /);
  });

  it('keeps Swagger UI and the OpenAPI document at /api/docs, without the console routes in it', async () => {
    assert.equal((await app.inject({ url: '/api/docs/json' })).statusCode, 200);
    const doc = (await app.inject({ url: '/api/docs/json' })).json() as { paths: Record<string, unknown> };
    assert.ok(!Object.keys(doc.paths).some((p) => p === '/' || p.startsWith('/cas') || p.startsWith('/assets')));
    assert.equal((await app.inject({ url: '/api/docs' })).statusCode < 400, true);
  });

  it('tells the console, without a token, that no OIDC sign-in is configured', async () => {
    const res = await app.inject({ url: '/api/console/v1/config' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { oidc: null });
    assert.match(String((await app.inject({ url: '/' })).headers['content-security-policy']), /connect-src 'self';/);
  });

  it("with OIDC sign-in: gives its issuer, client and scopes, and lets the page reach the issuer's origin only", async () => {
    const oidc = await appWith(dir, { oidc: { issuer: 'https://idp.example:8444/realms/pki', clientId: 'lamassu-console', scopes: ['openid', 'profile'] } });
    try {
      const res = await oidc.inject({ url: '/api/console/v1/config' });
      assert.deepEqual(res.json(), { oidc: { issuer: 'https://idp.example:8444/realms/pki', client_id: 'lamassu-console', scopes: ['openid', 'profile'] } });
      const doc = (await oidc.inject({ url: '/api/docs/json' })).json() as { paths: Record<string, { get?: { security?: unknown } }> };
      assert.equal(doc.paths['/api/console/v1/config']?.get?.security, undefined, 'public: no bearer token');
      const csp = String((await oidc.inject({ url: '/cas' })).headers['content-security-policy']);
      assert.match(csp, /connect-src 'self' https:\/\/idp\.example:8444;/);
    } finally {
      await oidc.close();
    }
  });

  it('serves no console when there is no build', async () => {
    const bare = await appWith(path.join(dir, 'not-built'));
    try {
      assert.equal((await bare.inject({ url: '/' })).statusCode, 404);
    } finally {
      await bare.close();
    }
  });
});

it('answers index.html for exactly the screens the console routes (web/src/App.tsx)', () => {
  const app = readFileSync(path.resolve(import.meta.dirname, '../../../web/src/App.tsx'), 'utf8');
  const screens = [...app.matchAll(/<Route path="\/([a-z-]+)/g)].map((m) => m[1]);
  assert.deepEqual([...new Set(screens)].sort(), [...CONSOLE_SCREENS].sort());
});
