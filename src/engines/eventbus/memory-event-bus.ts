/**
 * The in-process event bus of the embedded default. `publish` returns at once; each subscription gets
 * its events in publish order, one at a time, like a queue consumer with prefetch 1, unless it asked for
 * `unorderedConcurrency` (then up to that many at once, as they come). A failing handler is logged and
 * skipped; it never affects the publisher or other subscriptions.
 */
import type { CloudEvent, EventBus, EventHandler, SubscribeOptions } from '../../domain/ports/event-bus.ts';
import type { Logger } from '../../domain/ports/logger.ts';
import { topicMatcher } from './topic-matcher.ts';

interface Subscription {
  pattern: string;
  group: string;
  matches: (topic: string) => boolean;
  handler: EventHandler;
  /** Tail of this subscription's delivery chain (in-order subscriptions). */
  tail: Promise<void>;
  /** Handlers running at once, at most; 1: in order through `tail`. */
  concurrency: number;
  /** Unordered subscriptions: events waiting for a free handler, and the deliveries under way. */
  backlog: CloudEvent[];
  running: Set<Promise<void>>;
}

/** Lets the publisher's own continuation run before any handler starts. */
const afterPublisher = () => new Promise<void>((resolve) => setImmediate(resolve));

export class MemoryEventBus implements EventBus {
  private readonly subscriptions = new Set<Subscription>();
  private readonly pending = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly logger: Logger) {}

  async publish(events: CloudEvent[]): Promise<void> {
    if (this.closed) throw new Error('event bus is closed');
    for (const event of events) {
      for (const sub of this.subscriptions) {
        if (sub.matches(event.type)) this.enqueue(sub, event);
      }
    }
  }

  async subscribe(pattern: string, group: string, handler: EventHandler, options?: SubscribeOptions): Promise<() => Promise<void>> {
    const concurrency = Math.max(1, Math.floor(options?.unorderedConcurrency ?? 1));
    const sub: Subscription = { pattern, group, matches: topicMatcher(pattern), handler, tail: Promise.resolve(), concurrency, backlog: [], running: new Set() };
    this.subscriptions.add(sub);
    return async () => {
      this.subscriptions.delete(sub);
      sub.backlog.length = 0;
      await sub.tail;
      while (sub.running.size > 0) await Promise.all(sub.running);
    };
  }

  /** Resolves when every event published so far has been handled (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.idle();
    this.subscriptions.clear();
  }

  private enqueue(sub: Subscription, event: CloudEvent): void {
    if (sub.concurrency > 1) {
      sub.backlog.push(event);
      this.startUnordered(sub);
      return;
    }
    const delivery = sub.tail.then(afterPublisher).then(() => this.deliver(sub, event));
    sub.tail = delivery;
    this.track(delivery);
  }

  /** Hands waiting events to free handlers of an unordered subscription. */
  private startUnordered(sub: Subscription): void {
    while (sub.running.size < sub.concurrency && sub.backlog.length > 0) {
      const event = sub.backlog.shift()!;
      const delivery: Promise<void> = afterPublisher()
        .then(() => this.deliver(sub, event))
        .finally(() => {
          sub.running.delete(delivery);
          this.startUnordered(sub);
        });
      sub.running.add(delivery);
      this.track(delivery);
    }
  }

  private async deliver(sub: Subscription, event: CloudEvent): Promise<void> {
    // A subscription removed meanwhile gets nothing more.
    if (!this.subscriptions.has(sub)) return;
    try {
      await sub.handler(event);
    } catch (err) {
      this.logger.error({ err, group: sub.group, pattern: sub.pattern, eventType: event.type, eventId: event.id }, 'event handler failed');
    }
  }

  private track(delivery: Promise<void>): void {
    this.pending.add(delivery);
    void delivery.finally(() => this.pending.delete(delivery));
  }
}
