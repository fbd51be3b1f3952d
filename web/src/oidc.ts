/**
 * OIDC sign-in: the authorization code flow with PKCE (S256) as a public client, against the issuer the
 * server names at /api/console/v1/config. Before leaving for the identity provider the console keeps the
 * PKCE verifier, state and nonce in sessionStorage (this tab only); back at `/?code=...&state=...` it
 * removes code and state from the address bar at once, checks the state, exchanges the code at the token
 * endpoint and checks the ID token's issuer, audience, nonce and expiry. The access token then goes to the
 * server like a pasted one (its normal JWT validation decides). Tokens never appear in a URL.
 */
import { api, unwrap } from './api/client';

export interface ConsoleOidc {
  issuer: string;
  client_id: string;
  scopes: string[];
}

interface Pending {
  state: string;
  nonce: string;
  verifier: string;
  issuer: string;
  clientId: string;
  tokenEndpoint: string;
  redirectUri: string;
}

const PENDING_KEY = 'lamassu.oidc.pending';

export class OidcError extends Error {}

export async function consoleOidc(): Promise<ConsoleOidc | null> {
  return (await unwrap(api.GET('/api/console/v1/config'))).oidc;
}

const base64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const random = (n = 32) => base64url(crypto.getRandomValues(new Uint8Array(n)));
const redirectUri = () => `${location.origin}/`;

async function discover(issuer: string): Promise<{ authorization_endpoint: string; token_endpoint: string }> {
  let response: Response;
  try {
    response = await fetch(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`);
  } catch (err) {
    throw new OidcError(`the identity provider ${issuer} could not be reached (${(err as Error).message})`);
  }
  if (!response.ok) throw new OidcError(`the identity provider's discovery document answered HTTP ${response.status}`);
  const doc = (await response.json()) as Record<string, unknown>;
  if (doc.issuer !== issuer) throw new OidcError(`the discovery document names issuer ${String(doc.issuer)}, not ${issuer}`);
  const methods = doc.code_challenge_methods_supported;
  if (Array.isArray(methods) && !methods.includes('S256')) throw new OidcError('the identity provider does not support PKCE with S256');
  if (typeof doc.authorization_endpoint !== 'string' || typeof doc.token_endpoint !== 'string') {
    throw new OidcError('the discovery document has no authorization or token endpoint');
  }
  return { authorization_endpoint: doc.authorization_endpoint, token_endpoint: doc.token_endpoint };
}

/** Leaves for the identity provider's authorization endpoint; comes back to `/` with a code. */
export async function startOidcSignIn(oidc: ConsoleOidc): Promise<void> {
  const endpoints = await discover(oidc.issuer);
  const pending: Pending = {
    state: random(),
    nonce: random(),
    verifier: random(48),
    issuer: oidc.issuer,
    clientId: oidc.client_id,
    tokenEndpoint: endpoints.token_endpoint,
    redirectUri: redirectUri(),
  };
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(pending.verifier))));
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  const target = new URL(endpoints.authorization_endpoint);
  for (const [k, v] of Object.entries({
    response_type: 'code',
    client_id: oidc.client_id,
    redirect_uri: pending.redirectUri,
    scope: oidc.scopes.join(' '),
    state: pending.state,
    nonce: pending.nonce,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  })) {
    target.searchParams.set(k, v);
  }
  location.assign(target.href);
}

/** Whether this page load is the identity provider's redirect back (a code or an error, and a state). */
export function isOidcRedirect(): boolean {
  const q = new URLSearchParams(location.search);
  return q.has('state') && (q.has('code') || q.has('error')) && sessionStorage.getItem(PENDING_KEY) !== null;
}

function claimsOf(jwt: string): Record<string, unknown> {
  const part = jwt.split('.')[1];
  if (!part) throw new OidcError('the ID token is not a JWT');
  try {
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(part.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0))));
  } catch {
    throw new OidcError('the ID token is not a JWT');
  }
}

/**
 * Finishes the redirect: cleans the address bar, checks state, exchanges the code with the verifier, checks
 * the ID token (received straight from the token endpoint over TLS, so its claims are checked, not its
 * signature: OIDC Core 3.1.3.7), and returns the access token.
 */
export async function completeOidcSignIn(): Promise<string> {
  const q = new URLSearchParams(location.search);
  history.replaceState(null, '', '/');
  const saved = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  if (!saved) throw new OidcError('no sign-in was started in this tab');
  const pending = JSON.parse(saved) as Pending;
  if (q.get('state') !== pending.state) throw new OidcError('the identity provider answered with another state: sign-in refused');
  const error = q.get('error');
  if (error) throw new OidcError(`the identity provider refused: ${error}${q.get('error_description') ? ` (${q.get('error_description')})` : ''}`);
  const code = q.get('code') ?? '';
  let response: Response;
  try {
    response = await fetch(pending.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: pending.redirectUri,
        client_id: pending.clientId,
        code_verifier: pending.verifier,
      }),
    });
  } catch (err) {
    throw new OidcError(`the token endpoint could not be reached (${(err as Error).message})`);
  }
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) throw new OidcError(`the token endpoint refused the code: ${String(body.error ?? `HTTP ${response.status}`)}`);
  if (typeof body.access_token !== 'string' || typeof body.id_token !== 'string') throw new OidcError('the token endpoint gave no access token and ID token');
  const claims = claimsOf(body.id_token);
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (claims.iss !== pending.issuer) throw new OidcError(`the ID token's issuer is ${String(claims.iss)}, not ${pending.issuer}`);
  if (!aud.includes(pending.clientId)) throw new OidcError('the ID token is not meant for this console (audience)');
  if (claims.nonce !== pending.nonce) throw new OidcError('the ID token does not carry the nonce of this sign-in: refused');
  if (typeof claims.exp !== 'number' || claims.exp * 1000 < Date.now()) throw new OidcError('the ID token has expired');
  return body.access_token;
}
