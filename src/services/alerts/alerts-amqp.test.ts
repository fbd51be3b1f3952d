/**
 * Two alerts replicas on PostgreSQL, each with its own RabbitMQ connection in the shared `alerts` group: a burst
 * of events, each published twice (the outbox relays at least once), gives one delivery per event.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { systemClock } from '../../domain/ports/clock.ts';
import type { CloudEvent } from '../../domain/ports/event-bus.ts';
import { silentLogger } from '../../domain/ports/logger.ts';
import { AmqpEventBus } from '../../engines/eventbus/amqp-event-bus.ts';
import { startAlerts } from '../../http/alerts/alerts-plugin.ts';
import { removeTestTopology } from '../../../test/support/amqp-topology.ts';
import { startHttpReceiver, type HttpReceiver } from '../../../test/support/http-receiver.ts';
import { amqpUrl, needPostgres, needRabbitMq } from '../../../test/support/services.ts';
import { openTestStorage } from '../../../test/support/storage.ts';
import { ALERTS_CONSUMER_GROUP } from './alerts-service.ts';

describe('alerts over RabbitMQ, two replicas on PostgreSQL', { timeout: 60_000 }, async () => {
  if (!(await needRabbitMq()) || !(await needPostgres())) {
    it('runs on RabbitMQ and PostgreSQL', { skip: 'SERVICE MISSING' }, () => {});
    return;
  }
  const exchange = `lamassu-test-${randomUUID()}`;
  const queuePrefix = `test-${randomUUID()}`;
  let db: Awaited<ReturnType<typeof openTestStorage>>;
  let receiver: HttpReceiver;
  const buses: AmqpEventBus[] = [];
  const replicas: Awaited<ReturnType<typeof startAlerts>>[] = [];

  before(async () => {
    db = await openTestStorage('postgres');
    receiver = await startHttpReceiver(() => ({ status: 200, delayMs: 2 }));
    for (let i = 0; i < 2; i++) {
      const bus = new AmqpEventBus({ url: amqpUrl(), exchange, queuePrefix, logger: silentLogger });
      await bus.connect();
      buses.push(bus);
      const settings = { maxAttempts: 3, retryBaseMs: 100, retryMaxMs: 1000, sendTimeoutMs: 3000, retentionMs: 86_400_000 };
      replicas.push(await startAlerts({ storage: db.storage, events: bus, clock: systemClock, random: { uuid: () => randomUUID(), bytes: (n) => new Uint8Array(n) }, logger: silentLogger, config: { alerts: settings } }, { pollMs: 100 }));
    }
  });
  after(async () => {
    for (const r of replicas) await r.close();
    for (const b of buses) await b.close();
    await removeTestTopology({ exchange, queuePrefix, groups: [ALERTS_CONSUMER_GROUP] });
    await receiver?.close();
    await db?.dispose();
  });

  it('delivers each event once although the bus brought it twice', async () => {
    const sub = await replicas[0].alerts.subscribe({ subject: 'ops', admin: true }, 'ops', {
      eventType: 'certificate.#',
      conditions: [{ type: 'JSON-PATH', condition: '$.data.serial_number' }],
      channel: { type: 'WEBHOOK', name: 'hook', config: { webhook_url: receiver.url } },
    });
    const burst: CloudEvent[] = Array.from({ length: 100 }, (_, i) => ({
      specversion: '1.0',
      id: randomUUID(),
      source: 'lamassu/ca',
      type: 'certificate.status.update',
      time: new Date().toISOString(),
      data: { serial_number: `0${i}`, status: 'REVOKED' },
    }));
    // Published twice, through both replicas' connections, interleaved.
    await buses[0].publish(burst.slice(0, 50));
    await buses[1].publish(burst);
    await buses[0].publish(burst.slice(50));
    await receiver.waitFor(100, 20_000);
    const deadline = Date.now() + 20_000;
    while ((await replicas[1].alerts.deliveries({ subject: 'ops', admin: true }, sub.id, 1000)).some((d) => d.status !== 'delivered')) {
      assert.ok(Date.now() < deadline, 'every delivery recorded');
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 300));
    const ids = receiver.received.map((r) => JSON.parse(r.body).id as string);
    assert.equal(ids.length, 100, 'no duplicates');
    assert.deepEqual(new Set(ids), new Set(burst.map((e) => e.id)));
    const log = await replicas[1].alerts.deliveries({ subject: 'ops', admin: true }, sub.id, 1000);
    assert.equal(log.length, 100);
    const latest = (await replicas[0].alerts.latestEvents()).find((l) => l.eventType === 'certificate.status.update');
    assert.equal(latest?.count, 100, 'each event counted once');
  });
});
