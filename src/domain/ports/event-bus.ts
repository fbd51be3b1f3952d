/** CloudEvents 1.0 JSON envelope. `type` is the event key, e.g. "certificate.status.update". */
export interface CloudEvent<T = unknown> {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  time: string;
  subject?: string;
  datacontenttype?: 'application/json';
  data: T;
  /** Who caused it: token subject, client-certificate CN, or "system". */
  actor?: string;
}

export type EventHandler = (event: CloudEvent) => Promise<void> | void;

export interface SubscribeOptions {
  /**
   * Every replica gets its own copy, and nothing is kept for a replica that is gone (RabbitMQ: an exclusive,
   * auto-deleted queue instead of the group's durable one). For per-process state such as caches.
   */
  broadcast?: boolean;
  /**
   * The handler takes events in any order, several at once (it keeps no order and drops repeats itself):
   * up to this many are handed to it before the earlier ones are handled. RabbitMQ hands a consumer its
   * prefetch at once anyway; the in-process bus otherwise gives each subscription one event at a time, in order.
   */
  unorderedConcurrency?: number;
}

/** `true` when the bus link came (back) up, `false` when it went down. */
export type LinkListener = (up: boolean) => void;

export interface EventBus {
  /**
   * Called only after the database commit that the events describe. Services write their events to the
   * outbox in that transaction (`Repositories.outbox`); in a server the bus they are given then only tells
   * in-process listeners and wakes the outbox relay, which sends the rows to the real bus.
   */
  publish(events: CloudEvent[]): Promise<void>;
  /**
   * Resolves only once the bus holds every event (RabbitMQ: publisher confirms) and rejects when it cannot now
   * (link down, nack, no confirm in time): the outbox relay deletes rows only after it resolved. Absent:
   * `publish` already means that (the in-process bus).
   */
  publishConfirmed?(events: CloudEvent[]): Promise<void>;
  /**
   * `pattern` is an AMQP-style topic: "certificate.status.update", "certificate.*", "#".
   * `group` names the consumer (one queue per group when the bus is RabbitMQ).
   */
  subscribe(pattern: string, group: string, handler: EventHandler, options?: SubscribeOptions): Promise<() => Promise<void>>;
  close(): Promise<void>;
  /**
   * For buses that can lose broadcast deliveries (RabbitMQ: a replica's own queue dies with its connection).
   * The listener hears `false` when the link goes down and `true` once it is back and every subscription is
   * consuming again; what was published meanwhile may never arrive, so a cache that follows events must
   * not trust itself from the first call until the second. Absent: the bus never loses a delivery (in-process).
   * Returns the function that removes the listener.
   */
  onLinkChange?(listener: LinkListener): () => void;
}
