/**
 * RabbitMQ topology per deployment, against the real broker: names derive from one prefix, so two
 * deployments share a vhost; a deployment whose names clash with another's (the older exchange and queue
 * prefix settings) gets a clear refusal naming the setting instead of an amqplib 406; the relay's confirmed
 * publish refuses while the link is down instead of buffering.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import amqp from 'amqplib';
import { isDomainError } from '../../domain/errors.ts';
import type { CloudEvent } from '../../domain/ports/event-bus.ts';
import { silentLogger } from '../../domain/ports/logger.ts';
import { removePrefixTopology, removeTestTopology } from '../../../test/support/amqp-topology.ts';
import { amqpUrl, needRabbitMq } from '../../../test/support/services.ts';
import { TcpProxy } from '../../../test/support/tcp-proxy.ts';
import { AmqpEventBus } from './amqp-event-bus.ts';

const event = (type: string, n: number): CloudEvent => ({ specversion: '1.0', id: randomUUID(), source: 'test', type, time: new Date().toISOString(), data: { n } });

const waitFor = async (cond: () => boolean, ms = 5000) => {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

/** Whether RabbitMQ has these names (a passive declare of a missing one closes the channel with 404). */
async function exists(kind: 'queue' | 'exchange', name: string): Promise<boolean> {
  const conn = await amqp.connect(amqpUrl());
  try {
    const ch = await conn.createChannel();
    ch.on('error', () => undefined);
    await (kind === 'queue' ? ch.checkQueue(name) : ch.checkExchange(name));
    return true;
  } catch {
    return false;
  } finally {
    await conn.close().catch(() => undefined);
  }
}

describe('AMQP topology per deployment (real RabbitMQ)', async () => {
  if (!(await needRabbitMq())) {
    it('runs on RabbitMQ', { skip: 'SERVICE MISSING: RabbitMQ' }, () => {});
    return;
  }

  it('two deployments with their own prefix share the broker: names from the prefix, events stay in their deployment', async () => {
    const [p1, p2] = [`test-a-${randomUUID().slice(0, 8)}`, `test-b-${randomUUID().slice(0, 8)}`];
    const one = new AmqpEventBus({ url: amqpUrl(), prefix: p1, logger: silentLogger });
    const two = new AmqpEventBus({ url: amqpUrl(), prefix: p2, logger: silentLogger });
    try {
      await one.connect();
      await two.connect();
      const got1: CloudEvent[] = [];
      const got2: CloudEvent[] = [];
      // The same group name in both: on one shared prefix these would be one queue with two deployments' events.
      await one.subscribe('#', 'va.crl', (e) => void got1.push(e));
      await two.subscribe('#', 'va.crl', (e) => void got2.push(e));
      assert.deepEqual(one.topology(), { exchange: `${p1}-events`, deadLetterExchange: `${p1}-events-dlx`, deadLetterQueue: `${p1}-events-dlq`, queuePrefix: p1 });
      for (const q of [`${p1}.va.crl`, `${p1}.va.crl.dlq`, `${p2}.va.crl`, `${p2}.va.crl.dlq`]) assert.ok(await exists('queue', q), q);
      for (const x of [`${p1}-events`, `${p2}-events`]) assert.ok(await exists('exchange', x), x);
      await one.publishConfirmed([event('ca.create', 1)]);
      await two.publishConfirmed([event('ca.create', 2)]);
      await waitFor(() => got1.length === 1 && got2.length === 1);
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual([got1.map((e) => (e.data as { n: number }).n), got2.map((e) => (e.data as { n: number }).n)], [[1], [2]]);
    } finally {
      await one.close();
      await two.close();
      await removePrefixTopology(p1, ['va.crl']);
      await removePrefixTopology(p2, ['va.crl']);
    }
  });

  it('names clashing with another deployment (another exchange, same queue prefix) are refused with the setting to change, not a 406 crash', async () => {
    const queuePrefix = `test-q-${randomUUID().slice(0, 8)}`;
    const [x1, x2] = [`test-x1-${randomUUID().slice(0, 8)}`, `test-x2-${randomUUID().slice(0, 8)}`];
    const first = new AmqpEventBus({ url: amqpUrl(), exchange: x1, queuePrefix, logger: silentLogger });
    const second = new AmqpEventBus({ url: amqpUrl(), exchange: x2, queuePrefix, logger: silentLogger, prefixSetting: 'LAMASSU_AMQP_PREFIX' });
    try {
      await first.connect();
      await first.subscribe('#', 'va.crl', () => undefined);
      await second.connect();
      const err = await second.subscribe('#', 'va.crl', () => undefined).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(isDomainError(err), `a domain error, got ${String(err)}`);
      assert.equal(err.code, 'EVENT_BUS_TOPOLOGY_REFUSED');
      assert.equal(err.details?.setting, 'LAMASSU_AMQP_PREFIX');
      assert.match(err.message, /^LAMASSU_AMQP_PREFIX: the message broker refused .*x-dead-letter-exchange.*give each deployment its own LAMASSU_AMQP_PREFIX( \(the exchange and queue prefix settings given here override it[^)]*\))?$/);
      assert.doesNotMatch(err.message, /\n/);
    } finally {
      await first.close();
      await second.close();
      await removeTestTopology({ exchange: x1, queuePrefix, groups: ['va.crl'] });
      await removeTestTopology({ exchange: x2, queuePrefix, groups: [] });
    }
  });

  it('publishConfirmed refuses while the link is down (the outbox keeps the events) and works again once it is back', async () => {
    const prefix = `test-c-${randomUUID().slice(0, 8)}`;
    const target = new URL(amqpUrl());
    const proxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 5672) });
    const bus = new AmqpEventBus({ url: proxy.via(amqpUrl()), prefix, logger: silentLogger, reconnectDelayMs: { initial: 50, max: 200 } });
    const links: boolean[] = [];
    try {
      await bus.connect();
      bus.onLinkChange((up) => links.push(up));
      const got: CloudEvent[] = [];
      await bus.subscribe('#', 'g', (e) => void got.push(e));
      await proxy.refuseFor(1500);
      await waitFor(() => links.includes(false));
      await assert.rejects(bus.publishConfirmed([event('x.y', 1)]), (e: unknown) => isDomainError(e) && e.code === 'EVENT_BUS_UNAVAILABLE');
      assert.equal(bus.state().bufferedEvents, 0, 'nothing buffered in memory: the caller keeps it');
      await waitFor(() => links.at(-1) === true, 10_000);
      await bus.publishConfirmed([event('x.y', 2)]);
      await waitFor(() => got.length === 1);
      assert.equal((got[0]!.data as { n: number }).n, 2);
    } finally {
      await bus.close();
      await proxy.close();
      await removePrefixTopology(prefix, ['g']);
    }
  });
});
