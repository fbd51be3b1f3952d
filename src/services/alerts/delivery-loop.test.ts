/** The delivery loop on SQLite and PostgreSQL: a claim that runs out while its send is still going does not make this process send the row twice. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { it } from 'node:test';
import { systemClock } from '../../domain/ports/clock.ts';
import { silentLogger } from '../../domain/ports/logger.ts';
import { WebhookNotifier } from '../../engines/notify/webhook-notifier.ts';
import { startHttpReceiver } from '../../../test/support/http-receiver.ts';
import { forEachStorage } from '../../../test/support/storage.ts';
import { DeliveryLoop } from './delivery-loop.ts';

forEachStorage('alert delivery loop', (ctx) => {
  it('a row whose claim ran out during its (slow) send is not taken again by the same process: one request', { timeout: 20_000 }, async () => {
    // Answers after 600 ms; the claim lasts 100 ms and the loop looks at the table every 20 ms.
    const receiver = await startHttpReceiver(() => ({ status: 200, delayMs: 600 }));
    const worker = randomUUID();
    const transaction: ConstructorParameters<typeof DeliveryLoop>[0]['transaction'] = (fn) => ctx.storage.transaction((tx) => fn(tx.alerts));
    const loop = new DeliveryLoop({
      alerts: ctx.storage.alerts,
      transaction,
      notifiers: { WEBHOOK: new WebhookNotifier({ timeoutMs: 5000 }), EMAIL: undefined, MSTEAMS: undefined },
      clock: systemClock,
      logger: silentLogger,
      worker,
      retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1000 },
      claimMs: 100,
      pollMs: 20,
      perChannel: 8,
      perSubscription: 8,
      retentionMs: 86_400_000,
      pruneEveryMs: 3_600_000,
    });
    const now = new Date();
    const subscription = {
      id: randomUUID(),
      userId: 'ops',
      eventType: '#',
      conditions: [],
      conditionMode: 'any' as const,
      channel: { type: 'WEBHOOK' as const, name: 'slow', config: { webhook_url: receiver.url, webhook_method: 'POST' as const } },
      secret: null,
      createdAt: now,
    };
    const event = { specversion: '1.0' as const, id: randomUUID(), source: 'test', type: 'certificate.status.update', time: now.toISOString(), data: {} };
    try {
      await ctx.storage.alerts.insertSubscription(subscription);
      await ctx.storage.transaction(async (tx) => {
        await tx.alerts.recordEvents([event], now);
        await tx.alerts.insertDeliveries([{ id: randomUUID(), subscriptionId: subscription.id, eventId: event.id, eventType: event.type, channelType: 'WEBHOOK', createdAt: now }]);
      });
      loop.start();
      await receiver.waitFor(1, 5000);
      let log = await ctx.storage.alerts.listDeliveries(subscription.id, 10);
      for (const until = Date.now() + 5000; log[0]?.status !== 'delivered' && Date.now() < until; ) {
        await new Promise((r) => setTimeout(r, 20));
        log = await ctx.storage.alerts.listDeliveries(subscription.id, 10);
      }
      // A few more looks at the table: the delivered row is not due any more.
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(receiver.received.length, 1, 'sent once although its claim ran out during the send');
      assert.deepEqual(log.map((d) => [d.status, d.attempts]), [['delivered', 1]]);
    } finally {
      await loop.stop();
      await receiver.close();
      await ctx.storage.alerts.deleteSubscription(subscription.id);
    }
  });
  it('claims ahead of its send slots, and at stop gives back the claimed rows it did not send (due again, attempt not counted)', { timeout: 20_000 }, async () => {
    const receiver = await startHttpReceiver(() => ({ status: 200, delayMs: 300 }));
    const worker = randomUUID();
    const loop = new DeliveryLoop({
      alerts: ctx.storage.alerts,
      transaction: (fn) => ctx.storage.transaction((tx) => fn(tx.alerts)),
      notifiers: { WEBHOOK: new WebhookNotifier({ timeoutMs: 5000 }), EMAIL: undefined, MSTEAMS: undefined },
      clock: systemClock,
      logger: silentLogger,
      worker,
      retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1000 },
      claimMs: 60_000,
      pollMs: 20,
      perChannel: 8,
      perSubscription: 2,
      retentionMs: 86_400_000,
      pruneEveryMs: 3_600_000,
    });
    const now = new Date();
    const subscription = {
      id: randomUUID(),
      userId: 'ops',
      eventType: '#',
      conditions: [],
      conditionMode: 'any' as const,
      channel: { type: 'WEBHOOK' as const, name: 'slow', config: { webhook_url: receiver.url, webhook_method: 'POST' as const } },
      secret: null,
      createdAt: now,
    };
    const events = Array.from({ length: 20 }, () => ({ specversion: '1.0' as const, id: randomUUID(), source: 'test', type: 'certificate.status.update', time: now.toISOString(), data: {} }));
    try {
      await ctx.storage.alerts.insertSubscription(subscription);
      await ctx.storage.transaction(async (tx) => {
        await tx.alerts.recordEvents(events, now);
        await tx.alerts.insertDeliveries(events.map((e) => ({ id: randomUUID(), subscriptionId: subscription.id, eventId: e.id, eventType: e.type, channelType: 'WEBHOOK' as const, createdAt: now })));
      });
      loop.start();
      await receiver.waitFor(2, 5000);
      // Two sends in flight, and rows claimed ahead for the next ones (up to four rounds of the slots).
      const during = await ctx.storage.alerts.listDeliveries(subscription.id, 100);
      assert.ok(during.filter((d) => d.status === 'sending').length > 2, `claimed ahead: ${JSON.stringify(during.map((d) => d.status))}`);
      await loop.stop();
      const after = await ctx.storage.alerts.listDeliveries(subscription.id, 100);
      const delivered = after.filter((d) => d.status === 'delivered');
      assert.equal(delivered.length, receiver.received.length, 'every request sent is recorded as delivered');
      assert.ok(delivered.every((d) => d.attempts === 1));
      const rest = after.filter((d) => d.status !== 'delivered');
      assert.equal(rest.length, 20 - delivered.length);
      assert.ok(rest.every((d) => d.status === 'pending' && d.attempts === 0 && d.nextAttemptAt.getTime() <= Date.now()), JSON.stringify(rest));
    } finally {
      await loop.stop();
      await receiver.close();
      await ctx.storage.alerts.deleteSubscription(subscription.id);
    }
  });
});
