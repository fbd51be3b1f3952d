import amqp from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { invalid, unavailable } from '../../domain/errors.ts';
import type { CloudEvent, EventBus, EventHandler, LinkListener, SubscribeOptions } from '../../domain/ports/event-bus.ts';
import type { Logger } from '../../domain/ports/logger.ts';

export interface AmqpEventBusOptions {
  url: string;
  /**
   * Names this deployment's topology, so several can share a broker or vhost: exchange `<prefix>-events`
   * (dead letters through `<prefix>-events-dlx`), queue `<prefix>.<group>` per consumer group with its
   * dead-letter queue `<prefix>.<group>.dlq`. Default `lamassu`.
   */
  prefix?: string;
  /** Durable topic exchange (routing key = event type); overrides `<prefix>-events` (older setting). */
  exchange?: string;
  /** Prefix of the durable queue each consumer group gets; overrides `prefix` (older setting). */
  queuePrefix?: string;
  /** Attempts per message (with back-off between them) before it goes to its group's dead-letter queue. */
  maxAttempts?: number;
  /** Back-off before the second attempt, doubling for each further one. Default 200 ms. */
  retryDelayMs?: number;
  /** Where a broker refusal of the topology points the operator (start-up error). */
  prefixSetting?: string;
  prefetch?: number;
  /** Events kept while the broker is away and sent once it is back; events beyond it are dropped (and counted). */
  maxBufferedEvents?: number;
  /** Longest a publish waits for the broker's confirm; events whose confirm then fails are sent again. */
  confirmTimeoutMs?: number;
  /** Reconnect back-off: first delay, doubling up to the last (with jitter). */
  reconnectDelayMs?: { initial: number; max: number };
  /** AMQP heartbeat when the URL names none: a silent network cut is noticed after about twice this. */
  heartbeatSeconds?: number;
  /** Longest `close` waits for the broker's close-ok before cutting the connection. */
  closeTimeoutMs?: number;
  logger: Logger;
}

/** What /health and /metrics show of the link. */
export interface AmqpEventBusState {
  connected: boolean;
  /** Links lost since start. */
  disconnects: number;
  /** Links re-established after a loss. */
  reconnects: number;
  /** Events waiting for the broker. */
  bufferedEvents: number;
  /** Events dropped because the buffer was full while the broker was away. */
  droppedEvents: number;
}

interface Subscription {
  pattern: string;
  group: string;
  handler: EventHandler;
  broadcast: boolean;
  consumerTag?: string;
}

/** One connection's channels, complete only once every subscription consumes on it. */
interface Link {
  model: ChannelModel;
  publisher: ConfirmChannel;
  consumer: Channel;
}

type RecoveringModel = Awaited<ReturnType<typeof connectRecovering>>;

const FLUSH_BATCH = 500;
const CONNECT_TIMEOUT_MS = 5000;

/**
 * CloudEvents over RabbitMQ: one durable topic exchange, one durable queue per consumer group, publisher
 * confirms; every name derives from one prefix, so deployments can share a vhost. A message whose handler
 * keeps failing goes to its group's dead-letter queue instead of blocking its queue. In a server the outbox
 * relay sends through `publishConfirmed` (nothing kept in memory); `publish` with its buffer is for callers
 * without an outbox.
 *
 * The broker may go away at any time (restart, network cut, load balancer reset). Then the bus keeps the
 * process serving: every connection and channel error is handled and logged, the connection comes back
 * with back-off and re-declares exchanges, queues and consumers, and `onLinkChange` listeners hear the loss
 * and the return (broadcast queues die with their connection, so what they missed is gone). Events
 * published meanwhile wait in a bounded buffer and go out, in order, once the link is back; `publish` never
 * waits for the broker longer than `confirmTimeoutMs`.
 */
