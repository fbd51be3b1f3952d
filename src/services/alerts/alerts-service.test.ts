/**
 * The alerts service end to end below HTTP, on SQLite and PostgreSQL: events from the bus become deliveries
 * over real channels (an SMTP server with STARTTLS and AUTH, local HTTP endpoints), once each, retried and
 * logged when an endpoint fails, without a dead endpoint holding up the others.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import type { AlertsConfig } from '../../config/config-schema.ts';
import type { Delivery } from '../../domain/alerts/delivery.ts';
import { isDomainError } from '../../domain/errors.ts';
import { systemClock } from '../../domain/ports/clock.ts';
import type { CloudEvent } from '../../domain/ports/event-bus.ts';
import { silentLogger } from '../../domain/ports/logger.ts';
import { MemoryEventBus } from '../../engines/eventbus/memory-event-bus.ts';
import { startAlerts } from '../../http/alerts/alerts-plugin.ts';
import { startHttpReceiver, type HttpReceiver } from '../../../test/support/http-receiver.ts';
import { startSmtpTestServer, type SmtpTestServer } from '../../../test/support/smtp-test-server.ts';
import { forEachStorage } from '../../../test/support/storage.ts';
import { EventConditionCompiler } from '../../engines/conditions/event-conditions.ts';
import { AlertsService } from './alerts-service.ts';

const random = { uuid: () => randomUUID(), bytes: (n: number) => new Uint8Array(Buffer.from(randomUUID().replace(/-/g, '').repeat(4), 'hex').subarray(0, n)) };
const admin = { subject: 'root', admin: true };
const alice = { subject: 'alice', admin: false };

const revocation = (serial: string): CloudEvent => ({
  specversion: '1.0',
  id: randomUUID(),
  source: 'lamassu/ca',
  type: 'certificate.status.update',
  time: new Date().toISOString(),
  subject: serial,
  datacontenttype: 'application/json',
  data: { serial_number: serial, status: 'REVOKED', previous_status: 'ACTIVE', revocation_reason: 'KeyCompromise' },
  actor: 'root',
});

const statusIs = (status: string) => ({ type: 'JSON-SCHEMA' as const, condition: JSON.stringify({ properties: { data: { properties: { status: { const: status } } } } }) });

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

forEachStorage('alerts service', (ctx) => {
  let smtp: SmtpTestServer;
  let ok: HttpReceiver;
  let teams: HttpReceiver;
  let unmatched: HttpReceiver;
  let failing: HttpReceiver;
  let dead: HttpReceiver;
  let settings: AlertsConfig;
  before(async () => {
    smtp = await startSmtpTestServer();
    ok = await startHttpReceiver();
    teams = await startHttpReceiver();
    unmatched = await startHttpReceiver();
    failing = await startHttpReceiver(() => ({ status: 503 }));
    dead = await startHttpReceiver(() => 'hang');
    settings = {
      smtp: { host: smtp.host, port: smtp.port, security: 'starttls', username: smtp.username, password: smtp.password, from: 'pki@example.test', caFile: smtp.caFile },
      maxAttempts: 3,
      retryBaseMs: 100,
      retryMaxMs: 1000,
      sendTimeoutMs: 5000,
      retentionMs: 86_400_000,
    };
  });
  after(async () => {
    for (const r of [ok, teams, unmatched, failing, dead]) await r?.close();
    await smtp?.close();
  });

  const start = (events = new MemoryEventBus(silentLogger)) =>
    startAlerts({ storage: ctx.storage, events, clock: systemClock, random, logger: silentLogger, config: { alerts: settings } }, { pollMs: 100 }).then((a) => ({ ...a, events }));

  const removeAll = async () => {
    for (const s of await ctx.storage.alerts.listSubscriptions()) await ctx.storage.alerts.deleteSubscription(s.id);
  };
  const webhook = (url: string) => ({ type: 'WEBHOOK', name: 'hook', config: { webhook_url: url, webhook_method: 'POST' } });
  const logOf = (alerts: AlertsService, id: string) => alerts.deliveries(admin, id, 100);

  it('a revocation reaches the webhook within 1 s, the email and the Teams card once each; a non-matching subscription gets nothing; a failing webhook is retried, logged, and holds up nobody', { timeout: 30_000 }, async () => {
    const { alerts, events, close } = await start();
    try {
      const onRevoked = { eventType: 'certificate.status.update', conditions: [statusIs('REVOKED')] };
      const hook = await alerts.subscribe(alice, 'alice', { ...onRevoked, channel: webhook(ok.url) });
      const mail = await alerts.subscribe(alice, 'alice', { ...onRevoked, channel: { type: 'EMAIL', name: 'mail', config: { email: 'alice@example.test' } } });
      const card = await alerts.subscribe(alice, 'alice', { eventType: 'certificate.#', conditions: [], channel: { type: 'MSTEAMS', name: 'pki', config: { webhook_url: teams.url } } });
      const never = await alerts.subscribe(alice, 'alice', { eventType: 'certificate.#', conditions: [statusIs('EXPIRED'), { type: 'JSON-PATH', condition: '$.data.expired_at' }], conditionMode: 'any', channel: webhook(unmatched.url) });
      const broken = await alerts.subscribe(alice, 'alice', { ...onRevoked, channel: webhook(failing.url) });
      const hanging = await alerts.subscribe(alice, 'alice', { ...onRevoked, channel: webhook(dead.url) });

      const before = { ok: ok.received.length, teams: teams.received.length, mails: smtp.received.length };
      const event = revocation('0a0b');
      const publishedAt = Date.now();
      await events.publish([event]);

      const [hookGot] = (await ok.waitFor(before.ok + 1, 1000)).slice(before.ok);
      assert.ok(hookGot.at - publishedAt < 1000, `webhook after ${hookGot.at - publishedAt} ms`);
      assert.deepEqual(JSON.parse(hookGot.body), event);
      const [cardGot] = (await teams.waitFor(before.teams + 1, 1000)).slice(before.teams);
      assert.ok(cardGot.at - publishedAt < 1000, `card after ${cardGot.at - publishedAt} ms`);
      assert.match(cardGot.body, /Lamassu Event: certificate.status.update/);
      const [mailGot] = (await smtp.waitFor(before.mails + 1, 2500)).slice(before.mails);
      // Not behind the hanging endpoint (its sends take the 5 s timeout) nor the failing one's retries.
      assert.ok(mailGot.at - publishedAt < 2500, `email after ${mailGot.at - publishedAt} ms, while a webhook hangs and another fails`);
      assert.deepEqual(mailGot.to, ['alice@example.test']);
      assert.equal(mailGot.secure, true);

      // The bus delivers at least once: the same event again changes nothing.
      await events.publish([event]);
      await alerts.handleEvent(event);

      const failed = await until('the failing webhook to be given up', async () => {
        const [d] = await logOf(alerts, broken.id);
        return d?.status === 'failed' ? d : undefined;
      });
      assert.equal(failed.attempts, 3);
      assert.equal(failed.lastError, 'HTTP 503 Service Unavailable');
      assert.equal(failed.eventId, event.id);
      assert.equal(failing.received.filter((r) => JSON.parse(r.body).id === event.id).length, 3, 'three attempts reached the endpoint');

      assert.equal(ok.received.length, before.ok + 1, 'webhook once');
      assert.equal(teams.received.length, before.teams + 1, 'card once');
      assert.equal(smtp.received.length, before.mails + 1, 'email once');
      assert.equal(unmatched.received.length, 0);
      assert.deepEqual(await logOf(alerts, never.id), []);
      for (const s of [hook, mail, card]) {
        // The receiver has it before the sender hears the answer and records it.
        const log: Delivery[] = await until(`${s.channel.type} recorded`, async () => {
          const l = await logOf(alerts, s.id);
          return l.every((d) => d.status === 'delivered') ? l : undefined;
        });
        assert.deepEqual(log.map((d) => [d.status, d.attempts, d.lastError]), [['delivered', 1, null]], s.channel.type);
      }
      // The hanging endpoint is still being waited for (or retried): it never held up the others.
      assert.ok(dead.received.length >= 1);
      const [h] = await logOf(alerts, hanging.id);
      assert.notEqual(h.status, 'delivered');

      const latest = (await alerts.latestEvents()).find((l) => l.eventType === 'certificate.status.update')!;
      assert.equal(latest.event.id, event.id);
      assert.equal(latest.count, 1, 'counted once');
    } finally {
      await close();
      await removeAll();
    }
  });

  it('events handled at once share transactions, each queued once; an event the database refuses fails alone', async () => {
    let transactions = 0;
    const poison = revocation('bad');
    const service = new AlertsService({
      alerts: ctx.storage.alerts,
      transaction: (fn) => {
        transactions++;
        return ctx.storage.transaction(async (tx) => {
          const recording = tx.alerts.recordEvents.bind(tx.alerts);
          // A database refusal of one event, as a constraint or encoding error would be.
          return fn(Object.assign(Object.create(tx.alerts), { recordEvents: (events: CloudEvent[], at: Date) => (events.some((e) => e.id === poison.id) ? Promise.reject(new Error('refused')) : recording(events, at)) }));
        });
      },
      conditions: new EventConditionCompiler(),
      notifiers: { WEBHOOK: { send: async () => undefined }, EMAIL: undefined, MSTEAMS: undefined },
      clock: systemClock,
      random,
      logger: silentLogger,
    });
    const s = await service.subscribe(admin, 'batch', { eventType: 'certificate.#', conditions: [], channel: webhook(ok.url) });
    try {
      const burst = Array.from({ length: 200 }, (_, i) => revocation(`bb${i}`));
      const queued = await Promise.all([...burst, ...burst.slice(0, 50)].map((e) => service.handleEvent(e)));
      assert.deepEqual(queued, [...burst.map(() => 1), ...burst.slice(0, 50).map(() => 0)], 'each new event queued once; a repeat queues nothing');
      assert.ok(transactions <= 5, `${transactions} transactions for 250 events`);
      // One refused event among others: it fails, the others are recorded.
      const others = Array.from({ length: 10 }, (_, i) => revocation(`cc${i}`));
      const outcomes = await Promise.allSettled([...others.slice(0, 5), poison, ...others.slice(5)].map((e) => service.handleEvent(e)));
      assert.deepEqual(outcomes.map((o) => (o.status === 'fulfilled' ? o.value : 'refused')), [1, 1, 1, 1, 1, 'refused', 1, 1, 1, 1, 1]);
      const log = await ctx.storage.alerts.listDeliveries(s.id, 1000);
      assert.equal(log.length, 210);
      assert.deepEqual(new Set(log.map((d) => d.eventId)), new Set([...burst, ...others].map((e) => e.id)));
    } finally {
      await removeAll();
    }
  });

  it('events published together on the in-process bus are recorded in shared transactions', async () => {
    let transactions = 0;
    const service = new AlertsService({
      alerts: ctx.storage.alerts,
      transaction: (fn) => {
        transactions++;
        return ctx.storage.transaction((tx) => fn(tx.alerts));
      },
      conditions: new EventConditionCompiler(),
      notifiers: { WEBHOOK: { send: async () => undefined }, EMAIL: undefined, MSTEAMS: undefined },
      clock: systemClock,
      random,
      logger: silentLogger,
    });
    const bus = new MemoryEventBus(silentLogger);
    const s = await service.subscribe(admin, 'in-process', { eventType: 'certificate.#', conditions: [], channel: webhook(ok.url) });
    const unfollow = await service.follow(bus);
    try {
      const before = transactions;
      const burst = Array.from({ length: 200 }, (_, i) => revocation(`ip${i}`));
      await bus.publish(burst);
      await bus.idle();
      // One at a time (the bus's default for a subscription) would be one transaction per event.
      assert.ok(transactions - before <= 10, `${transactions - before} transactions for 200 events`);
      assert.equal((await ctx.storage.alerts.listDeliveries(s.id, 1000)).length, 200);
    } finally {
      await unfollow();
      await bus.close();
      await removeAll();
    }
  });

  it('deliveries left by a stopped process are sent by the next one; two replicas send each exactly once', { timeout: 30_000 }, async () => {
    const first = await start();
    const receiver = await startHttpReceiver(() => ({ status: 200, delayMs: 5 }));
    try {
      const s = await first.alerts.subscribe(admin, 'ops', { eventType: 'certificate.#', conditions: [], channel: webhook(receiver.url) });
      await first.loop.stop();
      const burst = Array.from({ length: 40 }, (_, i) => revocation(`ff${i}`));
      for (const e of burst) await first.alerts.handleEvent(e);
      await first.close();
      assert.equal(receiver.received.length, 0, 'nothing sent while stopped');
      assert.equal((await logOf(first.alerts, s.id)).filter((d) => d.status === 'pending').length, 40);

      // Two replicas on the same database pick the rows up; claims keep them from sending one twice.
      const [a, b] = [await start(), await start()];
      try {
        await receiver.waitFor(40, 10_000);
        await until('every delivery to be recorded as delivered', async () =>
          (await logOf(a.alerts, s.id)).every((d) => d.status === 'delivered') ? true : undefined,
        );
        await new Promise((r) => setTimeout(r, 300));
        const ids = receiver.received.map((r) => JSON.parse(r.body).id as string);
        assert.equal(ids.length, 40, 'no duplicates');
        assert.deepEqual(new Set(ids), new Set(burst.map((e) => e.id)));
      } finally {
        await a.close();
        await b.close();
      }
    } finally {
      await receiver.close();
      await removeAll();
    }
  });

  it('a backlog on a dead endpoint does not hide the rows of other subscriptions', { timeout: 30_000 }, async () => {
    const first = await start();
    try {
      const deadSub = await first.alerts.subscribe(admin, 'ops', { eventType: 'certificate.#', conditions: [], channel: webhook(dead.url) });
      await first.alerts.subscribe(admin, 'ops', { eventType: 'ca.#', conditions: [], channel: webhook(ok.url) });
      await first.close();
      // 300 older rows for the dead endpoint, all due, then one for a working one.
      const backlog = Array.from({ length: 300 }, (_, i) => revocation(`dd${i}`));
      const created = new Date(Date.now() - 60_000);
      await ctx.storage.transaction(async (tx) => {
        for (const e of backlog) await tx.alerts.recordEvent(e, created);
        await tx.alerts.insertDeliveries(backlog.map((e) => ({ id: randomUUID(), subscriptionId: deadSub.id, eventId: e.id, eventType: e.type, channelType: 'WEBHOOK' as const, createdAt: created })));
      });
      const before = ok.received.length;
      const { events, close } = await start();
      try {
        const caEvent = { ...revocation('ca'), type: 'ca.create' };
        const publishedAt = Date.now();
        await events.publish([caEvent]);
        const [got] = (await ok.waitFor(before + 1, 2000)).slice(before);
        assert.equal(JSON.parse(got.body).id, caEvent.id);
        assert.ok(got.at - publishedAt < 1000, `after ${got.at - publishedAt} ms`);
        // The dead endpoint is being tried meanwhile (its sends hang): 8 at once, however loaded the machine.
        assert.ok((await dead.waitFor(8, 10_000)).length >= 8, 'the dead endpoint is being tried meanwhile');
      } finally {
        await close();
      }
    } finally {
      await removeAll();
    }
  });

  it('users see and change their own subscriptions only; admins everyone\'s', async () => {
    const { alerts, close } = await start();
    try {
      const mine = await alerts.subscribe(alice, 'alice', { eventType: 'ca.*', conditions: [], channel: webhook(ok.url) });
      assert.match(mine.secret ?? '', /^[0-9a-f]{64}$/);
      const bobs = await alerts.subscribe(admin, 'bob', { eventType: 'ca.*', conditions: [], channel: webhook(ok.url) });
      const code = async (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (isDomainError(e) ? e.code : String(e)));
      assert.equal(await code(alerts.listSubscriptions(alice, 'bob')), 'ALERT_USER_FORBIDDEN');
      assert.equal(await code(alerts.subscribe(alice, 'bob', { eventType: 'ca.*', conditions: [], channel: webhook(ok.url) })), 'ALERT_USER_FORBIDDEN');
      assert.equal(await code(alerts.deliveries(alice, bobs.id, 10)), 'ALERT_SUBSCRIPTION_NOT_FOUND');
      assert.equal(await code(alerts.test(alice, bobs.id)), 'ALERT_SUBSCRIPTION_NOT_FOUND');
      assert.equal(await code(alerts.unsubscribe(alice, 'alice', bobs.id)), 'ALERT_SUBSCRIPTION_NOT_FOUND');
      assert.deepEqual((await alerts.listSubscriptions(alice, 'alice')).map((s) => s.id), [mine.id]);
      assert.deepEqual((await alerts.listSubscriptions(admin, 'bob')).map((s) => s.id), [bobs.id]);
      await alerts.unsubscribe(admin, 'bob', bobs.id);
      await alerts.unsubscribe(alice, 'alice', mine.id);
      assert.deepEqual(await alerts.listSubscriptions(admin, 'bob'), []);
    } finally {
      await close();
      await removeAll();
    }
  });

  it('refuses bad subscriptions naming the fault, and sends a sample on request', async () => {
    const { alerts, close } = await start();
    try {
      const code = async (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (isDomainError(e) ? `${e.code}: ${e.message}` : String(e)));
      assert.match(await code(alerts.subscribe(alice, 'alice', { eventType: 'certificate.*', conditions: [{ type: 'JSON-PATH', condition: '$.data[?(@.x)]' }], channel: webhook(ok.url) })), /^ALERT_CONDITION_INVALID: conditions\[0\] \(JSON-PATH\)/);
      assert.match(await code(alerts.subscribe(alice, 'alice', { eventType: 'certificate..x', conditions: [], channel: webhook(ok.url) })), /^ALERT_EVENT_TYPE_INVALID/);
      assert.match(await code(alerts.subscribe(alice, 'alice', { eventType: '#', conditions: [], channel: { type: 'WEBHOOK', config: { webhook_url: 'ftp://x' } } })), /^ALERT_CHANNEL_INVALID: channel.config.webhook_url must be an http\(s\) URL/);
      assert.match(await code(alerts.subscribe(alice, 'alice', { eventType: '#', conditions: [], channel: { type: 'SMS', config: {} } })), /^ALERT_CHANNEL_INVALID/);
      assert.deepEqual(await alerts.listSubscriptions(alice, 'alice'), []);

      const s = await alerts.subscribe(alice, 'alice', { eventType: '#', conditions: [], channel: { type: 'MSTEAMS', name: 't', config: { webhook_url: teams.url } } });
      const before = teams.received.length;
      assert.deepEqual(await alerts.test(alice, s.id), { delivered: true });
      assert.match(teams.received[before].body, /alerts\.test/);
      const f = await alerts.subscribe(alice, 'alice', { eventType: '#', conditions: [], channel: webhook(failing.url) });
      assert.deepEqual(await alerts.test(alice, f.id), { delivered: false, error: 'HTTP 503 Service Unavailable' });
      assert.deepEqual(await logOf(alerts, s.id), [], 'a test send is not in the delivery log');
      for (const x of [s, f]) await alerts.unsubscribe(alice, 'alice', x.id);
    } finally {
      await close();
      await removeAll();
    }
  });

  it('refuses EMAIL subscriptions when no SMTP server is configured', async () => {
    const { smtp: _ignored, ...noSmtp } = settings;
    const a = await startAlerts({ storage: ctx.storage, events: new MemoryEventBus(silentLogger), clock: systemClock, random, logger: silentLogger, config: { alerts: noSmtp } });
    try {
      await assert.rejects(
        a.alerts.subscribe(alice, 'alice', { eventType: '#', conditions: [], channel: { type: 'EMAIL', config: { email: 'a@example.test' } } }),
        (e) => isDomainError(e) && e.code === 'ALERT_CHANNEL_UNAVAILABLE',
      );
    } finally {
      await a.close();
    }
  });
});
