import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { CloudEvent } from '../../domain/ports/event-bus.ts';
import { silentLogger } from '../../domain/ports/logger.ts';
import { removeTestTopology } from '../../../test/support/amqp-topology.ts';
import { bounded } from '../../../test/support/bounded.ts';
import { amqpUrl, needRabbitMq } from '../../../test/support/services.ts';
import { AmqpEventBus } from './amqp-event-bus.ts';

const event = (n: number): CloudEvent => ({ specversion: '1.0', id: randomUUID(), source: 'test', type: 'certificate.status.update', time: new Date().toISOString(), data: { n } });

const waitFor = async (cond: () => boolean, ms = 5000) => {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('timed out waiting for events');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('AMQP broadcast subscriptions (per-replica caches)', async () => {
  if (!(await needRabbitMq())) {
    it('runs on RabbitMQ', { skip: 'SERVICE MISSING: RabbitMQ' }, () => {});
    return;
  }
  const exchange = `lamassu-test-${randomUUID()}`;
  const queuePrefix = `test-${randomUUID()}`;
  const replicas: AmqpEventBus[] = [];
  before(async () => {
    for (let i = 0; i < 2; i++) {
      const bus = new AmqpEventBus({ url: amqpUrl(), exchange, queuePrefix, logger: silentLogger });
      await bus.connect();
      replicas.push(bus);
    }
  });
  after(async () => {
    for (const [i, b] of replicas.entries()) await bounded(`replica ${i} bus.close()`, b.close());
    await bounded('removing the test topology', removeTestTopology({ exchange, queuePrefix, groups: ['va.crl'] }));
  });

  it('every replica gets every event with broadcast; a shared group gets each event once', async () => {
    const broadcast = [0, 0];
    const shared = [0, 0];
    for (const [i, bus] of replicas.entries()) {
      await bus.subscribe('certificate.status.update', 'va.ocsp-cache', () => void broadcast[i]!++, { broadcast: true });
      await bus.subscribe('certificate.status.update', 'va.crl', () => void shared[i]!++);
    }
    await replicas[0]!.publish([event(1), event(2), event(3), event(4)]);
    await waitFor(() => broadcast[0] === 4 && broadcast[1] === 4 && shared[0]! + shared[1]! === 4);
    assert.deepEqual(broadcast, [4, 4]);
    assert.equal(shared[0]! + shared[1]!, 4);
  });
});