export class AmqpEventBus implements EventBus {
  private readonly exchange: string;
  private readonly dlx: string;
  private readonly queuePrefix: string;
  private readonly maxAttempts: number;
  private readonly retryDelayMs: number;
  private readonly maxBuffered: number;
  private readonly confirmTimeoutMs: number;
  private readonly subscriptions = new Set<Subscription>();
  private readonly linkListeners = new Set<LinkListener>();
  private connection: RecoveringModel | undefined;
  private link: Link | undefined;
  /** The connection being set up or in use; channels of an older one are ignored. */
  private currentModel: ChannelModel | undefined;
  private closed = false;
  private everConnected = false;
  private downSince = 0;
  /** Events waiting for the broker, oldest first. */
  private backlog: CloudEvent[] = [];
  private flushing = false;
  private dropWarned = false;
  private readonly counts = { disconnects: 0, reconnects: 0, dropped: 0 };
  /** Connections setup has seen that have not closed yet: `close` waits for them (bounded), then cuts them. */
  private readonly openModels = new Set<ChannelModel>();
  /**
   * A connection attempt between its start and setup (or failure): amqplib closes a connection that opens
   * after `close()` without ever letting us listen on it, so `close` lets such an attempt finish first.
   */
  private attempt: { open: boolean; startsAt: number } = { open: false, startsAt: 0 };

  constructor(private readonly opts: AmqpEventBusOptions) {
    const prefix = opts.prefix ?? 'lamassu';
    this.exchange = opts.exchange ?? `${prefix}-events`;
    this.dlx = `${this.exchange}-dlx`;
    this.queuePrefix = opts.queuePrefix ?? prefix;
    this.maxAttempts = opts.maxAttempts ?? 3;
    this.retryDelayMs = opts.retryDelayMs ?? 200;
    this.maxBuffered = opts.maxBufferedEvents ?? 10_000;
    this.confirmTimeoutMs = opts.confirmTimeoutMs ?? 5000;
  }

  /** Resolves once connected; throws EVENT_BUS_UNAVAILABLE when the broker cannot be reached at start. */
  async connect(): Promise<void> {
    this.attempt = { open: true, startsAt: Date.now() };
    const connection = await connectRecovering(this.opts, (model) => this.setup(model));
    this.connection = connection;
    this.watchConnection(connection);
    try {
      await connection.waitForConnect();
    } catch (err) {
      await connection.close().catch(() => undefined);
      this.connection = undefined;
      if (isBrokerRefusal(err)) throw this.refused(err);
      throw unavailable('EVENT_BUS_UNAVAILABLE', `cannot reach the message broker: ${(err as Error).message}`);
    }
  }

  /** The names this bus declares, for operators and for tests that clean up. */
  topology(): { exchange: string; deadLetterExchange: string; deadLetterQueue: string; queuePrefix: string } {
    return { exchange: this.exchange, deadLetterExchange: this.dlx, deadLetterQueue: `${this.exchange}-dlq`, queuePrefix: this.queuePrefix };
  }

