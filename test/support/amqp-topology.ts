/**
 * Removes what a test's AMQP event bus declared in RabbitMQ: its group queues with their dead-letter queues,
 * the shared dead-letter queue and the exchanges.
 */
import amqp from 'amqplib';
import { amqpUrl } from './services.ts';

export async function removeTestTopology(opts: { exchange: string; queuePrefix: string; groups: readonly string[] }): Promise<void> {
  const conn = await amqp.connect(amqpUrl());
  try {
    const ch = await conn.createChannel();
    for (const group of opts.groups) {
      await ch.deleteQueue(`${opts.queuePrefix}.${group}`);
      await ch.deleteQueue(`${opts.queuePrefix}.${group}.dlq`);
    }
    await ch.deleteQueue(`${opts.exchange}-dlq`);
    await ch.deleteExchange(opts.exchange);
    await ch.deleteExchange(`${opts.exchange}-dlx`);
  } finally {
    await conn.close();
  }
}

/** The same for a deployment named by one prefix (LAMASSU_AMQP_PREFIX). */
export const removePrefixTopology = (prefix: string, groups: readonly string[]): Promise<void> =>
  removeTestTopology({ exchange: `${prefix}-events`, queuePrefix: prefix, groups });
