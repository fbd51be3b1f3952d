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
}

export interface EventBus {
  /** Called only after the database commit that the events describe. */
  publish(events: CloudEvent[]): Promise<void>;
  /**
   * `pattern` is an AMQP-style topic: "certificate.status.update", "certificate.*", "#".
   * `group` names the consumer (one queue per group when the bus is RabbitMQ).
   */
  subscribe(pattern: string, group: string, handler: EventHandler, options?: SubscribeOptions): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