  /**
   * Publishes with confirms and resolves only once the broker confirmed every event; rejects when the link
   * is down, an event is nacked, or no confirm comes within `confirmTimeoutMs` (the caller sends again:
   * a late confirm means a duplicate, which consumers skip by id). Nothing is buffered: the outbox is the buffer.
   */
  async publishConfirmed(events: CloudEvent[]): Promise<void> {
    if (events.length === 0) return;
    if (this.closed) throw new Error('event bus is closed');
    const link = this.link;
    if (!link) throw unavailable('EVENT_BUS_UNAVAILABLE', 'the message broker link is down');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), this.confirmTimeoutMs)));
    const outcome = await Promise.race([this.send(link, events), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') throw unavailable('EVENT_BUS_UNAVAILABLE', `the message broker confirmed no events within ${this.confirmTimeoutMs} ms`);
    if (outcome.length > 0) throw unavailable('EVENT_BUS_UNAVAILABLE', `the message broker did not take ${outcome.length} of ${events.length} events`);
  }

  private refused(err: unknown): Error {
    const setting = this.opts.prefixSetting ?? 'LAMASSU_AMQP_PREFIX';
    const why = (err as Error).message.replace(/\s+/g, ' ');
    const overrides = this.opts.exchange || this.opts.queuePrefix ? ' (the exchange and queue prefix settings given here override it: remove them or make them unique too)' : '';
    return invalid(
      'EVENT_BUS_TOPOLOGY_REFUSED',
      `${setting}: the message broker refused this deployment's exchanges or queues (${why}); another deployment on this broker or vhost uses the same names with other settings: give each deployment its own ${setting}${overrides}`,
      { setting },
    );
  }

  state(): AmqpEventBusState {
    return {
      connected: this.link !== undefined,
      disconnects: this.counts.disconnects,
      reconnects: this.counts.reconnects,
      bufferedEvents: this.backlog.length,
      droppedEvents: this.counts.dropped,
    };
  }

  onLinkChange(listener: LinkListener): () => void {
    this.linkListeners.add(listener);
    // A listener added while the link is down must not trust what it holds either.
    if (this.everConnected && !this.link) listener(false);
    return () => void this.linkListeners.delete(listener);
  }

  async publish(events: CloudEvent[]): Promise<void> {
    if (events.length === 0) return;
    if (this.closed) throw new Error('event bus is closed');
    const link = this.link;
    // Behind a backlog, new events queue up so that the broker gets them in order.
    if (!link || this.backlog.length > 0 || this.flushing) {
      this.buffer(events);
      this.flush();
      return;
    }
    const sent = this.send(link, events).then((failed) => {
      if (failed.length > 0) this.requeue(failed);
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), this.confirmTimeoutMs)));
    const outcome = await Promise.race([sent, timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.opts.logger.warn({ events: events.length, timeoutMs: this.confirmTimeoutMs }, 'event bus: broker has not confirmed events yet; not waiting longer (they are sent again if the link fails)');
    }
  }

  async subscribe(pattern: string, group: string, handler: EventHandler, options?: SubscribeOptions): Promise<() => Promise<void>> {
    const sub: Subscription = { pattern, group, handler, broadcast: options?.broadcast === true };
    this.subscriptions.add(sub);
    // While the link is down (or being set up), the next setup starts this consumer.
    const link = this.link;
    if (link) {
      await this.startConsumer(link, sub).catch((err: unknown) => {
        // Names another deployment declared otherwise: retrying cannot help, and the caller is start-up.
        if (isBrokerRefusal(err)) {
          this.subscriptions.delete(sub);
          throw this.refused(err);
        }
        // The channel failed under us: it takes the connection down, and the next setup starts this consumer.
        this.opts.logger.warn({ err: (err as Error)?.message, group }, 'event bus: subscription waits for the reconnection');
      });
    }
    return async () => {
      this.subscriptions.delete(sub);
      const current = this.link;
      if (current && sub.consumerTag) await current.consumer.cancel(sub.consumerTag).catch(() => undefined);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.subscriptions.clear();
    this.linkListeners.clear();
    if (this.backlog.length > 0) {
      this.opts.logger.warn({ events: this.backlog.length }, 'event bus closed with events the broker never got');
    }
    this.link = undefined;
    const connection = this.connection;
    this.connection = undefined;
    const done = (async () => {
      if (connection) {
        await this.attemptSettled(connection);
        // Not awaited: amqplib waits for a close-ok that never comes when the socket breaks meanwhile; the
        // connections' own 'close' events below tell when they are gone.
        void connection.close().catch(() => undefined);
      }
      await Promise.all([...this.openModels].map((model) => new Promise((r) => model.once('close', r))));
    })();
    const ms = this.opts.closeTimeoutMs ?? 5000;
    let timer: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([done.then(() => true), new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)))]);
    clearTimeout(timer);
    if (!inTime) {
      // A shutdown must not hang on the broker: stop reconnecting (if still waiting for an attempt) and cut what is open.
      this.opts.logger.warn({ timeoutMs: ms, connections: this.openModels.size }, 'event bus: message broker did not confirm the close in time; connection cut');
      void connection?.close().catch(() => undefined);
      for (const model of this.openModels) destroySocket(model);
    }
  }

  /** Resolves once no connection attempt is between its start and setup (bounded by the connect timeout). */
  private async attemptSettled(connection: RecoveringModel): Promise<void> {
    // A retry that has not started yet is cancelled by close(); a few ms of slack for timer rounding.
    if (!this.attempt.open || Date.now() < this.attempt.startsAt - 5) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        connection.off('connect', done);
        connection.off('connect-failed', done);
        resolve();
      };
      const timer = setTimeout(done, CONNECT_TIMEOUT_MS + 1000);
      connection.on('connect', done);
      connection.on('connect-failed', done);
    });
  }

  private watchConnection(connection: RecoveringModel): void {
    const log = this.opts.logger;
    // Without an 'error' listener, an abrupt close would be an uncaught exception that ends the process.
    connection.on('error', (err: Error) => log.warn({ err: err?.message }, 'event bus: message broker connection error'));
    connection.on('disconnect', (err: Error) => {
      if (this.closed) return;
      this.link = undefined;
      this.currentModel = undefined;
      this.counts.disconnects++;
      this.downSince = Date.now();
      log.warn({ err: err?.message }, 'event bus: message broker connection lost; serving on, caches that follow events read the database, events are buffered; reconnecting');
      this.notify(false);
    });
    connection.on('reconnect-scheduled', ({ attempt, delay }: { attempt: number; delay: number }) => {
      this.attempt = { open: true, startsAt: Date.now() + delay };
      log.debug({ attempt, delayMs: delay }, 'event bus: reconnect scheduled');
    });
    connection.on('connect-failed', (err: Error) => {
      this.attempt.open = false;
      this.currentModel = undefined;
      log.warn({ err: err?.message }, 'event bus: cannot reach the message broker; retrying');
    });
    connection.on('reconnect-failed', (err: Error) => {
      if (!this.closed) log.error({ err: err?.message }, 'event bus: gave up reconnecting to the message broker');
    });
    connection.on('blocked', (reason: string) => log.warn({ reason }, 'event bus: message broker blocks publishing (resource alarm)'));
    connection.on('unblocked', () => log.info('event bus: message broker accepts publishing again'));
    connection.on('handler-error', (err: Error) => log.error({ err }, 'event bus: connection event handler failed'));
  }

  /** Runs on every (re)connection before it counts as up: topology, consumers, then the buffered events. */
  private async setup(model: ChannelModel): Promise<void> {
    this.attempt.open = false;
    this.track(model);
    if (this.closed) return;
    this.currentModel = model;
    const publisher = await model.createConfirmChannel();
    this.watchChannel(model, publisher, 'publisher');
    await publisher.assertExchange(this.exchange, 'topic', { durable: true });
    await publisher.assertExchange(this.dlx, 'fanout', { durable: true });
    await publisher.assertQueue(`${this.exchange}-dlq`, { durable: true });
    await publisher.bindQueue(`${this.exchange}-dlq`, this.dlx, '');
    const consumer = await model.createChannel();
    this.watchChannel(model, consumer, 'consumer');
    await consumer.prefetch(this.opts.prefetch ?? 50);
    const link: Link = { model, publisher, consumer };
    // Subscriptions added while this runs are visited too (a Set iterates over what is added meanwhile).
    for (const sub of this.subscriptions) await this.startConsumer(link, sub);
    if (this.closed) return;
    this.link = link;
    if (this.everConnected) {
      this.counts.reconnects++;
      this.opts.logger.info(
        { downMs: Date.now() - this.downSince, bufferedEvents: this.backlog.length },
        'event bus: message broker connection restored; topology and consumers declared again',
      );
      this.dropWarned = false;
    }
    this.everConnected = true;
    this.notify(true);
    this.flush();
  }

  /**
   * Until amqplib adopts a connection (after setup), nothing else listens on it: a socket error would be an
   * uncaught exception (ending the process) and amqplib would skip its clean-up, leaving its heartbeat timers
   * running forever.
   */
  private track(model: ChannelModel): void {
    if (this.openModels.has(model)) return;
    this.openModels.add(model);
    model.on('error', (err: Error) => this.opts.logger.debug({ err: err?.message }, 'event bus: message broker connection error'));
    model.once('close', () => this.openModels.delete(model));
  }

  /** A channel that closes while its connection stays up (a channel-level error) takes the connection down, so recovery re-declares everything. */
  private watchChannel(model: ChannelModel, channel: Channel, role: string): void {
    channel.on('error', (err: Error) => this.opts.logger.warn({ err: err?.message, channel: role }, 'event bus: message broker channel error'));
    channel.on('close', () => this.restart(model, `${role} channel closed`));
  }

  private restart(model: ChannelModel, why: string): void {
    // Deferred: when the whole connection drops, its channels close first and recovery is already under way.
    setImmediate(() => {
      if (this.closed || model !== this.currentModel) return;
      this.currentModel = undefined;
      this.opts.logger.warn({ why }, 'event bus: reconnecting to the message broker');
      try {
        void model.close().catch(() => undefined);
      } catch {
        // Already closing.
      }
    });
  }

  private notify(up: boolean): void {
    for (const listener of this.linkListeners) {
      try {
        listener(up);
      } catch (err) {
        this.opts.logger.error({ err }, 'event bus: link listener failed');
      }
    }
  }

  private buffer(events: readonly CloudEvent[]): void {
    const room = Math.max(0, this.maxBuffered - this.backlog.length);
    const kept = events.length <= room ? events : events.slice(0, room);
    this.backlog.push(...kept);
    const dropped = events.length - kept.length;
    if (dropped > 0) {
      this.counts.dropped += dropped;
      if (!this.dropWarned) {
        this.dropWarned = true;
        this.opts.logger.error({ maxBufferedEvents: this.maxBuffered }, 'event bus: event buffer full while the broker is away; further events are dropped (followers fall back on their cache lifetimes)');
      }
    }
  }

  /** Events whose confirm failed go back to the head of the backlog, ahead of anything newer. */
  private requeue(events: readonly CloudEvent[]): void {
    this.backlog.unshift(...events);
    if (this.backlog.length > this.maxBuffered) {
      const dropped = this.backlog.length - this.maxBuffered;
      this.backlog.length = this.maxBuffered;
      this.counts.dropped += dropped;
    }
    this.flush();
  }

  /** Sends the backlog in order while the link is up; one runner at a time. */
  private flush(): void {
    if (this.flushing || !this.link || this.backlog.length === 0) return;
    this.flushing = true;
    void (async () => {
      let sent = 0;
      try {
        while (this.link && this.backlog.length > 0 && !this.closed) {
          const batch = this.backlog.splice(0, FLUSH_BATCH);
          const failed = await this.send(this.link, batch);
          sent += batch.length - failed.length;
          if (failed.length > 0) {
            this.backlog.unshift(...failed);
            // A nack on a live link: do not spin on it.
            if (this.link) await new Promise((r) => setTimeout(r, 1000));
          }
        }
      } finally {
        this.flushing = false;
        if (sent > 0) this.opts.logger.info({ events: sent, left: this.backlog.length }, 'event bus: buffered events sent');
      }
    })();
  }

  /** Publishes with confirms; resolves with the events the broker did not confirm (nack or channel gone). */
  private async send(link: Link, events: readonly CloudEvent[]): Promise<CloudEvent[]> {
    const confirmed = await Promise.all(
      events.map(
        (event) =>
          new Promise<boolean>((resolve) => {
            try {
              link.publisher.publish(
                this.exchange,
                event.type,
                Buffer.from(JSON.stringify(event)),
                {
                  persistent: true,
                  contentType: 'application/cloudevents+json',
                  messageId: event.id,
                  timestamp: Math.floor(Date.parse(event.time) / 1000),
                },
                (err) => resolve(!err),
              );
            } catch {
              resolve(false);
            }
          }),
      ),
    );
    return events.filter((_, i) => !confirmed[i]);
  }

  /** Copies a message to its group's dead-letter queue, with why; true once the broker confirmed it. */
  private park(link: Link, group: string, msg: ConsumeMessage, err: unknown): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      try {
        link.publisher.sendToQueue(
          this.deadLetterQueue(group),
          msg.content,
          {
            ...msg.properties,
            persistent: true,
            headers: { ...msg.properties.headers, 'x-lamassu-error': String((err as Error)?.message ?? err).slice(0, 500), 'x-lamassu-attempts': this.maxAttempts },
          },
          (e) => resolve(!e),
        );
      } catch {
        resolve(false);
      }
    });
  }

  private async startConsumer(link: Link, sub: Subscription): Promise<void> {
    const channel = link.consumer;
    // A broadcast subscription gets a server-named queue of its own that dies with this connection.
    const queue = sub.broadcast
      ? (await channel.assertQueue('', { exclusive: true, autoDelete: true, deadLetterExchange: this.dlx })).queue
      : `${this.queuePrefix}.${sub.group}`;
    if (!sub.broadcast) {
      await channel.assertQueue(queue, { durable: true, deadLetterExchange: this.dlx });
      await channel.assertQueue(this.deadLetterQueue(sub.group), { durable: true });
    }
    await channel.bindQueue(queue, this.exchange, sub.pattern);
    const { consumerTag } = await channel.consume(queue, (msg) => {
      // null: the broker cancelled the consumer (its queue was deleted): start over.
      if (!msg) return this.restart(link.model, `consumer of ${queue} cancelled by the broker`);
      void this.deliver(link, sub, msg);
    });
    sub.consumerTag = consumerTag;
  }

  /** Where a group's messages go once its handler gave up on them, for inspection and replay. */
  private deadLetterQueue(group: string): string {
    return `${this.queuePrefix}.${group}.dlq`;
  }

  private async deliver(link: Link, sub: Subscription, msg: ConsumeMessage): Promise<void> {
    const channel = link.consumer;
    let event: CloudEvent;
    try {
      event = JSON.parse(msg.content.toString('utf8')) as CloudEvent;
    } catch {
      this.opts.logger.error({ group: sub.group }, 'undecodable event sent to the dead-letter queue');
      settle(channel, msg, false);
      return;
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await sub.handler(event);
        settle(channel, msg, true);
        return;
      } catch (err) {
        if (attempt >= this.maxAttempts) {
          this.opts.logger.error({ group: sub.group, type: event.type, id: event.id, attempts: attempt, err }, 'event handler failed; dead-lettered');
          // The group's own dead-letter queue; the shared one (through the DLX) when that cannot be done.
          const parked = !sub.broadcast && (await this.park(link, sub.group, msg, err));
          settle(channel, msg, parked);
          return;
        }
        await new Promise((r) => setTimeout(r, this.retryDelayMs * 2 ** (attempt - 1)));
      }
    }
  }
}

