/**
 * The web console end to end: a real `lamassu serve`, Debian's Chromium driven by playwright-core (which
 * downloads no browser), openssl for CSRs and curl for EST. Walks what an operator does: sign in with the
 * admin token, create a root and a sub-CA, import a CA and change its CRL/OCSP settings, subscribe a webhook to
 * alerts (test send, delivery log), issue from a CSR, revoke and find it in the CRL, create an HTTP Basic DMS
 * with settings beyond the basics, enroll a device over EST, see it provisioned with its certificate in its
 * slot and timeline, decommission it, read the dashboard (expiry chart, recent events); then a pki-viewer sees
 * the same screens without one write action. OIDC sign-in: web-console-oidc.test.ts.
 * Every screen is checked with axe-core (no serious or critical violation); the first one paints within 1 s.
 * Screenshots go to $LAMASSU_UI_SCREENSHOTS (docs/ui to refresh the README's set), else to a temp dir.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { hashToken } from '../../src/http/auth/admin-token.ts';
import { createStorage } from '../../src/engines/storage/create-storage.ts';
import { startHttpReceiver, type HttpReceiver } from '../support/http-receiver.ts';
import { startLamassu, type LamassuProcess } from '../support/lamassu-process.ts';
import { until } from '../support/until.ts';
import { admin } from './est-server.ts';
import { assertAccessible, CHROMIUM, launchChromium, newPage as openPage } from './web-browser.ts';

const run = promisify(execFile);

let server: LamassuProcess;
let browser: Browser;
let dir: string;
let shots: string;
let viewerToken: string;
let webhook: HttpReceiver;
const f = (name: string) => path.join(dir, name);
const url = (p: string) => `https://localhost:${server.httpsPort}${p}`;
const openssl = async (...args: string[]) => (await run('openssl', args, { cwd: dir })).stdout;

/** What the browser reported as an error in any page: CSP violations, uncaught exceptions. */
const browserErrors: string[] = [];

const newPage = () => openPage(browser, browserErrors);

/** Every screen the walk reaches is photographed and checked with axe-core. */
async function shot(page: Page, name: string) {
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
  await assertAccessible(page, name);
}

async function signIn(page: Page, token: string) {
  await page.goto(url('/'));
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
}

/** Picks `option` in the Mantine Select (or MultiSelect) labelled `label`. */
async function choose(page: Page, label: string, option: string | RegExp) {
  await page.getByRole('textbox', { name: label, exact: true }).click();
  await page.getByRole('option', { name: option }).first().click();
}

async function createCa(page: Page, id: string, cn: string, parent?: string) {
  await page.goto(url('/cas'));
  await page.getByRole('button', { name: 'Create CA' }).click();
  const dialog = page.getByRole('dialog');
  if (parent) await choose(page, 'Parent CA', new RegExp(`\\(${parent}\\)`));
  await dialog.getByLabel('Common name').fill(cn);
  await dialog.getByLabel('CA id').fill(id);
  await dialog.getByRole('button', { name: 'Create CA' }).click();
  await page.waitForURL(url(`/cas/${id}`));
  await page.getByRole('heading', { name: cn }).waitFor();
  await dialog.waitFor({ state: 'hidden' });
}

