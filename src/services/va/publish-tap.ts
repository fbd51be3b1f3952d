/**
 * An EventBus that shows every published batch to in-process listeners synchronously, before handing it
 * to the real bus. The CA service publishes right after its commit and before its call returns, so a VA in
 * the same process drops its cached OCSP answers before the revoke request is answered: the very next
 * OCSP request sees the revocation, even though bus delivery itself is asynchronous. Other replicas learn
 * it from the bus.
 */
import type { CloudEvent, EventBus, EventHandler, LinkListener, SubscribeOptions } from '../../domain/ports/event-bus.ts';

export type PublishListener = (events: readonly CloudEvent[]) => void;

export class PublishTap implements EventBus {
  private readonly listeners: PublishListener[] = [];
  /** Present exactly when the inner bus has it (a bus without it never loses deliveries). */
  readonly onLinkChange?: (listener: LinkListener) => () => void;

  constructor(readonly inner: EventBus) {
    if (inner.onLinkChange) this.onLinkChange = (listener) => inner.onLinkChange!(listener);
  }

  listen(listener: PublishListener): void {
    this.listeners.push(listener);
  }

  async publish(events: CloudEvent[]): Promise<void> {
    for (const l of this.listeners) {
      try {
        l(events);
      } catch {
        // A listener's failure must never fail the publisher's committed change.
      }
    }
    await this.inner.publish(events);
  }

  subscribe(pattern: string, group: string, handler: EventHandler, options?: SubscribeOptions): Promise<() => Promise<void>> {
    return this.inner.subscribe(pattern, group, handler, options);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
