/**
 * Stands in for an OIDC identity provider (Keycloak, Entra ID ...) in tests of the web console's sign-in:
 * discovery, an authorization endpoint that approves at once (as if the user had logged in) and redirects
 * back with a code, a token endpoint that checks the code, the client, the redirect URI and the PKCE verifier
 * (S256), and the JWKS the server verifies access tokens with. Plain HTTP on 127.0.0.1, which browsers
 * treat as a secure origin; CORS open, as an IdP's token endpoint is for browser clients.
 * Not an IdP: no login, no consent, no refresh tokens.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';

export interface OidcUser {
  sub: string;
  /** Put in `realm_access.roles`, the server's default roles claim. */
  roles: string[];
}

interface PendingCode {
  clientId: string;
  redirectUri: string;
  challenge: string;
  nonce?: string;
  user: OidcUser;
}

export interface OidcProvider {
  issuer: string;
  jwksUrl: string;
  /** Who the authorization endpoint signs in next. */
  user: OidcUser;
  /** Registered redirect URIs of the client (settable once the relying party's port is known). */
  redirectUris: string[];
  /** Every authorization request's query, and every token request's outcome, for the test to check. */
  authorizations: URLSearchParams[];
  tokenRequests: { status: number; error?: string }[];
  close(): Promise<void>;
}

const s256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

export async function startOidcProvider(opts: { clientId: string; audience: string }): Promise<OidcProvider> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'stand-in-1', alg: 'ES256', use: 'sig' };
  const codes = new Map<string, PendingCode>();

  const sign = (key: CryptoKey, claims: Record<string, unknown>, audience: string, sub: string) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: jwk.kid })
      .setIssuer(provider.issuer)
      .setAudience(audience)
      .setSubject(sub)
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(key);

  const json = (res: http.ServerResponse, status: number, body: unknown) =>
    res.writeHead(status, { 'content-type': 'application/json', 'access-control-allow-origin': '*', 'cache-control': 'no-store' }).end(JSON.stringify(body));

  const authorize = (res: http.ServerResponse, q: URLSearchParams) => {
    provider.authorizations.push(q);
    const redirectUri = q.get('redirect_uri') ?? '';
    if (q.get('client_id') !== opts.clientId || !provider.redirectUris.includes(redirectUri)) {
      // An IdP never redirects to an unknown URI: it shows an error page.
      return res.writeHead(400, { 'content-type': 'text/plain' }).end('unknown client or redirect_uri');
    }
    const back = new URL(redirectUri);
    const state = q.get('state');
    if (state !== null) back.searchParams.set('state', state);
    const challenge = q.get('code_challenge');
    if (q.get('response_type') !== 'code' || q.get('code_challenge_method') !== 'S256' || !challenge || !q.get('scope')?.split(' ').includes('openid')) {
      back.searchParams.set('error', 'invalid_request');
      return res.writeHead(302, { location: back.href }).end();
    }
    const code = randomBytes(24).toString('base64url');
    codes.set(code, { clientId: opts.clientId, redirectUri, challenge, nonce: q.get('nonce') ?? undefined, user: provider.user });
    back.searchParams.set('code', code);
    res.writeHead(302, { location: back.href }).end();
  };

  const token = async (res: http.ServerResponse, form: URLSearchParams) => {
    const refuse = (error: string) => {
      provider.tokenRequests.push({ status: 400, error });
      json(res, 400, { error });
    };
    if (form.get('grant_type') !== 'authorization_code') return refuse('unsupported_grant_type');
    const code = form.get('code') ?? '';
    const pending = codes.get(code);
    codes.delete(code); // one use, even when the rest is wrong
    if (!pending) return refuse('invalid_grant');
    if (form.get('client_id') !== pending.clientId) return refuse('invalid_client');
    if (form.get('redirect_uri') !== pending.redirectUri) return refuse('invalid_grant');
    const verifier = form.get('code_verifier') ?? '';
    if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || s256(verifier) !== pending.challenge) return refuse('invalid_grant');
    const { sub, roles } = pending.user;
    const accessToken = await sign(privateKey, { realm_access: { roles }, azp: pending.clientId }, opts.audience, sub);
    const idToken = await sign(privateKey, { ...(pending.nonce ? { nonce: pending.nonce } : {}), azp: pending.clientId }, pending.clientId, sub);
    provider.tokenRequests.push({ status: 200 });
    json(res, 200, { access_token: accessToken, id_token: idToken, token_type: 'Bearer', expires_in: 600 });
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', provider.issuer);
      if (req.method === 'OPTIONS') {
        return res
          .writeHead(204, { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET, POST', 'access-control-allow-headers': 'content-type' })
          .end();
      }
      if (req.method === 'GET' && u.pathname === '/.well-known/openid-configuration') {
        return json(res, 200, {
          issuer: provider.issuer,
          authorization_endpoint: `${provider.issuer}/authorize`,
          token_endpoint: `${provider.issuer}/token`,
          jwks_uri: provider.jwksUrl,
          response_types_supported: ['code'],
          grant_types_supported: ['authorization_code'],
          code_challenge_methods_supported: ['S256'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['ES256'],
          token_endpoint_auth_methods_supported: ['none'],
        });
      }
      if (req.method === 'GET' && u.pathname === '/authorize') return authorize(res, u.searchParams);
      if (req.method === 'POST' && u.pathname === '/token') {
        return void token(res, new URLSearchParams(Buffer.concat(chunks).toString('utf8'))).catch(() => json(res, 500, { error: 'server_error' }));
      }
      if (req.method === 'GET' && u.pathname === '/jwks') return json(res, 200, { keys: [jwk] });
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider: OidcProvider = {
    issuer,
    jwksUrl: `${issuer}/jwks`,
    user: { sub: 'oidc-admin', roles: ['pki-admin'] },
    redirectUris: [],
    authorizations: [],
    tokenRequests: [],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return provider;
}
