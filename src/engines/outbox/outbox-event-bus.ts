import type { CloudEvent, EventBus, EventHandler, LinkListener, SubscribeOptions } from '../../domain/ports/event-bus.ts';
import type { Logger } from '../../domain/ports/logger.ts';
import type { OutboxRelay } from './outbox-relay.ts';
import { SeenIds } from './seen-ids.ts';

/**
 * The bus services get in a server. Their events are already in the outbox when they call `publish` (after
 * the commit), so publishing only wakes the relay, which sends the rows to `inner`. Subscriptions go to
 * `inner`, each behind a window of the event ids it handled: the relay sends at least once, a handler runs
 * once per id (within the window).
 */
export class OutboxEventBus implements EventBus {
  readonly onLinkChange?: (listener: LinkListener) => () => void;

  constructor(
    private readonly inner: EventBus,
    private readonly relay: Pick<OutboxRelay, 'kick'>,
    private readonly logger: Logger,
    private readonly seenWindow = 10_000,
  ) {
    if (inner.onLinkChange) this.onLinkChange = (listener) => inner.onLinkChange!(listener);
  }

  async publish(events: CloudEvent[]): Promise<void> {
    if (events.length > 0) this.relay.kick();
  }

  subscribe(pattern: string, group: string, handler: EventHandler, options?: SubscribeOptions): Promise<() => Promise<void>> {
    return this.inner.subscribe(pattern, group, onceById(handler, new SeenIds(this.seenWindow), group, this.logger), options);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Runs `handler` once per event id: a repeat is skipped, and a failed run forgets the id so a retry runs it. */
export function onceById(handler: EventHandler, seen: SeenIds, group: string, logger: Logger): EventHandler {
  return async (event) => {
    if (seen.has(event.id)) {
      logger.debug({ group, id: event.id, type: event.type }, 'event seen before; skipped');
      return;
    }
    seen.add(event.id);
    try {
      await handler(event);
    } catch (err) {
      seen.delete(event.id);
      throw err;
    }
  };
}
