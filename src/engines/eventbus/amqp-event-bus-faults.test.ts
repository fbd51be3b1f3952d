/**
 * The RabbitMQ bus when the broker link breaks, through a TCP proxy in front of the real RabbitMQ: the
 * process keeps running, the link comes back with its topology, listeners hear the loss and the return,
 * and what was published meanwhile is delivered once the link is back.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import amqp from 'amqplib';
import type { CloudEvent } from '../../domain/ports/event-bus.ts';
import { silentLogger } from '../../domain/ports/logger.ts';
import { amqpUrl, needRabbitMq } from '../../../test/support/services.ts';
import { removeTestTopology } from '../../../test/support/amqp-topology.ts';
import { TcpProxy } from '../../../test/support/tcp-proxy.ts';
import { AmqpEventBus } from './amqp-event-bus.ts';

const event = (n: number): CloudEvent => ({ specversion: '1.0', id: randomUUID(), source: 'test', type: 'certificate.status.update', time: new Date().toISOString(), data: { n } });

const rabbitmqctl = () => {
  try {
    execFileSync('rabbitmqctl', ['status', '-q'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
};

const waitFor = async (what: string, cond: () => boolean, ms = 10_000) => {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('AMQP event bus through a broken link (TCP proxy before real RabbitMQ)', { timeout: 60_000 }, async () => {
  if (!(await needRabbitMq())) {
    it('runs on RabbitMQ', { skip: 'SERVICE MISSING: RabbitMQ' }, () => {});
    return;
  }
  const exchange = `lamassu-test-${randomUUID()}`;
  const queuePrefix = `test-${randomUUID()}`;
  const target = new URL(amqpUrl());
  let proxy: TcpProxy;
  let bus: AmqpEventBus;
  /** A second bus straight to the broker: the other replica. */
  let direct: AmqpEventBus;
  const link: boolean[] = [];
  const broadcast: number[] = [];
  const group: number[] = [];
  let n = 0;

  before(async () => {
    proxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 5672) });
    const fast = { initial: 100, max: 1000 };
    bus = new AmqpEventBus({ url: proxy.via(amqpUrl()), exchange, queuePrefix, logger: silentLogger, reconnectDelayMs: fast });
    direct = new AmqpEventBus({ url: amqpUrl(), exchange, queuePrefix, logger: silentLogger });
    await bus.connect();
    await direct.connect();
    bus.onLinkChange((up) => link.push(up));
    await bus.subscribe('certificate.status.update', 'cache', (e) => void broadcast.push((e.data as { n: number }).n), { broadcast: true });
    await bus.subscribe('certificate.status.update', 'durable', (e) => void group.push((e.data as { n: number }).n));
  });
  after(async () => {
    await bus?.close();
    await direct?.close();
    await proxy?.close();
    await removeTestTopology({ exchange, queuePrefix, groups: ['durable'] });
  });

  /** Publishes from the other replica until the bus's broadcast subscription sees one: consuming again. */
  const consumingAgain = async () => {
    const seen = broadcast.length;
    await waitFor('the broadcast subscription to consume again', () => {
      if (broadcast.length > seen) return true;
      void direct.publish([event(-1)]);
      return false;
    });
  };

  for (const fault of ['drop', 'refuse', 'accept-and-close'] as const) {
    it(`${fault}: keeps running, hears the loss and the return, reconnects, sends what was published meanwhile`, async () => {
      const before = bus.state();
      link.length = 0;
      if (fault === 'drop') proxy.drop();
      if (fault === 'refuse') await proxy.refuseFor(1500);
      if (fault === 'accept-and-close') {
        proxy.setMode('accept-and-close');
        proxy.drop();
      }
      await waitFor('the link to go down', () => link.includes(false));
      assert.equal(bus.state().connected, false);
      // Publishing while away neither throws nor waits for the broker.
      const mine = [++n, ++n, ++n];
      const t0 = Date.now();
      await bus.publish(mine.map(event));
      assert.ok(Date.now() - t0 < 200, `publish returned in ${Date.now() - t0} ms`);
      assert.equal(bus.state().bufferedEvents, 3);
      if (fault === 'accept-and-close') {
        const accepted = proxy.accepted;
        await waitFor('reconnect attempts', () => proxy.accepted >= accepted + 2);
        assert.equal(bus.state().connected, false);
        proxy.setMode('pass');
      }
      await waitFor('the link to come back', () => link.at(-1) === true);
      assert.deepEqual(link, [false, true]);
      const after = bus.state();
      assert.equal(after.connected, true);
      assert.equal(after.disconnects, before.disconnects + 1);
      assert.equal(after.reconnects, before.reconnects + 1);
      // The buffered events reach the durable group, and the new broadcast queue is bound.
      await waitFor('the buffered events', () => mine.every((m) => group.includes(m)));
      assert.equal(bus.state().bufferedEvents, 0);
      await consumingAgain();
    });
  }

  it('the broker closes the connection (rabbitmqctl close_connection): reconnects, sends what was published meanwhile', { skip: process.env.LAMASSU_TEST_REQUIRE_SERVICES !== '1' && !rabbitmqctl() && 'SERVICE MISSING: rabbitmqctl (run as root next to the broker)' }, async () => {
    link.length = 0;
    const ports = proxy.upstreamPorts();
    const listed = execFileSync('rabbitmqctl', ['list_connections', 'pid', 'peer_port', '-q'], { encoding: 'utf8' });
    const pid = listed.split('\n').map((l) => l.split('\t')).find(([, port]) => ports.includes(Number(port)))?.[0];
    assert.ok(pid, `the bus's connection among:\n${listed}`);
    execFileSync('rabbitmqctl', ['close_connection', pid, 'fault test'], { stdio: 'ignore' });
    await waitFor('the link to go down', () => link.includes(false));
    const m = ++n;
    await bus.publish([event(m)]);
    await waitFor('the link to come back', () => link.at(-1) === true);
    await waitFor('the buffered event', () => group.includes(m));
    await consumingAgain();
  });

  it('a consumer the broker cancels (its queue deleted) is declared again', async () => {
    link.length = 0;
    const conn = await amqp.connect(amqpUrl());
    const ch = await conn.createChannel();
    await ch.deleteQueue(`${queuePrefix}.durable`);
    await conn.close();
    await waitFor('the link to come back', () => link.at(-1) === true);
    const m = ++n;
    await direct.publish([event(m)]);
    await waitFor('delivery to the re-declared queue', () => group.includes(m));
  });
});
