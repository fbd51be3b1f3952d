/** The alert channels against real peers: an SMTP server with STARTTLS and AUTH, local HTTP endpoints. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DeliveryError } from '../../domain/alerts/delivery.ts';
import type { Subscription } from '../../domain/alerts/subscription.ts';
import type { CloudEvent } from '../../domain/ports/event-bus.ts';
import { startHttpReceiver, type HttpReceiver } from '../../../test/support/http-receiver.ts';
import { startSmtpTestServer, type SmtpTestServer } from '../../../test/support/smtp-test-server.ts';
import { loadEmailTemplates } from './email-templates.ts';
import { MsTeamsNotifier } from './ms-teams-notifier.ts';
import { SmtpNotifier, type SmtpSettings } from './smtp-notifier.ts';
import { webhookSignature, WebhookNotifier } from './webhook-notifier.ts';

const event: CloudEvent = {
  specversion: '1.0',
  id: 'ev-1',
  source: 'lamassu/ca',
  type: 'certificate.status.update',
  time: '2026-12-03T10:00:00.000Z',
  subject: 'cert-1',
  datacontenttype: 'application/json',
  data: { serial_number: '0a:0b', status: 'REVOKED', subject_common_name: '<script>device-1</script>' },
  actor: 'admin',
};

const subscription = (channel: Subscription['channel'], secret: string | null = null): Subscription => ({
  id: 'sub-1',
  userId: 'alice',
  eventType: 'certificate.#',
  conditions: [],
  conditionMode: 'any',
  channel,
  secret,
  createdAt: new Date(),
});

async function deliveryError(p: Promise<unknown>): Promise<DeliveryError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof DeliveryError, `expected a DeliveryError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected the send to fail');
}

describe('EMAIL over SMTP (STARTTLS, AUTH) to a real SMTP server', { timeout: 30_000 }, () => {
  let smtp: SmtpTestServer;
  let settings: SmtpSettings;
  before(async () => {
    smtp = await startSmtpTestServer();
    settings = { host: smtp.host, port: smtp.port, security: 'starttls', username: smtp.username, password: smtp.password, from: 'Lamassu <pki@example.test>', caFile: smtp.caFile };
  });
  after(() => smtp.close());

  it('sends one message with the HTML and text bodies of the default templates, after STARTTLS and AUTH', async () => {
    const notifier = new SmtpNotifier(settings, await loadEmailTemplates(), { timeoutMs: 5000, maxConnections: 2 });
    try {
      await notifier.send(event, subscription({ type: 'EMAIL', name: 'PKI team', config: { email: 'ops@example.test' } }));
      const [got] = await smtp.waitFor(1);
      assert.equal(got.secure, true, 'STARTTLS before the message');
      assert.equal(got.user, smtp.username);
      assert.deepEqual(got.to, ['ops@example.test']);
      assert.equal(got.mail.subject, 'Lamassu Event: certificate.status.update');
      assert.equal(got.mail.from?.value[0]?.address, 'pki@example.test');
      assert.equal(got.mail.headers.get('x-lamassu-event-id'), 'ev-1');
      assert.match(got.mail.text ?? '', /Subject: cert-1/);
      assert.match(got.mail.text ?? '', /status: REVOKED/);
      const html = String(got.mail.html);
      assert.match(html, /<th align="left">status<\/th><td>REVOKED<\/td>/);
      assert.match(html, /&lt;script&gt;device-1&lt;\/script&gt;/, 'event values are escaped in HTML');
      assert.doesNotMatch(html, /<script>/);
      assert.match(html, /PKI team/);
    } finally {
      notifier.close();
    }
  });

  it('takes an operator template from the templates directory, the others from the defaults', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lamassu-templates-'));
    writeFileSync(path.join(dir, 'email-subject.txt'), '[PKI] {{type}} on {{subject}}\n');
    const notifier = new SmtpNotifier(settings, await loadEmailTemplates(dir), { timeoutMs: 5000, maxConnections: 2 });
    try {
      const before = smtp.received.length;
      await notifier.send(event, subscription({ type: 'EMAIL', name: '', config: { email: 'ops@example.test' } }));
      const got = (await smtp.waitFor(before + 1))[before];
      assert.equal(got.mail.subject, '[PKI] certificate.status.update on cert-1');
      assert.match(String(got.mail.html), /Lamassu event <code>certificate\.status\.update<\/code>/);
    } finally {
      notifier.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports an SMTP 4xx as worth a retry and a 5xx as final', async () => {
    const notifier = new SmtpNotifier(settings, await loadEmailTemplates(), { timeoutMs: 5000, maxConnections: 1 });
    try {
      const sub = subscription({ type: 'EMAIL', name: '', config: { email: 'ops@example.test' } });
      smtp.refuseNext(1, 451);
      const soft = await deliveryError(notifier.send(event, sub));
      assert.equal(soft.retryable, true);
      assert.match(soft.message, /SMTP 451/);
      smtp.refuseNext(1, 550);
      const hard = await deliveryError(notifier.send(event, sub));
      assert.equal(hard.retryable, false);
      assert.match(hard.message, /SMTP 550/);
    } finally {
      notifier.close();
    }
  });

  it('refuses to send without TLS when STARTTLS is required and the certificate is not trusted', async () => {
    const notifier = new SmtpNotifier({ ...settings, caFile: undefined }, await loadEmailTemplates(), { timeoutMs: 5000, maxConnections: 1 });
    try {
      const before = smtp.received.length;
      const e = await deliveryError(notifier.send(event, subscription({ type: 'EMAIL', name: '', config: { email: 'ops@example.test' } })));
      assert.equal(e.retryable, true);
      assert.equal(smtp.received.length, before);
    } finally {
      notifier.close();
    }
  });
});

describe('WEBHOOK and MSTEAMS to local HTTP endpoints', { timeout: 30_000 }, () => {
  let receiver: HttpReceiver;
  before(async () => {
    receiver = await startHttpReceiver();
  });
  after(() => receiver.close());

  it('posts the CloudEvent in structured mode with an HMAC-SHA256 signature the receiver can check', async () => {
    const secret = 'ab'.repeat(32);
    receiver.respond = () => ({ status: 204 });
    await new WebhookNotifier({ timeoutMs: 2000 }).send(event, subscription({ type: 'WEBHOOK', name: '', config: { webhook_url: receiver.url, webhook_method: 'PUT' } }, secret));
    const got = receiver.received.at(-1)!;
    assert.equal(got.method, 'PUT');
    assert.equal(got.headers['content-type'], 'application/cloudevents+json; charset=utf-8');
    assert.deepEqual(JSON.parse(got.body), event);
    const ts = got.headers['x-lamassu-timestamp'] as string;
    assert.match(ts, /^\d+$/);
    assert.equal(got.headers['x-lamassu-signature'], webhookSignature(secret, ts, got.body));
    assert.notEqual(got.headers['x-lamassu-signature'], webhookSignature('cd'.repeat(32), ts, got.body));
  });

  it('tells a 5xx, a 429 and a timeout (retry) from a 4xx (final)', async () => {
    const notifier = new WebhookNotifier({ timeoutMs: 300 });
    const sub = subscription({ type: 'WEBHOOK', name: '', config: { webhook_url: receiver.url, webhook_method: 'POST' } });
    for (const [status, retryable] of [[503, true], [429, true], [404, false], [400, false]] as const) {
      receiver.respond = () => ({ status });
      const e = await deliveryError(notifier.send(event, sub));
      assert.equal(e.retryable, retryable, `HTTP ${status}`);
      assert.match(e.message, new RegExp(`HTTP ${status}`));
    }
    receiver.respond = () => 'hang';
    const slow = await deliveryError(notifier.send(event, sub));
    assert.equal(slow.retryable, true);
    assert.match(slow.message, /no answer within 300 ms/);
  });

  it('posts an Adaptive Card with the event facts to Teams', async () => {
    receiver.respond = () => ({ status: 200 });
    await new MsTeamsNotifier({ timeoutMs: 2000 }).send(event, subscription({ type: 'MSTEAMS', name: 'PKI channel', config: { webhook_url: receiver.url } }));
    const got = receiver.received.at(-1)!;
    assert.equal(got.headers['content-type'], 'application/json');
    const card = JSON.parse(got.body);
    assert.equal(card.type, 'message');
    const content = card.attachments[0].content;
    assert.equal(card.attachments[0].contentType, 'application/vnd.microsoft.card.adaptive');
    assert.equal(content.type, 'AdaptiveCard');
    assert.equal(content.body[0].text, 'Lamassu Event: certificate.status.update');
    const facts = content.body.find((b: { type: string }) => b.type === 'FactSet').facts as { title: string; value: string }[];
    assert.deepEqual(facts.find((f) => f.title === 'status'), { title: 'status', value: 'REVOKED' });
    assert.deepEqual(facts.find((f) => f.title === 'Subject'), { title: 'Subject', value: 'cert-1' });
  });
});
