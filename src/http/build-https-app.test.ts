import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { pino } from 'pino';
import { Type } from 'typebox';
import { DomainError, type ErrorKind } from '../domain/errors.ts';
import { ManualClock } from '../domain/ports/clock.ts';
import { silentLogger } from '../domain/ports/logger.ts';
import type { Storage } from '../domain/ports/storage.ts';
import { createStorage } from '../engines/storage/create-storage.ts';
import { ensureAdminToken } from './auth/admin-token.ts';
import { actorOf } from './auth/identity.ts';
import { buildHttpsApp } from './build-https-app.ts';
import { statusOfKind } from './errors.ts';
import { HttpMetrics } from './metrics.ts';
import type { ServicePlugin } from './service-plugin.ts';

const kinds = Object.keys(statusOfKind) as ErrorKind[];

/** A stand-in service exercising the shell: typed bodies, domain errors, an unexpected failure. */
const probe: ServicePlugin = {
  name: 'ca',
  adminApi: async (scope) => {
    const app = scope.withTypeProvider<TypeBoxTypeProvider>();
    app.post(
      '/probe',
      { config: { access: 'write' }, schema: { body: Type.Object({ name: Type.String(), bits: Type.Integer() }) } },
      async (request) => ({ name: request.body.name, bits: request.body.bits, actor: actorOf(request) }),
    );
    app.get('/probe/fail/:kind', { config: { access: 'read' } }, async (request) => {
      const kind = (request.params as { kind: ErrorKind }).kind;
      throw new DomainError('PROBE_FAILED', kind, `failed as ${kind}`);
    });
    app.get('/probe/boom', { config: { access: 'read' } }, async () => {
      throw new Error('connection to db at 10.1.2.3 with password hunter2 failed');
    });
  },
};

