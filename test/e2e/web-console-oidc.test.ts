/**
 * The web console's OIDC sign-in end to end, in Debian's Chromium against a real `lamassu serve` configured
 * for OIDC. The identity provider is a stand-in (test/support/oidc-provider.ts: it approves at once, checks
 * the PKCE verifier at its token endpoint and serves the JWKS); the server takes the access token it issues
 * through its normal JWT validation (issuer, audience, roles claim, JWKS). This server runs without the alerts
 * service, so the test also sees the console do without it.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startLamassu, type LamassuProcess } from '../support/lamassu-process.ts';
import { startOidcProvider, type OidcProvider } from '../support/oidc-provider.ts';
import { assertAccessible, CHROMIUM, launchChromium, newPage as openPage } from './web-browser.ts';

const CLIENT_ID = 'lamassu-console';
const AUDIENCE = 'lamassu';

let idp: OidcProvider;
let server: LamassuProcess;
let browser: Browser;
let dir: string;
let shots: string;
const browserErrors: string[] = [];
const url = (p: string) => `https://localhost:${server.httpsPort}${p}`;
const newPage = () => openPage(browser, browserErrors);

/** Signs in through the identity provider; returns every URL the tab visited on the way. */
async function signInWithOidc(page: Page): Promise<string[]> {
  const visited: string[] = [];
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) visited.push(frame.url());
  });
  await page.goto(url('/'));
  await page.getByRole('button', { name: 'Sign in with OIDC' }).click();
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  return visited;
}

