/**
 * Black-box alerts: the real `lamassu serve` (SQLite, in-process bus) with the ca and alerts services, a real
 * SMTP server (STARTTLS, AUTH), local webhook and Teams endpoints, curl as the API client, openssl for the CSR.
 * Revoking a certificate reaches the webhook within 1 s, the mailbox and Teams once each; a subscription whose
 * condition does not match gets nothing; a failing webhook is retried and logged; a delivery left pending by
 * a stopped server goes out after the restart.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startHttpReceiver, type HttpReceiver } from '../support/http-receiver.ts';
import { startLamassu, type LamassuProcess } from '../support/lamassu-process.ts';
import { startSmtpTestServer, type SmtpTestServer } from '../support/smtp-test-server.ts';

const run = promisify(execFile);

describe('alerts end to end (lamassu serve, SMTP server, webhook and Teams endpoints)', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lamassu-e2e-alerts-'));
  const dataDir = mkdtempSync(path.join(tmpdir(), 'lamassu-e2e-alerts-data-'));
  let server: LamassuProcess | undefined;
  let smtp: SmtpTestServer;
  let hook: HttpReceiver;
  let teams: HttpReceiver;
  let unmatched: HttpReceiver;
  let failing: HttpReceiver;
  let later: HttpReceiver;
  let env: Record<string, string>;

  before(async () => {
    smtp = await startSmtpTestServer();
    hook = await startHttpReceiver();
    teams = await startHttpReceiver();
    unmatched = await startHttpReceiver();
    failing = await startHttpReceiver(() => ({ status: 500 }));
    // Refuses until the server has restarted.
    later = await startHttpReceiver(() => ({ status: 503 }));
    env = {
      LAMASSU_SERVICES: 'ca,alerts',
      LAMASSU_SMTP_HOST: smtp.host,
      LAMASSU_SMTP_PORT: String(smtp.port),
      LAMASSU_SMTP_USERNAME: smtp.username,
      LAMASSU_SMTP_PASSWORD: smtp.password,
      LAMASSU_SMTP_FROM: 'Lamassu PKI <pki@example.test>',
      LAMASSU_SMTP_CA_FILE: smtp.caFile,
      LAMASSU_ALERTS_MAX_ATTEMPTS: '3',
      LAMASSU_ALERTS_RETRY_BASE: '2s',
    };
    server = await startLamassu(env, { dataDir });
  });
  after(async () => {
    await server?.stop();
    for (const r of [hook, teams, unmatched, failing, later]) await r?.close();
    await smtp?.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  const api = async (method: string, url: string, body?: unknown) => {
    const s = server!;
    const args = ['-sS', '--cacert', s.tlsCaFile, '-X', method, '-H', `Authorization: Bearer ${s.token}`, '-w', '\n%{http_code}'];
    if (body !== undefined) args.push('-H', 'content-type: application/json', '--data-binary', JSON.stringify(body));
    const { stdout } = await run('curl', [...args, `https://127.0.0.1:${s.httpsPort}${url}`]);
    const nl = stdout.lastIndexOf('\n');
    const text = stdout.slice(0, nl);
    return { status: Number(stdout.slice(nl + 1)), text, json: () => JSON.parse(text) };
  };
  const alerts = (method: string, url: string, body?: unknown) => api(method, `/api/alerts/v1${url}`, body);

  async function issueCertificate(caId: string, cn: string): Promise<string> {
    const csr = path.join(dir, `${cn}.csr`);
    await run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(dir, `${cn}.key`), '-out', csr, '-subj', `/CN=${cn}`]);
    const signed = await api('POST', `/api/ca/v1/cas/${caId}/certificates/sign`, { csr: readFileSync(csr).toString('base64') });
    assert.equal(signed.status, 201, signed.text);
    return signed.json().serial_number as string;
  }

  const onRevoked = {
    event_type: 'certificate.status.update',
    conditions: [{ type: 'JSON-SCHEMA', condition: JSON.stringify({ properties: { data: { properties: { status: { const: 'REVOKED' } } } } }) }],
  };

  it('publishes the alerts API in the OpenAPI document and refuses a bad condition with a 400 naming it', async () => {
    const doc = (await api('GET', '/api/docs/json')).json() as { paths: Record<string, unknown> };
    for (const p of ['/api/alerts/v1/events/latest', '/api/alerts/v1/user/{userId}/subscriptions', '/api/alerts/v1/user/{userId}/subscribe', '/api/alerts/v1/user/{userId}/unsubscribe/{subscriptionId}', '/api/alerts/v1/subscriptions/{id}/deliveries', '/api/alerts/v1/subscriptions/{id}/test']) {
      assert.ok(doc.paths[p], `${p} in the OpenAPI document`);
    }
    const bad = await alerts('POST', '/user/ops/subscribe', { event_type: 'certificate.#', conditions: [{ type: 'JSON-PATH', condition: '$.data[?(@.status == "REVOKED")]' }], channel: { type: 'WEBHOOK', name: 'x', config: { webhook_url: hook.url } } });
    assert.equal(bad.status, 400, bad.text);
    assert.equal(bad.json().code, 'ALERT_CONDITION_INVALID');
    assert.match(bad.json().message, /conditions\[0\] \(JSON-PATH\)/);
    const noAuth = await run('curl', ['-sS', '--cacert', server!.tlsCaFile, '-o', '/dev/null', '-w', '%{http_code}', `https://127.0.0.1:${server!.httpsPort}/api/alerts/v1/events/latest`]);
    assert.equal(noAuth.stdout, '401');
  });

  it('a revocation reaches the webhook within 1 s, the mailbox and Teams once each; the unmatched gets nothing; the failing one is retried and logged; a pending one survives a restart', async () => {
    const root = await api('POST', '/api/ca/v1/cas', { subject: { common_name: 'Alerts Root' }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration: '1y' } });
    assert.equal(root.status, 201, root.text);
    const serial = await issueCertificate(root.json().id, 'alert-device');

    const subscribe = async (body: unknown) => {
      const r = await alerts('POST', '/user/ops/subscribe', body);
      assert.equal(r.status, 201, r.text);
      return r.json() as { id: string; webhook_secret?: string };
    };
    const webhook = (url: string) => ({ type: 'WEBHOOK', name: 'hook', config: { webhook_url: url, webhook_method: 'POST' } });
    const hookSub = await subscribe({ ...onRevoked, channel: webhook(hook.url) });
    assert.match(hookSub.webhook_secret ?? '', /^[0-9a-f]{64}$/);
    const mailSub = await subscribe({ ...onRevoked, channel: { type: 'EMAIL', name: 'PKI operators', config: { email: 'ops@example.test' } } });
    const teamsSub = await subscribe({ event_type: 'certificate.#', conditions: [], channel: { type: 'MSTEAMS', name: 'PKI', config: { webhook_url: teams.url } } });
    const unmatchedSub = await subscribe({ event_type: 'certificate.status.update', conditions: [{ type: 'JSON-SCHEMA', condition: JSON.stringify({ properties: { data: { properties: { status: { const: 'EXPIRED' } } } } }) }], channel: webhook(unmatched.url) });
    const failingSub = await subscribe({ ...onRevoked, channel: webhook(failing.url) });
    const laterSub = await subscribe({ ...onRevoked, channel: webhook(later.url) });
    const listed = (await alerts('GET', '/user/ops/subscriptions')).json() as { id: string; webhook_secret?: string }[];
    assert.equal(listed.length, 6);
    assert.ok(listed.every((s) => s.webhook_secret === undefined), 'the secret is shown once, at subscribe time');

    const revokedAt = Date.now();
    const revoked = await api('PUT', `/api/ca/v1/certificates/${serial}/status`, { status: 'REVOKED', revocation_reason: 'KeyCompromise' });
    assert.equal(revoked.status, 200, revoked.text);

    const [got] = await hook.waitFor(1, 1000);
    assert.ok(got.at - revokedAt < 1000, `webhook ${got.at - revokedAt} ms after the revocation`);
    const event = JSON.parse(got.body) as { id: string; type: string; data: { serial_number: string; status: string } };
    assert.equal(got.headers['content-type'], 'application/cloudevents+json; charset=utf-8');
    assert.equal(event.type, 'certificate.status.update');
    assert.equal(event.data.serial_number, serial);
    const { createHmac } = await import('node:crypto');
    const ts = got.headers['x-lamassu-timestamp'] as string;
    assert.equal(got.headers['x-lamassu-signature'], `sha256=${createHmac('sha256', Buffer.from(hookSub.webhook_secret!, 'hex')).update(`${ts}.${got.body}`).digest('hex')}`);

    const [mail] = await smtp.waitFor(1, 3000);
    assert.equal(mail.secure, true);
    assert.deepEqual(mail.to, ['ops@example.test']);
    assert.equal(mail.mail.subject, 'Lamassu Event: certificate.status.update');
    assert.match(String(mail.mail.html), new RegExp(`<td>${serial}</td>`));
    assert.match(mail.mail.text ?? '', /status: REVOKED/);
    const cards = await teams.waitFor(1, 3000);
    const card = JSON.parse(cards.find((c) => c.body.includes(serial))!.body);
    assert.equal(card.attachments[0].content.body[0].text, 'Lamassu Event: certificate.status.update');

    // The failing endpoint: three attempts, 2 s then 4 s apart, then failed, in its log.
    const deliveries = async (id: string) => ((await alerts('GET', `/subscriptions/${id}/deliveries`)).json() as { list: { status: string; attempts: number; last_error: string | null; event_id: string }[] }).list;
    const deadline = Date.now() + 15_000;
    while ((await deliveries(failingSub.id))[0]?.status !== 'failed') {
      assert.ok(Date.now() < deadline, `failing webhook not given up: ${JSON.stringify(await deliveries(failingSub.id))}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const [gaveUp] = await deliveries(failingSub.id);
    assert.deepEqual({ attempts: gaveUp.attempts, last_error: gaveUp.last_error, event_id: gaveUp.event_id }, { attempts: 3, last_error: 'HTTP 500 Internal Server Error', event_id: event.id });
    assert.equal(failing.received.length, 3);

    // Each once, and nothing for the subscription whose condition does not match.
    const revocationsIn = (r: HttpReceiver) => r.received.filter((x) => x.body.includes(serial) && x.body.includes('REVOKED')).length;
    assert.equal(hook.received.length, 1);
    assert.equal(smtp.received.length, 1);
    assert.equal(revocationsIn(teams), 1);
    assert.equal(unmatched.received.length, 0);
    assert.deepEqual(await deliveries(unmatchedSub.id), []);
    for (const id of [hookSub.id, mailSub.id]) assert.deepEqual((await deliveries(id)).map((d) => [d.status, d.attempts]), [['delivered', 1]]);
    assert.equal((await deliveries(teamsSub.id)).every((d) => d.status === 'delivered'), true);

    const latest = (await alerts('GET', '/events/latest')).json() as { event_types: string; counter: number; event: { id: string } }[];
    assert.equal(latest.find((l) => l.event_types === 'certificate.status.update')?.event.id, event.id);

    // The "later" endpoint refused everything (it is retried until 3 attempts): revoke another certificate,
    // stop the server after its first refusal, open the endpoint, restart: the pending delivery goes out.
    const serial2 = await issueCertificate(root.json().id, 'alert-device-2');
    const before = later.received.length;
    assert.equal((await api('PUT', `/api/ca/v1/certificates/${serial2}/status`, { status: 'REVOKED', revocation_reason: 'Superseded' })).status, 200);
    const until = Date.now() + 3000;
    while (!later.received.slice(before).some((r) => r.body.includes(serial2))) {
      assert.ok(Date.now() < until, 'first attempt at the later endpoint');
      await new Promise((r) => setTimeout(r, 20));
    }
    await server!.stop();
    const stoppedAt = Date.now();
    assert.equal(later.received.filter((r) => r.body.includes(serial2)).length, 1, 'one refused attempt before the stop');
    later.respond = () => ({ status: 200 });
    server = await startLamassu(env, { dataDir });
    while (!later.received.some((r) => r.body.includes(serial2) && r.at >= stoppedAt)) {
      assert.ok(Date.now() - stoppedAt < 10_000, `pending delivery sent after the restart: ${JSON.stringify(await deliveries(laterSub.id))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    // The endpoint has it before the server hears the answer and records it.
    let log = await deliveries(laterSub.id);
    while (!log.some((d) => d.event_id !== event.id && d.status === 'delivered')) {
      assert.ok(Date.now() - stoppedAt < 15_000, JSON.stringify(log));
      await new Promise((r) => setTimeout(r, 50));
      log = await deliveries(laterSub.id);
    }
    const second = log.find((d) => d.event_id !== event.id)!;
    assert.equal(second.attempts, 2);
    assert.equal(later.received.filter((r) => r.body.includes(serial2)).length, 2, 'one refused, one delivered: no duplicate');

    const test = await alerts('POST', `/subscriptions/${mailSub.id}/test`);
    assert.deepEqual(test.json(), { delivered: true });
    await smtp.waitFor(2 + 1, 3000).catch(() => undefined);
    assert.ok(smtp.received.some((m) => m.mail.subject === 'Lamassu Event: alerts.test'));

    const remaining = await alerts('POST', `/user/ops/unsubscribe/${hookSub.id}`);
    assert.equal(remaining.status, 200, remaining.text);
    assert.equal((remaining.json() as unknown[]).length, 5);
    assert.equal((await alerts('GET', `/subscriptions/${hookSub.id}/deliveries`)).json().code, 'ALERT_SUBSCRIPTION_NOT_FOUND');
  });
});
