import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { pino } from 'pino';
import type { AdminTokenRecord, AdminTokenRepository } from '../../domain/ports/admin-token.ts';
import { buildHttpsApp } from '../build-https-app.ts';
import { HttpMetrics } from '../metrics.ts';
import { hashToken } from './admin-token.ts';
import { createOidcVerifier } from './oidc-verifier.ts';

const ISSUER = 'https://idp.test/realms/lamassu';
const AUDIENCE = 'lamassu';

/** Admin tokens in memory: this file is about OIDC; the SQLite-backed path is tested in build-https-app.test.ts. */
function tokensWith(token: string): AdminTokenRepository {
  const record: AdminTokenRecord = { id: '1', tokenHash: hashToken(token), subject: 'admin', role: 'pki-admin', createdAt: new Date(0) };
  return {
    insert: async () => {},
    findByHash: async (h) => (h === record.tokenHash ? record : undefined),
    count: async () => 1,
  };
}

describe('OIDC bearer tokens on the admin API', () => {
  let jwks: Server;
  let jwksFetches = 0;
  let good: CryptoKey;
  let other: CryptoKey;
  let app: FastifyInstance;

  before(async () => {
    const pair = await generateKeyPair('ES256');
    good = pair.privateKey;
    other = (await generateKeyPair('ES256')).privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    jwks = createServer((_req, res) => {
      jwksFetches++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
    const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/certs`;
    app = await buildHttpsApp({
      logger: pino({ level: 'silent' }),
      metrics: new HttpMetrics(),
      auth: {
        adminTokens: tokensWith('embedded-token'),
        oidc: createOidcVerifier({ jwksUrl, issuer: ISSUER, audience: AUDIENCE, rolesClaim: 'realm_access.roles' }),
      },
      services: [
        {
          name: 'ca',
          adminApi: async (s) => {
            s.get('/thing', { config: { access: 'read' } }, async () => ({ read: true }));
            s.post('/thing', { config: { access: 'write' } }, async () => ({ written: true }));
          },
        },
      ],
      version: 'test',
    });
  });
  after(async () => {
    await app.close();
    await new Promise((r) => jwks.close(r));
  });

  type JwtOptions = { roles?: string[]; key?: CryptoKey; iss?: string; aud?: string; exp?: number | string | null; iat?: number | null; claims?: JWTPayload };
  /** `exp: null` / `iat: null` leave the claim out. */
  const jwt = (opts: JwtOptions = {}) => {
    const token = new SignJWT({ realm_access: { roles: opts.roles ?? ['pki-admin'] }, ...opts.claims })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setSubject('alice')
      .setIssuer(opts.iss ?? ISSUER)
      .setAudience(opts.aud ?? AUDIENCE);
    if (opts.iat !== null) token.setIssuedAt(opts.iat);
    if (opts.exp !== null) token.setExpirationTime(opts.exp ?? '5m');
    return token.sign(opts.key ?? good);
  };

  const call = async (method: 'GET' | 'POST', token: string) => {
    const res = await app.inject({ method, url: method === 'GET' ? '/api/v1/whoami' : '/api/v1/thing', headers: { authorization: `Bearer ${token}` } });
    return { status: res.statusCode, body: res.json(), auth: res.headers['www-authenticate'] };
  };

  it('accepts a good admin token and names its subject', async () => {
    const r = await call('GET', await jwt());
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { subject: 'alice', role: 'pki-admin', via: 'oidc' });
    assert.equal((await call('POST', await jwt())).status, 200);
    assert.ok(jwksFetches >= 1, 'keys came from the JWKS endpoint');
  });

  const refused: [string, () => Promise<string>, RegExp][] = [
    ['an expired token', () => jwt({ exp: Math.floor(Date.now() / 1000) - 600 }), /expired/],
    ['a wrong issuer', () => jwt({ iss: 'https://evil.test' }), /"iss"/],
    ['a wrong audience', () => jwt({ aud: 'someone-else' }), /"aud"/],
    ['a signature by another key', () => jwt({ key: other }), /not valid/],
    ['a tampered payload', async () => {
      const [h, , s] = (await jwt({ roles: ['pki-viewer'] })).split('.');
      const p = Buffer.from(JSON.stringify({ sub: 'alice', iss: ISSUER, aud: AUDIENCE, exp: 9e9, realm_access: { roles: ['pki-admin'] } })).toString('base64url');
      return `${h}.${p}.${s}`;
    }, /not valid/],
  ];
  for (const [what, make, message] of refused) {
    it(`refuses ${what} with 401 AUTH_INVALID_TOKEN`, async () => {
      const r = await call('GET', await make());
      assert.equal(r.status, 401);
      assert.equal(r.body.code, 'AUTH_INVALID_TOKEN');
      assert.match(r.body.message, message);
      assert.match(String(r.auth), /^Bearer/);
    });
  }

  it('refuses a token without exp (it would never expire) with 401 AUTH_TOKEN_NO_EXPIRY', async () => {
    const r = await call('GET', await jwt({ exp: null }));
    assert.equal(r.status, 401);
    assert.equal(r.body.code, 'AUTH_TOKEN_NO_EXPIRY');
    assert.match(r.body.message, /"exp"/);
    assert.match(String(r.auth), /^Bearer/);
  });

  describe('with a maximum token lifetime (LAMASSU_OIDC_MAX_TOKEN_LIFETIME)', () => {
    const now = () => Math.floor(Date.now() / 1000);
    const capped = () => {
      const port = (jwks.address() as AddressInfo).port;
      return createOidcVerifier({
        jwksUrl: `http://127.0.0.1:${port}/certs`,
        issuer: ISSUER,
        audience: AUDIENCE,
        rolesClaim: 'realm_access.roles',
        maxTokenLifetimeMs: 3600_000,
      });
    };
    const refusedWith = (code: string, message: RegExp) => (e: { code?: string; kind?: string; message?: string }) =>
      e.code === code && e.kind === 'unauthenticated' && message.test(String(e.message));

    it('accepts a token whose exp - iat is within the cap (exactly at it too)', async () => {
      const verify = capped();
      assert.equal((await verify(await jwt({ exp: '30m' }))).role, 'pki-admin');
      const iat = now() - 10;
      assert.equal((await verify(await jwt({ iat, exp: iat + 3600 }))).role, 'pki-admin');
    });

    it('refuses a token that lives longer than the cap with 401 AUTH_TOKEN_LIFETIME_TOO_LONG', async () => {
      const iat = now() - 10;
      await assert.rejects(capped()(await jwt({ iat, exp: iat + 3601 })), refusedWith('AUTH_TOKEN_LIFETIME_TOO_LONG', /3601 s.*3600 s/));
      await assert.rejects(capped()(await jwt({ exp: '1y' })), refusedWith('AUTH_TOKEN_LIFETIME_TOO_LONG', /3600 s/));
    });

    it('without iat, measures the lifetime from now', async () => {
      assert.equal((await capped()(await jwt({ iat: null, exp: '59m' }))).role, 'pki-admin');
      await assert.rejects(capped()(await jwt({ iat: null, exp: '2h' })), refusedWith('AUTH_TOKEN_LIFETIME_TOO_LONG', /3600 s/));
    });

    it('still refuses a token without exp', async () => {
      await assert.rejects(capped()(await jwt({ exp: null })), refusedWith('AUTH_TOKEN_NO_EXPIRY', /"exp"/));
    });
  });

  it('lets a viewer read but not write (403 AUTH_FORBIDDEN)', async () => {
    const viewer = await jwt({ roles: ['pki-viewer'] });
    const read = await call('GET', viewer);
    assert.equal(read.status, 200);
    assert.equal(read.body.role, 'pki-viewer');
    const write = await call('POST', viewer);
    assert.equal(write.status, 403);
    assert.equal(write.body.code, 'AUTH_FORBIDDEN');
  });

  it('refuses a valid token that carries neither role with 403', async () => {
    const r = await call('GET', await jwt({ roles: ['offline_access'] }));
    assert.equal(r.status, 403);
    assert.equal(r.body.code, 'AUTH_FORBIDDEN');
  });

  it('still accepts the embedded admin token, and refuses a wrong one', async () => {
    assert.equal((await call('POST', 'embedded-token')).status, 200);
    const bad = await call('POST', 'embedded-tokeN');
    assert.equal(bad.status, 401);
    assert.equal(bad.body.code, 'AUTH_INVALID_TOKEN');
  });

  it('reads the roles from the configured claim path', async () => {
    const port = (jwks.address() as AddressInfo).port;
    const verify = createOidcVerifier({ jwksUrl: `http://127.0.0.1:${port}/certs`, issuer: ISSUER, audience: AUDIENCE, rolesClaim: 'groups' });
    const token = await jwt({ roles: [], claims: { groups: ['pki-viewer'] } });
    assert.deepEqual(await verify(token), { subject: 'alice', role: 'pki-viewer', via: 'oidc' });
  });

  it('answers 503 AUTH_UNAVAILABLE when the JWKS endpoint cannot be reached', async () => {
    const down = createServer();
    await new Promise<void>((r) => down.listen(0, '127.0.0.1', r));
    const port = (down.address() as AddressInfo).port;
    await new Promise((r) => down.close(r));
    const verify = createOidcVerifier({ jwksUrl: `http://127.0.0.1:${port}/certs`, issuer: ISSUER, audience: AUDIENCE, rolesClaim: 'realm_access.roles' });
    await assert.rejects(verify(await jwt()), (e: { code?: string; kind?: string }) => e.code === 'AUTH_UNAVAILABLE' && e.kind === 'unavailable');
  });
});