/** Refusals of what we declare (another deployment's names with other arguments, or no permission): retrying cannot help. */
function isBrokerRefusal(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return code === 406 || code === 403;
}

/** Acks (or dead-letters) a delivery; on a channel that died meanwhile the broker redelivers it instead. */
function settle(channel: Channel, msg: ConsumeMessage, ok: boolean): void {
  try {
    if (ok) channel.ack(msg);
    else channel.nack(msg, false, false);
  } catch {
    // Channel closed: the delivery goes back to its queue (or died with a broadcast queue).
  }
}

/** Cuts a connection at once: an error on its socket makes amqplib close it and stop its heartbeat. */
function destroySocket(model: ChannelModel): void {
  // amqplib's types do not show the socket; it is the connection's `stream`.
  const stream = (model.connection as unknown as { stream?: { destroy(err?: Error): void } }).stream;
  stream?.destroy(new Error('event bus closed: connection cut'));
}

/** The URL with a heartbeat unless it names one: abrupt closes are seen at once, silent cuts only through heartbeats. */
function withHeartbeat(url: string, seconds: number): string {
  try {
    const u = new URL(url);
    if (u.searchParams.has('heartbeat')) return url;
    u.searchParams.set('heartbeat', String(seconds));
    return u.toString();
  } catch {
    return url;
  }
}

function connectRecovering(opts: AmqpEventBusOptions, setup: (model: ChannelModel) => Promise<void>) {
  const delays = opts.reconnectDelayMs ?? { initial: 200, max: 5000 };
  return amqp.connect(withHeartbeat(opts.url, opts.heartbeatSeconds ?? 10), {
    // Bounds a connection attempt to a host that does not answer.
    timeout: CONNECT_TIMEOUT_MS,
    recovery: { initialMaxRetries: 2, initialDelay: delays.initial, maxDelay: delays.max, setup, waitForConnect: false },
  });
}