before(async () => {
  assert.ok(existsSync(CHROMIUM), `Debian's chromium is needed at ${CHROMIUM}`);
  dir = mkdtempSync(path.join(tmpdir(), 'lamassu-web-oidc-'));
  shots = process.env.LAMASSU_UI_SCREENSHOTS ? path.resolve(process.env.LAMASSU_UI_SCREENSHOTS) : path.join(dir, 'shots');
  mkdirSync(shots, { recursive: true });
  idp = await startOidcProvider({ clientId: CLIENT_ID, audience: AUDIENCE });
  server = await startLamassu(
    {
      LAMASSU_OIDC_JWKS_URL: idp.jwksUrl,
      LAMASSU_OIDC_ISSUER: idp.issuer,
      LAMASSU_OIDC_AUDIENCE: AUDIENCE,
      LAMASSU_OIDC_CONSOLE_CLIENT_ID: CLIENT_ID,
      LAMASSU_OIDC_CONSOLE_SCOPES: 'openid,profile',
      LAMASSU_SERVICES: 'ca,kms,va,dms,devices',
    },
    { deadlineMs: 30_000 },
  );
  idp.redirectUris.push(url('/'));
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await idp?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('web console: OIDC sign-in (authorization code + PKCE)', { timeout: 120_000 }, () => {
  test('an admin signs in at the identity provider; the token never shows in a URL and the server accepts it', async () => {
    idp.user = { sub: 'oidc-admin', roles: ['pki-admin'] };
    const page = await newPage();
    await page.goto(url('/'));
    await page.getByRole('button', { name: 'Sign in with OIDC' }).waitFor();
    await page.screenshot({ path: path.join(shots, 'sign-in-oidc.png'), fullPage: true });
    await assertAccessible(page, 'sign-in-oidc');
    await page.context().close();

    const signedIn = await newPage();
    const visited = await signInWithOidc(signedIn);
    assert.match(await signedIn.getByTestId('role').innerText(), /pki-admin/i);
    await signedIn.getByText('oidc-admin').waitFor();
    await signedIn.getByRole('link', { name: 'Certification authorities' }).click();
    await signedIn.getByRole('button', { name: 'Create CA' }).waitFor();

    // The request the browser made: PKCE S256, state, nonce and the configured scopes.
    const auth = idp.authorizations.at(-1)!;
    assert.equal(auth.get('code_challenge_method'), 'S256');
    assert.match(auth.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.ok((auth.get('state') ?? '').length >= 32 && (auth.get('nonce') ?? '').length >= 32);
    assert.equal(auth.get('scope'), 'openid profile');
    assert.equal(auth.get('redirect_uri'), url('/'));
    assert.deepEqual(idp.tokenRequests.at(-1), { status: 200 });

    // The code came back in the URL and was removed at once; the tokens never were in one.
    const token = (await signedIn.evaluate("sessionStorage.getItem('lamassu.token')")) as string;
    assert.equal(token.split('.').length, 3, 'a JWT from the identity provider');
    assert.ok(visited.some((u) => u.includes('code=')), visited.join('\n'));
    assert.ok(!visited.some((u) => u.includes(token) || u.includes('access_token') || u.includes('id_token')), visited.join('\n'));
    assert.equal(signedIn.url(), url('/cas'));
    assert.equal(await signedIn.evaluate("sessionStorage.getItem('lamassu.oidc.pending')"), null, 'the PKCE verifier is forgotten');
    // The server validated the identity provider's JWT like any other (JWKS, issuer, audience, roles claim).
    const whoami = (await signedIn.evaluate(
      `fetch('/api/v1/whoami', { headers: { authorization: 'Bearer ' + sessionStorage.getItem('lamassu.token') } }).then((r) => r.json())`,
    )) as { subject: string; role: string; via: string };
    assert.deepEqual(whoami, { subject: 'oidc-admin', role: 'pki-admin', via: 'oidc' });
    await signedIn.context().close();
  });

  test('without the alerts service the dashboard and the alerts screen say so, and nothing breaks', async () => {
    idp.user = { sub: 'oidc-admin', roles: ['pki-admin'] };
    const page = await newPage();
    await signInWithOidc(page);
    await page.getByTestId('recent-events').getByText('The alerts service does not run on this server').waitFor();
    await page.getByTestId('expiring-per-week').getByTestId('expiring-total').waitFor();
    await page.getByRole('link', { name: 'Alerts' }).click();
    await page.getByText('The alerts service does not run on this server').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Subscribe' }).count(), 0);
    assert.equal(await page.getByRole('alert').count(), 0, 'no error shown');
    await page.context().close();
  });

  test('a pki-viewer from the identity provider sees no write action', async () => {
    idp.user = { sub: 'oidc-auditor', roles: ['pki-viewer'] };
    const page = await newPage();
    await signInWithOidc(page);
    assert.match(await page.getByTestId('role').innerText(), /pki-viewer/i);
    await page.goto(url('/cas'));
    await page.getByRole('heading', { name: 'Certification authorities' }).first().waitFor();
    await page.waitForLoadState('networkidle');
    assert.equal(await page.getByRole('button', { name: /^(Create CA|Import CA)$/ }).count(), 0);
    await page.context().close();
  });

  test('a user without a pki role is refused in words', async () => {
    idp.user = { sub: 'someone', roles: ['other'] };
    const page = await newPage();
    await page.goto(url('/'));
    await page.getByRole('button', { name: 'Sign in with OIDC' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.innerText(), /neither pki-admin nor pki-viewer[\s\S]*AUTH_FORBIDDEN \(HTTP 403\)/);
    assert.equal(page.url(), url('/'));
    await page.context().close();
  });

  test('an answer with another state is refused, and its code never exchanged', async () => {
    const page = await newPage();
    await page.goto(url('/'));
    await page.getByRole('button', { name: 'Sign in with OIDC' }).waitFor();
    const exchanges = idp.tokenRequests.length;
    // As if an attacker's link brought the tab back with a code of theirs while a sign-in was pending.
    await page.evaluate(
      `sessionStorage.setItem('lamassu.oidc.pending', JSON.stringify({ state: 'mine', nonce: 'n', verifier: 'v', issuer: ${JSON.stringify(idp.issuer)}, clientId: 'lamassu-console', tokenEndpoint: ${JSON.stringify(`${idp.issuer}/token`)}, redirectUri: ${JSON.stringify(url('/'))} }))`,
    );
    await page.goto(url('/?code=stolen&state=theirs'));
    await page.getByRole('alert').getByText('another state').waitFor();
    assert.equal(page.url(), url('/'), 'the code is gone from the address bar');
    assert.equal(idp.tokenRequests.length, exchanges);
    await page.context().close();
  });

  test('the identity provider refuses a code without its PKCE verifier', async () => {
    const challengeFor = 'x'.repeat(43);
    const authorize = new URL(`${idp.issuer}/authorize`);
    for (const [k, v] of Object.entries({ response_type: 'code', client_id: CLIENT_ID, redirect_uri: url('/'), scope: 'openid', state: 's', code_challenge: challengeFor, code_challenge_method: 'S256' })) {
      authorize.searchParams.set(k, v);
    }
    const back = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!);
    const token = await fetch(`${idp.issuer}/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'authorization_code', code: back.searchParams.get('code')!, redirect_uri: url('/'), client_id: CLIENT_ID, code_verifier: 'y'.repeat(43) }),
    });
    assert.equal(token.status, 400);
    assert.deepEqual(await token.json(), { error: 'invalid_grant' });
  });

  test('no page broke the content security policy or threw', () => {
    assert.deepEqual(browserErrors, []);
  });
});