describe('HTTPS app', () => {
  let dir: string;
  let storage: Storage;
  let app: FastifyInstance;
  let token: string;
  const logged: string[] = [];

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'lamassu-https-'));
    storage = await createStorage({ kind: 'sqlite', file: path.join(dir, 'db.sqlite') });
    const file = await ensureAdminToken({ tokens: storage.adminTokens, dataDir: dir, clock: new ManualClock(), logger: silentLogger });
    token = readFileSync(file, 'utf8').trim();
    const logger = pino({ level: 'info' }, { write: (line: string) => void logged.push(line) });
    app = await buildHttpsApp({
      logger,
      metrics: new HttpMetrics(),
      auth: { adminTokens: storage.adminTokens },
      services: [probe],
      version: 'test',
      bodyLimit: 1024,
    });
  });
  after(async () => {
    await app.close();
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const auth = () => ({ authorization: `Bearer ${token}` });

  it('writes the admin token once, mode 0600, and keeps it on later starts', async () => {
    const file = path.join(dir, 'admin-token');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    await ensureAdminToken({ tokens: storage.adminTokens, dataDir: dir, clock: new ManualClock(), logger: silentLogger });
    assert.equal(readFileSync(file, 'utf8').trim(), token);
    assert.equal(await storage.adminTokens.count(), 1);
  });

  it('accepts the admin token and tells the handler who called', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/probe', headers: auth(), payload: { name: 'x', bits: 256 } });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { name: 'x', bits: 256, actor: 'admin' });
    const who = await app.inject({ url: '/api/v1/whoami', headers: auth() });
    assert.deepEqual(who.json(), { subject: 'admin', role: 'pki-admin', via: 'admin-token' });
  });

  it('refuses a missing or unknown token with 401 and WWW-Authenticate', async () => {
    const none = await app.inject({ url: '/api/v1/whoami' });
    assert.equal(none.statusCode, 401);
    assert.equal(none.json().code, 'AUTH_REQUIRED');
    assert.equal(none.headers['www-authenticate'], 'Bearer');
    const bad = await app.inject({ url: '/api/v1/whoami', headers: { authorization: `Bearer ${'A'.repeat(43)}` } });
    assert.equal(bad.statusCode, 401);
    assert.equal(bad.json().code, 'AUTH_INVALID_TOKEN');
    assert.match(String(bad.headers['www-authenticate']), /^Bearer error="invalid_token"/);
    const jwt = await app.inject({ url: '/api/v1/whoami', headers: { authorization: 'Bearer a.b.c' } });
    assert.equal(jwt.json().code, 'AUTH_INVALID_TOKEN', 'JWTs are refused when no OIDC provider is configured');
  });

  it('authenticates before reading the body', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/probe', payload: '{not json', headers: { 'content-type': 'application/json' } });
    assert.equal(res.json().code, 'AUTH_REQUIRED');
  });

  const cases: [string, InjectOptions, number, string][] = [
    ['malformed JSON', { method: 'POST', url: '/api/v1/probe', payload: '{"name": ', headers: { 'content-type': 'application/json' } }, 400, 'MALFORMED_JSON'],
    ['an empty JSON body', { method: 'POST', url: '/api/v1/probe', payload: '', headers: { 'content-type': 'application/json' } }, 400, 'MALFORMED_JSON'],
    ['a wrong type', { method: 'POST', url: '/api/v1/probe', payload: { name: 'x', bits: '256' } }, 400, 'VALIDATION_FAILED'],
    ['a missing field', { method: 'POST', url: '/api/v1/probe', payload: { name: 'x' } }, 400, 'VALIDATION_FAILED'],
    ['an oversized body', { method: 'POST', url: '/api/v1/probe', payload: { name: 'x'.repeat(2000), bits: 1 } }, 413, 'BODY_TOO_LARGE'],
    ['an unsupported media type', { method: 'POST', url: '/api/v1/probe', payload: 'x', headers: { 'content-type': 'application/x-nope' } }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['an unknown route', { method: 'GET', url: '/api/v1/nothing-here' }, 404, 'ROUTE_NOT_FOUND'],
  ];
  for (const [what, req, status, code] of cases) {
    it(`answers ${what} with ${status} ${code}`, async () => {
      const res = await app.inject({ ...req, headers: { ...auth(), ...req.headers } });
      assert.equal(res.statusCode, status, res.body);
      assert.equal(res.json().code, code);
      assert.equal(typeof res.json().message, 'string');
    });
  }

  for (const kind of kinds) {
    it(`maps a DomainError of kind ${kind} to ${statusOfKind[kind]}`, async () => {
      const res = await app.inject({ url: `/api/v1/probe/fail/${kind}`, headers: auth() });
      assert.equal(res.statusCode, statusOfKind[kind]);
      assert.deepEqual(res.json(), { code: 'PROBE_FAILED', message: `failed as ${kind}` });
    });
  }

  it('answers an unexpected error with 500 INTERNAL, logs it and leaks nothing', async () => {
    const res = await app.inject({ url: '/api/v1/probe/boom', headers: auth() });
    assert.equal(res.statusCode, 500);
    assert.deepEqual(res.json(), { code: 'INTERNAL', message: 'internal error' });
    assert.ok(logged.some((l) => l.includes('hunter2') && l.includes('"level":50')), 'the error is in the log');
  });

  it('logs a 503 of a dependency that is away as one warn line without a stack (the outage is logged where it happens)', async () => {
    logged.length = 0;
    const res = await app.inject({ url: '/api/v1/probe/fail/unavailable', headers: auth() });
    assert.equal(res.statusCode, 503);
    const lines = logged.filter((l) => l.includes('PROBE_FAILED'));
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0]!, /"level":40/);
    assert.doesNotMatch(lines[0]!, /"stack"/);
  });

  it('refuses to mount an admin route that declares no access', async () => {
    const open: ServicePlugin = { name: 'kms', adminApi: async (s) => void s.get('/open', async () => 'hi') };
    await assert.rejects(
      buildHttpsApp({ logger: pino({ level: 'silent' }), metrics: new HttpMetrics(), auth: { adminTokens: storage.adminTokens }, services: [open], version: 't' }),
      /must declare config.access/,
    );
  });

  it('serves the OpenAPI document and Swagger UI', async () => {
    const doc = await app.inject({ url: '/api/docs/json' });
    assert.equal(doc.statusCode, 200);
    const spec = doc.json();
    assert.equal(spec.openapi, '3.1.0');
    assert.ok(spec.paths['/api/v1/probe'].post);
    assert.deepEqual(spec.paths['/api/v1/probe'].post.security, [{ bearer: [] }]);
    const ui = await app.inject({ url: '/api/docs/' });
    assert.equal(ui.statusCode, 200);
    assert.match(ui.headers['content-type'] as string, /text\/html/);
  });
});