before(async () => {
  assert.ok(existsSync(CHROMIUM), `Debian's chromium is needed at ${CHROMIUM} (apt-get install chromium; .ci/run installs it)`);
  dir = mkdtempSync(path.join(tmpdir(), 'lamassu-web-e2e-'));
  shots = process.env.LAMASSU_UI_SCREENSHOTS ? path.resolve(process.env.LAMASSU_UI_SCREENSHOTS) : path.join(dir, 'shots');
  mkdirSync(shots, { recursive: true });
  server = await startLamassu({}, { deadlineMs: 30_000 });
  // A pki-viewer token, stored the way the server stores tokens (only its hash).
  viewerToken = randomBytes(32).toString('base64url');
  const storage = await createStorage({ kind: 'sqlite', file: path.join(server.dataDir, 'lamassu.db') });
  await storage.adminTokens.insert({ id: randomUUID(), tokenHash: hashToken(viewerToken), subject: 'auditor', role: 'pki-viewer', createdAt: new Date() });
  await storage.close();
  browser = await launchChromium();
  webhook = await startHttpReceiver();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await webhook?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('web console', { timeout: 150_000 }, () => {
  let serial: string;

  test('the first screen paints within a second', async () => {
    // Each try in a fresh context (empty cache); the better of two, so one stall of a busy machine does not decide.
    const paints: number[] = [];
    for (let i = 0; i < 2 && !paints.some((p) => p < 1000); i++) {
      const page = await newPage();
      await page.goto(url('/'));
      await page.getByLabel('API token').waitFor();
      paints.push((await page.evaluate(`performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Infinity`)) as number);
      await page.context().close();
    }
    assert.ok(Math.min(...paints) < 1000, `first contentful paint ${paints.map(Math.round).join(', ')} ms`);
  });

  test('an unknown token is refused in words', async () => {
    const page = await newPage();
    await page.goto(url('/'));
    await shot(page, 'sign-in');
    await page.getByLabel('API token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.innerText(), /token not valid[\s\S]*AUTH_INVALID_TOKEN \(HTTP 401\)/);
    await page.context().close();
  });

  test('the admin creates CAs, issues from a CSR, revokes, sets up a DMS and follows a device through EST', async () => {
    const page = await newPage();
    await signIn(page, server.token);
    assert.match(await page.getByTestId('role').innerText(), /pki-admin/i);

    // CAs: a root and a sub-CA under it, shown as a tree.
    await createCa(page, 'e2e-root', 'E2E Root CA');
    await createCa(page, 'e2e-sub', 'E2E Issuing CA', 'e2e-root');
    // A refusal from the server shows in words inside the form: a CA id that is taken.
    await page.getByRole('button', { name: 'Create CA' }).click();
    const again = page.getByRole('dialog');
    await again.getByLabel('Common name').fill('Duplicate');
    await again.getByLabel('CA id').fill('e2e-root');
    await again.getByRole('button', { name: 'Create CA' }).click();
    const refusal = await again.getByRole('alert').innerText();
    assert.match(refusal, /e2e-root[\s\S]*\n[A-Z_]+ \(HTTP 409\)/, refusal);
    await page.keyboard.press('Escape');
    await again.waitFor({ state: 'hidden' });
    const tree = page.getByRole('tree', { name: 'CA hierarchy' });
    await tree.getByText('E2E Root CA').waitFor();
    assert.equal(await tree.getByRole('group').getByText('E2E Issuing CA').count(), 1, 'the sub-CA sits under the root');
    await shot(page, 'cas');

    // Import a root CA made with openssl: the certificate pasted, its key uploaded as a file.
    await openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('imported.key'), '-subj', '/CN=E2E Imported Root', '-days', '365',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', f('imported.pem'));
    await page.getByRole('button', { name: 'Import CA' }).click();
    const importDialog = page.getByRole('dialog', { name: 'Import a CA' });
    await importDialog.getByRole('textbox', { name: /^CA certificate/ }).fill(readFileSync(f('imported.pem'), 'utf8'));
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), importDialog.getByRole('button', { name: 'Upload private key' }).click()]);
    await chooser.setFiles(f('imported.key'));
    await importDialog.getByRole('textbox', { name: /^Private key/ }).filter({ hasText: 'BEGIN PRIVATE KEY' }).waitFor();
    await importDialog.getByRole('textbox', { name: /^CA id/ }).fill('e2e-imported');
    await importDialog.getByRole('button', { name: 'Import CA' }).click();
    await page.waitForURL(url('/cas/e2e-imported'));
    await page.getByRole('heading', { name: 'E2E Imported Root' }).waitFor();
    assert.equal((await admin(server, 'GET', '/api/ca/v1/cas/e2e-imported')).json.type, 'IMPORTED_WITH_KEY');

    // Its CRL and OCSP settings, changed in the console and shown on the CA.
    const va = page.getByTestId('va-settings');
    await va.getByRole('button', { name: 'Edit CRL and OCSP settings' }).click();
    const vaDialog = page.getByRole('dialog', { name: 'CRL and OCSP settings' });
    await vaDialog.getByRole('textbox', { name: /^CRL validity/ }).fill('3d');
    await vaDialog.getByRole('checkbox', { name: 'Publish delta CRLs' }).check();
    await vaDialog.getByRole('textbox', { name: /^Delta CRL refresh interval/ }).fill('30m');
    await shot(page, 'ca-settings');
    // A CRL refreshed less often than it is valid for is refused, in words, in the form.
    await vaDialog.getByRole('button', { name: 'Save CRL and OCSP settings' }).click();
    assert.match(await vaDialog.getByRole('alert').innerText(), /refresh_interval must be shorter than its validity[\s\S]*VA_ROLE_INVALID \(HTTP 400\)/);
    await vaDialog.getByRole('textbox', { name: /^CRL refresh interval/ }).fill('1d');
    await vaDialog.getByRole('button', { name: 'Save CRL and OCSP settings' }).click();
    await vaDialog.waitFor({ state: 'hidden' });
    await va.getByText('every 30m').waitFor();
    assert.match(await va.innerText(), /CRL validity\s+3d/);
    const role = (await admin(server, 'GET', '/api/va/v1/roles/e2e-imported')).json;
    assert.deepEqual([role.crl_options.validity, role.crl_options.refresh_interval, role.delta_crl_options.enabled, role.delta_crl_options.refresh_interval], ['3d', '1d', true, '30m']);

    // Alerts: a webhook subscription to every certificate event; its secret is shown once; a test reaches it.
    await page.getByRole('link', { name: 'Alerts' }).click();
    await page.getByRole('heading', { name: 'Alerts' }).waitFor();
    await page.getByRole('button', { name: 'Subscribe' }).click();
    const subscribe = page.getByRole('dialog');
    await subscribe.getByRole('combobox', { name: /^Event type/ }).fill('certificate.#');
    await subscribe.getByRole('button', { name: 'Add condition' }).click();
    await subscribe.getByRole('textbox', { name: /^Condition 1$/ }).fill('$.data.serial_number');
    await choose(page, 'Channel', 'Webhook');
    await subscribe.getByRole('textbox', { name: /^Channel name/ }).fill('SOC');
    await subscribe.getByRole('textbox', { name: 'Webhook URL' }).fill(webhook.url);
    await subscribe.getByRole('button', { name: 'Subscribe' }).click();
    await subscribe.getByText('shown this once').waitFor();
    assert.match(await subscribe.getByText(/^[0-9a-f]{64}$/).innerText(), /^[0-9a-f]{64}$/, 'the signing secret');
    await subscribe.getByRole('button', { name: 'Done' }).click();
    await subscribe.waitFor({ state: 'hidden' });
    await page.getByRole('table', { name: 'Subscriptions' }).getByRole('link', { name: 'certificate.#' }).click();
    await page.getByRole('button', { name: 'Send test' }).click();
    await page.getByText('Test delivered').waitFor();
    assert.equal((await webhook.waitFor(1))[0]!.headers['x-lamassu-signature']?.toString().startsWith('sha256='), true);
    const alertsUrl = page.url();

    // An issuance profile, then a certificate from a CSR openssl made, issued under it.
    await page.goto(url('/profiles'));
    await page.getByRole('button', { name: 'Create profile' }).click();
    const profileDialog = page.getByRole('dialog');
    await profileDialog.getByRole('textbox', { name: /^Name/ }).fill('E2E devices');
    await profileDialog.getByRole('textbox', { name: /^Validity/ }).fill('90d');
    await profileDialog.getByRole('button', { name: 'Create profile' }).click();
    await page.getByRole('table', { name: 'Issuance profiles' }).getByText('E2E devices').waitFor();
    await profileDialog.waitFor({ state: 'hidden' });
    await shot(page, 'profiles');
    await openssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('web.key'), '-subj', '/CN=web-e2e.example', '-out', f('web.csr'));
    await page.goto(url('/certificates'));
    await page.getByRole('button', { name: 'Issue certificate' }).click();
    await choose(page, 'Issuing CA', /\(e2e-sub\)/);
    await choose(page, 'Issuance profile', 'E2E devices');
    await page.getByLabel('CSR (PEM)').fill(readFileSync(f('web.csr'), 'utf8'));
    await page.getByRole('dialog').getByRole('button', { name: 'Issue certificate' }).click();
    await page.getByRole('heading', { name: 'web-e2e.example' }).waitFor();
    await page.getByRole('dialog').waitFor({ state: 'hidden' });
    serial = await page.getByTestId('serial').innerText();
    assert.match(serial, /^[0-9a-f]+$/);
    await page.locator('[data-status="ACTIVE"]').first().waitFor();
    const issued = (await admin(server, 'GET', `/api/ca/v1/certificates/${serial}`)).json;
    assert.equal((Date.parse(issued.valid_to) - Date.parse(issued.valid_from)) / 86_400_000, 90, 'issued under the 90-day profile');
    // The details decode the certificate in the browser; a few fields against `openssl x509 -text`.
    writeFileSync(f('web.pem'), Buffer.from(issued.certificate, 'base64'));
    const x509Text = await openssl('x509', '-in', f('web.pem'), '-noout', '-text');
    const lineAfter = (heading: string) => { const l = x509Text.split('\n'); return l[l.findIndex((x) => x.trim().startsWith(heading)) + 1]!.trim(); };
    const decoded = page.getByTestId('decoded-certificate');
    await decoded.waitFor();
    assert.equal(await page.getByTestId('x509-signature-algorithm').innerText(), /Signature Algorithm: (\S+)/.exec(x509Text)![1]);
    assert.equal(await page.getByTestId('x509-subject').innerText(), /Subject: (.*)/.exec(x509Text)![1]!.replaceAll(' = ', '='));
    assert.equal(await page.getByTestId('x509-key-algorithm').innerText(), /Public Key Algorithm: (\S+)/.exec(x509Text)![1]);
    assert.match(await page.getByTestId('x509-ext-2.5.29.14').innerText(), new RegExp(lineAfter('X509v3 Subject Key Identifier')));
    assert.match(await page.getByTestId('x509-ext-2.5.29.15').innerText(), new RegExp(lineAfter('X509v3 Key Usage')));
    const fingerprint = (await openssl('x509', '-in', f('web.pem'), '-noout', '-fingerprint', '-sha256')).trim().split('=')[1]!;
    await page.getByTestId('x509-sha256').getByText(fingerprint).waitFor();
    await shot(page, 'certificate');

    // With a key the server makes: the PKCS#8 is offered once, and it is the key of the certificate.
    await page.getByRole('button', { name: 'Issue certificate' }).click();
    await page.getByRole('tab', { name: 'With a key made by the server' }).click();
    const keyPanel = page.getByRole('tabpanel');
    await choose(page, 'Issuing CA', /\(e2e-sub\)/);
    await keyPanel.getByRole('textbox', { name: /^Common name/ }).fill('gateway-1');
    await keyPanel.getByRole('button', { name: 'Issue with a server key' }).click();
    await keyPanel.getByText('The private key is shown this once').waitFor();
    const [keyDownload] = await Promise.all([page.waitForEvent('download'), keyPanel.getByRole('button', { name: 'Download private key (PKCS#8)' }).click()]);
    await keyDownload.saveAs(f('gw.key'));
    const [certDownload] = await Promise.all([page.waitForEvent('download'), keyPanel.getByRole('button', { name: 'Download certificate' }).click()]);
    await certDownload.saveAs(f('gw.pem'));
    assert.match(readFileSync(f('gw.key'), 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
    assert.equal(await openssl('pkey', '-in', f('gw.key'), '-pubout'), await openssl('x509', '-in', f('gw.pem'), '-noout', '-pubkey'));
    await keyPanel.getByRole('button', { name: 'Close' }).click();
    await page.goto(url(`/certificates/${serial}`));
    await page.getByTestId('serial').waitFor();

    // Revoke with a reason; the certificate shows REVOKED and the CA's CRL lists it.
    await page.getByRole('button', { name: 'Revoke' }).click();
    const dialog = page.getByRole('dialog', { name: 'Revoke certificate' });
    await choose(page, 'Reason', 'KeyCompromise');
    await dialog.getByRole('button', { name: 'Revoke' }).click();
    await page.locator('[data-status="REVOKED"]').first().waitFor();
    assert.match(await page.getByText('Revocation reason').locator('..').innerText(), /KeyCompromise/);
    await page.goto(url('/certificates'));
    await page.getByRole('table', { name: 'Certificates' }).getByText(serial).waitFor();
    await shot(page, 'certificates');
    await page.goto(url('/cas/e2e-sub'));
    await page.getByRole('button', { name: 'Show CRL' }).click();
    const crl = page.getByTestId('crl');
    await crl.getByText(serial).waitFor();
    assert.match(await crl.innerText(), /KeyCompromise/);
    await page.getByText('CRL refreshed every').waitFor();
    const [der] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download certificate (DER)' }).click()]);
    await der.saveAs(f('sub.cer'));
    assert.match(await openssl('x509', '-inform', 'DER', '-in', f('sub.cer'), '-noout', '-subject'), /E2E Issuing CA/);
    // The CA certificate decoded on demand: basic constraints and key usage as openssl reads them.
    const subText = await openssl('x509', '-inform', 'DER', '-in', f('sub.cer'), '-noout', '-text');
    const subLine = (heading: string) => { const l = subText.split('\n'); return l[l.findIndex((x) => x.trim().startsWith(heading)) + 1]!.trim(); };
    await page.getByRole('button', { name: 'Show decoded certificate' }).click();
    assert.equal(await page.getByTestId('x509-ext-2.5.29.19').getByText(/^CA:/).innerText(), subLine('X509v3 Basic Constraints'));
    assert.equal(await page.getByTestId('x509-ext-2.5.29.15').getByText(/Sign/).innerText(), subLine('X509v3 Key Usage'));
    await page.getByRole('button', { name: 'Hide decoded certificate' }).click();
    const [chain] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download chain' }).click()]);
    await chain.saveAs(f('chain.pem'));
    assert.equal(readFileSync(f('chain.pem'), 'utf8').match(/BEGIN CERTIFICATE/g)?.length, 2, 'the sub-CA and its root');
    await shot(page, 'ca-crl');

    // An HTTP Basic DMS on the sub-CA.
    await page.goto(url('/dms'));
    await page.getByRole('link', { name: 'Create DMS' }).click();
    await page.getByLabel('DMS id').fill('line-7');
    await page.getByRole('textbox', { name: /^Name/ }).fill('Factory line 7');
    await choose(page, 'Enrollment CA', 'e2e-sub');
    await choose(page, 'Authorized CAs', 'e2e-sub');
    await page.keyboard.press('Escape');
    await page.getByLabel('HTTP Basic user').fill('line-7');
    await page.getByLabel('HTTP Basic password').fill('correct horse battery');
    // Settings beyond the basics: what new devices get, Lamassu's expiry deltas, serverkeygen's keys.
    await page.getByRole('textbox', { name: 'Device tags' }).fill('factory-7');
    await page.keyboard.press('Enter');
    await page.getByRole('textbox', { name: 'Device metadata' }).fill('{"line": 7');
    await page.getByRole('textbox', { name: 'Preventive delta' }).fill('30d');
    await page.getByRole('textbox', { name: 'Critical delta' }).fill('7d');
    await page.getByRole('checkbox', { name: 'Re-enroll with an expired certificate' }).check();
    await choose(page, 'Default key', 'ECDSA P-384');
    await page.getByRole('button', { name: 'Create DMS' }).click();
    await page.getByText('must be a JSON object').waitFor();
    await page.getByRole('textbox', { name: 'Device metadata' }).fill('{"line": 7}');
    await page.getByRole('button', { name: 'Create DMS' }).click();
    await page.waitForURL(url('/dms/line-7'));
    const stored = (await admin(server, 'GET', '/api/dmsmanager/v1/dms/line-7')).json.settings;
    assert.deepEqual(stored.enrollment_settings.device_provisioning_profile.tags, ['factory-7']);
    assert.deepEqual(stored.enrollment_settings.device_provisioning_profile.metadata, { line: 7 });
    assert.deepEqual([stored.reenrollment_settings.preventive_delta, stored.reenrollment_settings.critical_delta, stored.reenrollment_settings.enable_expired_renewal], ['30d', '7d', true]);
    assert.deepEqual(stored.server_keygen_settings.key, { type: 'ECDSA', bits: 384 });
    // The DMS's own metadata, edited afterwards.
    await page.getByRole('textbox', { name: 'DMS metadata', exact: true }).fill('{"owner": "plant-ops"}');
    await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/dmsmanager/v1/dms/line-7') && r.request().method() === 'PUT' && r.ok()),
      page.getByRole('button', { name: 'Save', exact: true }).click(),
    ]);
    assert.deepEqual((await admin(server, 'GET', '/api/dmsmanager/v1/dms/line-7')).json.metadata, { owner: 'plant-ops' });
    const est = page.getByTestId('est-urls');
    await est.getByText(`https://localhost:${server.httpsPort}/.well-known/est/line-7/simpleenroll`, { exact: true }).waitFor();
    assert.match(await est.innerText(), /curl --cacert server-ca\.pem \\\s+--user 'line-7:PASSWORD'/);
    // Its DMS certificate, made with a server key offered once.
    const dmsCert = page.getByTestId('dms-certificate');
    await dmsCert.getByText('None').waitFor();
    await dmsCert.getByRole('button', { name: 'Issue with a server key' }).click();
    const [dmsKey] = await Promise.all([page.waitForEvent('download'), dmsCert.getByRole('button', { name: 'Download private key' }).click()]);
    await dmsKey.saveAs(f('dms.key'));
    const [dmsPem] = await Promise.all([page.waitForEvent('download'), dmsCert.getByRole('button', { name: 'Download certificate and chain' }).click()]);
    await dmsPem.saveAs(f('dms.pem'));
    assert.equal(await openssl('pkey', '-in', f('dms.key'), '-pubout'), await openssl('x509', '-in', f('dms.pem'), '-noout', '-pubkey'));
    await dmsCert.locator('[data-status="ACTIVE"]').waitFor();
    // Then one from a CSR the factory made (its key stays with it): the new certificate has the CSR's key and
    // the previous one is revoked.
    const firstDmsSerial = (await openssl('x509', '-in', f('dms.pem'), '-noout', '-serial')).trim().split('=')[1]!.toLowerCase();
    await openssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('dms2.key'), '-subj', '/CN=line-7 factory', '-out', f('dms2.csr'));
    await dmsCert.getByRole('button', { name: 'Issue from a CSR' }).click();
    await dmsCert.getByRole('textbox', { name: 'DMS CSR (PEM)' }).fill(readFileSync(f('dms2.csr'), 'utf8'));
    await dmsCert.getByRole('button', { name: 'Issue from CSR' }).click();
    await dmsCert.getByRole('textbox', { name: 'DMS CSR (PEM)' }).waitFor({ state: 'hidden' });
    assert.equal(await dmsCert.getByRole('button', { name: 'Download private key' }).count(), 0, 'no private key from a CSR');
    const [dmsPem2] = await Promise.all([page.waitForEvent('download'), dmsCert.getByRole('button', { name: 'Download certificate and chain' }).click()]);
    await dmsPem2.saveAs(f('dms2.pem'));
    assert.equal(await openssl('pkey', '-in', f('dms2.key'), '-pubout'), await openssl('x509', '-in', f('dms2.pem'), '-noout', '-pubkey'));
    assert.equal((await admin(server, 'GET', `/api/ca/v1/certificates/${firstDmsSerial.replace(/^0+(?=.)/, '')}`)).json.status, 'REVOKED');
    await dmsCert.locator('[data-status="ACTIVE"]').waitFor();
    await shot(page, 'dms');

    // A device enrolls with curl, as the console's example says.
    await openssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('dev.key'), '-subj', '/CN=device-42', '-outform', 'DER', '-out', f('dev.csr.der'));
    await openssl('base64', '-in', f('dev.csr.der'), '-out', f('dev.csr.b64'));
    const host = `localhost:${server.httpsPort}`;
    const { stdout: status } = await run('curl', [
      '-sS', '--cacert', server.tlsCaFile, '--resolve', `${host}:127.0.0.1`, '--user', 'line-7:correct horse battery',
      '-H', 'Content-Type: application/pkcs10', '--data-binary', `@${f('dev.csr.b64')}`, '-o', f('dev.p7.b64'), '-w', '%{http_code}',
      `https://${host}/.well-known/est/line-7/simpleenroll`,
    ]);
    assert.equal(status, '200', readFileSync(f('dev.p7.b64'), 'utf8'));
    await openssl('base64', '-d', '-in', f('dev.p7.b64'), '-out', f('dev.p7.der'));
    const devSerial = (await openssl('pkcs7', '-inform', 'DER', '-in', f('dev.p7.der'), '-print_certs', '-out', f('dev.pem')), await openssl('x509', '-in', f('dev.pem'), '-noout', '-serial')).trim().split('=')[1]!.toLowerCase();

    // The device: provisioned, its certificate in its slot, its timeline; then decommissioned.
    await page.goto(url('/devices'));
    await choose(page, 'Status', 'FULLY_PROVISIONED');
    await page.getByRole('table', { name: 'Devices' }).getByRole('link', { name: 'device-42' }).click();
    await page.getByRole('heading', { name: 'device-42' }).waitFor();
    await page.locator('[data-status="FULLY_PROVISIONED"]').first().waitFor();
    const slot = page.getByRole('table', { name: 'Slots' }).locator('tr[data-slot="default"]').first();
    assert.match(await slot.innerText(), new RegExp(devSerial.replace(/^0+/, '')));
    assert.match(await slot.innerText(), /ACTIVE/);
    const timeline = page.getByTestId('timeline');
    // The timeline is a query of its own: it may fill in a moment after the device.
    await until('the timeline has events', async () => (await timeline.innerText()).split('\n').length > 2);
    await shot(page, 'device');
    await page.getByRole('button', { name: 'Decommission' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Decommission' }).click();
    await page.locator('[data-status="DECOMMISSIONED"]').first().waitFor();
    await slot.locator('[data-status="REVOKED"]').waitFor();
    await page.goto(url('/devices'));
    await page.getByRole('table', { name: 'Devices' }).getByText('device-42').waitFor();
    await shot(page, 'devices');

    // A device group over the DMS's tag: device-42 is a member; the stats count it by status.
    await page.goto(url('/device-groups'));
    await page.getByRole('button', { name: 'Create group' }).click();
    const groupDialog = page.getByRole('dialog', { name: 'Create device group' });
    await groupDialog.getByRole('textbox', { name: /^Name/ }).fill('Line 7 devices');
    await choose(page, 'Field 1', 'tags');
    await groupDialog.getByRole('textbox', { name: 'Value 1' }).fill('factory-7');
    await groupDialog.getByRole('button', { name: 'Add criterion' }).click();
    await choose(page, 'Field 2', 'id');
    await groupDialog.getByRole('textbox', { name: 'Value 2' }).fill('device-');
    await groupDialog.getByRole('button', { name: 'Create group' }).click();
    await page.getByRole('heading', { name: 'Line 7 devices', exact: true }).waitFor();
    await groupDialog.waitFor({ state: 'hidden' });
    await page.getByRole('table', { name: 'Group members' }).getByRole('link', { name: 'device-42' }).waitFor();
    assert.match(await page.getByTestId('group-stats').innerText(), /1 in total[\s\S]*DECOMMISSIONED\s*1/i);
    const groups = (await admin(server, 'GET', '/api/devmanager/v1/device-groups')).json.list as { name: string; criteria: { field: string; operand: string; value: string }[] }[];
    assert.deepEqual(groups.find((g) => g.name === 'Line 7 devices')?.criteria, [{ field: 'tags', operand: 'ct', value: 'factory-7' }, { field: 'id', operand: 'ct', value: 'device-' }]);
    // Edited: a description, the criteria kept.
    await page.getByRole('button', { name: 'Edit group' }).click();
    const editDialog = page.getByRole('dialog', { name: 'Edit device group' });
    await editDialog.getByRole('textbox', { name: 'Description' }).fill('Devices of factory line 7');
    await editDialog.getByRole('button', { name: 'Save group' }).click();
    await editDialog.waitFor({ state: 'hidden' });
    await page.getByText('Devices of factory line 7').waitFor();
    await page.getByRole('table', { name: 'Group members' }).getByRole('link', { name: 'device-42' }).waitFor();
    await shot(page, 'device-group');
    await page.goto(url('/device-groups'));
    await page.getByRole('table', { name: 'Device groups' }).getByText('Line 7 devices').waitFor();
    await shot(page, 'device-groups');

    // A KMS key: created in the default engine; its public key shown is the one the API gives.
    await page.goto(url('/keys'));
    await page.getByRole('button', { name: 'Create key' }).click();
    const keyDialog = page.getByRole('dialog', { name: 'Create key' });
    await choose(page, 'Key type', 'ECDSA 384');
    await keyDialog.getByRole('textbox', { name: /^Name/ }).fill('e2e-signing');
    await keyDialog.getByRole('button', { name: 'Create key' }).click();
    await page.getByRole('heading', { name: 'e2e-signing', exact: true }).waitFor();
    await keyDialog.waitFor({ state: 'hidden' });
    const keyId = await page.getByTestId('key-id').innerText();
    const kmsKey = (await admin(server, 'GET', `/api/kms/v1/keys/${keyId}`)).json;
    assert.deepEqual([kmsKey.algorithm, kmsKey.size, kmsKey.name], ['ECDSA', 384, 'e2e-signing']);
    await page.getByText(kmsKey.public_key_pem.split('\n')[1]).waitFor();
    await shot(page, 'key');
    await page.goto(url('/keys'));
    await page.getByRole('table', { name: 'Keys' }).getByText('e2e-signing').waitFor();
    await shot(page, 'keys');

    // The delivery log of the subscription shows the certificate events delivered to the webhook.
    await page.goto(alertsUrl);
    await page.getByRole('table', { name: 'Delivery log' }).locator('[data-delivery-status="delivered"]').first().waitFor({ timeout: 20_000 });
    await shot(page, 'alerts');

    await page.goto(url('/'));
    await page.getByTestId('certificates-total').waitFor();
    assert.equal(await page.getByTestId('devices-total').innerText(), '1');
    assert.equal(await page.getByTestId('dmss-total').innerText(), '1');
    const perDms = page.getByRole('table', { name: 'Devices per DMS' }).getByRole('row', { name: /Factory line 7/ });
    await perDms.waitFor();
    assert.match(await perDms.innerText(), /\b1\b[\s\S]*DECOMMISSIONED/);
    // The expiry chart: twelve weeks, the server's aggregate; a few short-lived certificates give it bars.
    for (const days of [5, 12, 12, 33, 60]) {
      const csr = Buffer.from(readFileSync(f('web.csr'), 'utf8')).toString('base64');
      await admin(server, 'POST', '/api/ca/v1/cas/e2e-sub/certificates/sign', { csr, profile: { validity: { type: 'Duration', duration: `${days}d` } } });
    }
    await page.reload();
    const chart = page.getByTestId('expiring-per-week');
    const weeks = (await admin(server, 'GET', '/api/ca/v1/certificates/expiring-per-week?weeks=12')).json.weeks as { start: string; count: number }[];
    const expected = weeks.reduce((n, w) => n + w.count, 0);
    assert.ok(expected >= 5, `${expected} expiring`);
    assert.equal(await chart.getByTestId('expiring-total').innerText(), `${expected} in the next 12 weeks`);
    assert.deepEqual(
      await chart.locator('[data-week]').evaluateAll((bars) => bars.map((b) => Number(b.getAttribute('data-count')))),
      weeks.map((w) => w.count),
    );
    const events = page.getByRole('table', { name: 'Recent events' });
    await events.getByRole('cell', { name: 'certificate.status.update' }).waitFor();
    await shot(page, 'dashboard');
    await page.context().close();
  });

  test('no page broke the content security policy or threw', () => {
    assert.deepEqual(browserErrors, []);
  });

  test('a pki-viewer sees every screen and no write action', async () => {
    const page = await newPage();
    // By keyboard only: the token field has the focus, Enter signs in, Tab reaches the menu.
    await page.goto(url('/'));
    await page.getByLabel('API token').waitFor();
    await page.keyboard.type(viewerToken);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    assert.match(await page.getByTestId('role').innerText(), /pki-viewer/i);
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press('Tab');
      if ((await page.evaluate('document.activeElement?.textContent')) === 'Devices') break;
    }
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Devices' }).waitFor();
    const writes = /^(Create CA|Import CA|Revoke|Hold|Release hold|Issue certificate|Create DMS|Save|Decommission|Create profile|Edit .*|Issue with a server key|Issue a new one.*|Revoke DMS certificate|Issue from a CSR|Issue from CSR|Create group|Delete group|Create key)$/;
    for (const [path_, ready] of [
      ['/cas/e2e-sub', 'E2E Issuing CA'],
      [`/certificates`, 'Certificates'],
      ['/dms/line-7', 'DMS line-7'],
      ['/dms', 'DMSs'],
      ['/devices/device-42', 'device-42'],
      ['/profiles', 'Issuance profiles'],
      ['/alerts', 'Alerts'],
      ['/device-groups', 'Device groups'],
      ['/keys', 'KMS keys'],
    ] as const) {
      await page.goto(url(path_));
      await page.getByRole('heading', { name: ready }).first().waitFor();
      await page.waitForLoadState('networkidle');
      assert.equal(await page.getByRole('button', { name: writes }).count(), 0, `no write button on ${path_}`);
    }
    await page.goto(url(`/certificates/${serial}`));
    await page.getByTestId('serial').waitFor();
    assert.equal(await page.getByRole('button', { name: writes }).count(), 0, 'no write button on a certificate');
    await shot(page, 'viewer-certificate');

    // A 390-wide phone: the menu folds away and no screen is wider than the display.
    await page.setViewportSize({ width: 390, height: 844 });
    for (const p of ['/', '/cas/e2e-sub', '/certificates', `/certificates/${serial}`, '/dms/line-7', '/devices', '/devices/device-42', '/alerts', '/device-groups', '/keys']) {
      await page.goto(url(p));
      await page.waitForLoadState('networkidle');
      const width = (await page.evaluate('document.documentElement.scrollWidth')) as number;
      assert.ok(width <= 390, `${p} is ${width} px wide on a 390 px phone`);
    }
    await page.getByRole('button', { name: 'Menu' }).click();
    await page.getByRole('link', { name: 'Certificates' }).click();
    await page.getByRole('heading', { name: 'Certificates' }).waitFor();
    await shot(page, 'phone-certificates');
    await page.context().close();
  });
});
