import amqp from 'amqplib';
import type { ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { unavailable } from '../../domain/errors.ts';
import type { CloudEvent, EventBus, EventHandler, SubscribeOptions } from '../../domain/ports/event-bus.ts';
import type { Logger } from '../../domain/ports/logger.ts';

export interface AmqpEventBusOptions {
  url: string;
  /** Durable topic exchange; the routing key is the event type. */
  exchange?: string;
  /** Prefix of the durable queue each consumer group gets. */
  queuePrefix?: string;
  /** Attempts per message before it goes to the dead-letter queue `<exchange>-dlq`. */
  maxAttempts?: number;
  prefetch?: number;
  logger: Logger;
}

interface Subscription {
  pattern: string;
  group: string;
  handler: EventHandler;
  broadcast: boolean;
  consumerTag?: string;
}

/**
 * CloudEvents over RabbitMQ: one durable topic exchange, one durable queue per consumer group, publisher
 * confirms so that `publish` resolves only once the broker has the events. A message whose handler keeps
 * failing goes to a dead-letter queue instead of blocking its queue. Reconnects by itself and re-declares
 * its consumers on every new connection.
 */
export class AmqpEventBus implements EventBus {
  private readonly exchange: string;
  private readonly dlx: string;
  private readonly queuePrefix: string;
  private readonly maxAttempts: number;
  private readonly subscriptions = new Set<Subscription>();
  private connection: Awaited<ReturnType<typeof connectRecovering>> | undefined;
  private publisher: ConfirmChannel | undefined;
  private consumer: Awaited<ReturnType<ChannelModel['createChannel']>> | undefined;
  private ready: Promise<void> = Promise.resolve();
  private markReady: () => void = () => {};

  constructor(private readonly opts: AmqpEventBusOptions) {
    this.exchange = opts.exchange ?? 'lamassu-events';
    this.dlx = `${this.exchange}-dlx`;
    this.queuePrefix = opts.queuePrefix ?? 'lamassu';
    this.maxAttempts = opts.maxAttempts ?? 3;
  }

  async connect(): Promise<void> {
    this.resetReady();
    try {
      this.connection = await connectRecovering(this.opts.url, (model) => this.setup(model));
    } catch (err) {
      throw unavailable('EVENT_BUS_UNAVAILABLE', `cannot reach the message broker: ${(err as Error).message}`);
    }
    this.connection.on('disconnect', (err: Error) => {
      this.opts.logger.warn({ err: err?.message }, 'message broker connection lost; reconnecting');
      this.publisher = undefined;
      this.consumer = undefined;
      this.resetReady();
    });
    await this.ready;
  }

  async publish(events: CloudEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.ready;
    const channel = this.publisher;
    if (!channel) throw unavailable('EVENT_BUS_UNAVAILABLE', 'message broker not connected');
    for (const event of events) {
      channel.publish(this.exchange, event.type, Buffer.from(JSON.stringify(event)), {
        persistent: true,
        contentType: 'application/cloudevents+json',
        messageId: event.id,
        timestamp: Math.floor(Date.parse(event.time) / 1000),
      });
    }
    await channel.waitForConfirms();
  }

  async subscribe(pattern: string, group: string, handler: EventHandler, options?: SubscribeOptions): Promise<() => Promise<void>> {
    const sub: Subscription = { pattern, group, handler, broadcast: options?.broadcast === true };
    this.subscriptions.add(sub);
    await this.ready;
    if (this.consumer) await this.startConsumer(this.consumer, sub);
    return async () => {
      this.subscriptions.delete(sub);
      if (this.consumer && sub.consumerTag) await this.consumer.cancel(sub.consumerTag).catch(() => undefined);
    };
  }

  async close(): Promise<void> {
    this.subscriptions.clear();
    await this.connection?.close().catch(() => undefined);
    this.connection = undefined;
  }

  private resetReady(): void {
    this.ready = new Promise((resolve) => (this.markReady = resolve));
  }

  private async setup(model: ChannelModel): Promise<void> {
    const publisher = await model.createConfirmChannel();
    await publisher.assertExchange(this.exchange, 'topic', { durable: true });
    await publisher.assertExchange(this.dlx, 'fanout', { durable: true });
    await publisher.assertQueue(`${this.exchange}-dlq`, { durable: true });
    await publisher.bindQueue(`${this.exchange}-dlq`, this.dlx, '');
    const consumer = await model.createChannel();
    await consumer.prefetch(this.opts.prefetch ?? 50);
    this.publisher = publisher;
    this.consumer = consumer;
    for (const sub of this.subscriptions) await this.startConsumer(consumer, sub);
    this.markReady();
  }

  private async startConsumer(channel: NonNullable<AmqpEventBus['consumer']>, sub: Subscription): Promise<void> {
    // A broadcast subscription gets a server-named queue of its own that dies with this connection.
    const queue = sub.broadcast
      ? (await channel.assertQueue('', { exclusive: true, autoDelete: true, deadLetterExchange: this.dlx })).queue
      : `${this.queuePrefix}.${sub.group}`;
    if (!sub.broadcast) await channel.assertQueue(queue, { durable: true, deadLetterExchange: this.dlx });
    await channel.bindQueue(queue, this.exchange, sub.pattern);
    const { consumerTag } = await channel.consume(queue, (msg) => {
      if (msg) void this.deliver(channel, sub, msg);
    });
    sub.consumerTag = consumerTag;
  }

  private async deliver(channel: NonNullable<AmqpEventBus['consumer']>, sub: Subscription, msg: ConsumeMessage): Promise<void> {
    let event: CloudEvent;
    try {
      event = JSON.parse(msg.content.toString('utf8')) as CloudEvent;
    } catch {
      this.opts.logger.error({ group: sub.group }, 'undecodable event sent to the dead-letter queue');
      channel.nack(msg, false, false);
      return;
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await sub.handler(event);
        channel.ack(msg);
        return;
      } catch (err) {
        if (attempt >= this.maxAttempts) {
          this.opts.logger.error({ group: sub.group, type: event.type, id: event.id, err }, 'event handler failed; dead-lettered');
          channel.nack(msg, false, false);
          return;
        }
        await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
      }
    }
  }
}

function connectRecovering(url: string, setup: (model: ChannelModel) => Promise<void>) {
  return amqp.connect(url, {
    recovery: { initialMaxRetries: 2, initialDelay: 200, maxDelay: 10_000, setup },
  });
}
