import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import amqp from 'amqplib';
import type { CloudEvent } from '../../domain/ports/event-bus.ts';
import { silentLogger } from '../../domain/ports/logger.ts';
import { amqpUrl, needRabbitMq } from '../../../test/support/services.ts';
import { bounded } from '../../../test/support/bounded.ts';
import { AmqpEventBus } from './amqp-event-bus.ts';

const event = (type: string, n: number): CloudEvent => ({
  specversion: '1.0',
  id: randomUUID(),
  source: 'test',
  type,
  time: new Date().toISOString(),
  data: { n },
});

const waitFor = async (cond: () => boolean, ms = 5000) => {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('timed out waiting for events');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('AMQP event bus against real RabbitMQ', async () => {
  if (!(await needRabbitMq())) {
    it('runs on RabbitMQ', { skip: 'SERVICE MISSING: RabbitMQ' }, () => {});
    return;
  }
  // A private exchange and queue prefix per run, so runs never see each other's messages.
  const exchange = `lamassu-test-${randomUUID()}`;
  const queuePrefix = `test-${randomUUID()}`;
  let bus: AmqpEventBus;

  before(async () => {
    bus = new AmqpEventBus({ url: amqpUrl(), exchange, queuePrefix, logger: silentLogger, maxAttempts: 2 });
    await bus.connect();
  });
  after(async () => {
    await bounded('bus.close()', async () => bus?.close());
    await bounded('removing the test topology', async () => {
      const conn = await amqp.connect(amqpUrl());
      const ch = await conn.createChannel();
      for (const q of ['status', 'all', 'flaky']) {
        await ch.deleteQueue(`${queuePrefix}.${q}`);
        await ch.deleteQueue(`${queuePrefix}.${q}.dlq`);
      }
      await ch.deleteQueue(`${exchange}-dlq`);
      await ch.deleteExchange(exchange);
      await ch.deleteExchange(`${exchange}-dlx`);
      await conn.close();
    });
  });

  it('routes by topic pattern to each consumer group once', async () => {
    const status: CloudEvent[] = [];
    const all: CloudEvent[] = [];
    await bus.subscribe('certificate.status.*', 'status', (e) => void status.push(e));
    await bus.subscribe('#', 'all', (e) => void all.push(e));
    const sent = [event('certificate.status.update', 1), event('ca.create', 2), event('certificate.status.update', 3)];
    await bus.publish(sent);
    await waitFor(() => all.length === 3 && status.length === 2);
    assert.deepEqual(status.map((e) => (e.data as { n: number }).n).sort(), [1, 3]);
    assert.deepEqual(all.map((e) => e.id).sort(), sent.map((e) => e.id).sort());
  });

  it("dead-letters a message whose handler keeps failing to its group's dead-letter queue, and keeps consuming others", async () => {
    const seen: number[] = [];
    await bus.subscribe('flaky.#', 'flaky', (e) => {
      const n = (e.data as { n: number }).n;
      seen.push(n);
      if (n === 1) throw new Error('handler failure');
    });
    await bus.publish([event('flaky.x', 1), event('flaky.x', 2)]);
    await waitFor(() => seen.filter((n) => n === 1).length === 2 && seen.includes(2));
    const conn = await amqp.connect(amqpUrl());
    const ch = await conn.createChannel();
    let dead: amqp.GetMessage | false = false;
    for (let i = 0; i < 50 && !dead; i++) {
      dead = await ch.get(`${queuePrefix}.flaky.dlq`, { noAck: true });
      if (!dead) await new Promise((r) => setTimeout(r, 50));
    }
    await conn.close();
    assert.ok(dead, 'the failing message is in the dead-letter queue');
    assert.equal((JSON.parse(dead.content.toString()) as CloudEvent<{ n: number }>).data.n, 1);
    // Why and after how many attempts, for whoever inspects it.
    assert.equal(dead.properties.headers?.['x-lamassu-error'], 'handler failure');
    assert.equal(dead.properties.headers?.['x-lamassu-attempts'], 2);
  });
});
