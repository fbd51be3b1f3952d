/**
 * The in-process event bus of the embedded default. `publish` returns at once; each subscription gets
 * its events in publish order, one at a time, like a queue consumer with prefetch 1. A failing handler
 * is logged and skipped; it never affects the publisher or other subscriptions.
 */
import type { CloudEvent, EventBus, EventHandler } from '../../domain/ports/event-bus.ts';
import type { Logger } from '../../domain/ports/logger.ts';
import { topicMatcher } from './topic-matcher.ts';

interface Subscription {
  pattern: string;
  group: string;
  matches: (topic: string) => boolean;
  handler: EventHandler;
  /** Tail of this subscription's delivery chain. */
  tail: Promise<void>;
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

  async subscribe(pattern: string, group: string, handler: EventHandler): Promise<() => Promise<void>> {
    const sub: Subscription = { pattern, group, matches: topicMatcher(pattern), handler, tail: Promise.resolve() };
    this.subscriptions.add(sub);
    return async () => {
      this.subscriptions.delete(sub);
      await sub.tail;
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
    const delivery = sub.tail.then(afterPublisher).then(async () => {
      // A subscription removed meanwhile gets nothing more.
      if (!this.subscriptions.has(sub)) return;
      try {
        await sub.handler(event);
      } catch (err) {
        this.logger.error({ err, group: sub.group, pattern: sub.pattern, eventType: event.type, eventId: event.id }, 'event handler failed');
      }
    });
    sub.tail = delivery;
    this.pending.add(delivery);
    void delivery.finally(() => this.pending.delete(delivery));
  }
}
