/**
 * The alerts service: records every event (the latest per type, with a count), turns each into delivery
 * rows for the subscriptions it matches, and manages subscriptions. Sending is the delivery loop's job,
 * so the bus handler only writes rows and is never held up by a channel.
 */
import type { AlertRepository, LatestEvent } from '../../domain/alerts/alert-repository.ts';
import type { Delivery } from '../../domain/alerts/delivery.ts';
import { checkEventPattern, eventPatternMatcher } from '../../domain/alerts/event-pattern.ts';
import type { ChannelNotifiers, ConditionCompiler, EventPredicate } from '../../domain/alerts/ports.ts';
import { parseChannel, type AlertsCaller, type Condition, type ConditionMode, type Subscription } from '../../domain/alerts/subscription.ts';
import { forbidden, invalid, notFound } from '../../domain/errors.ts';
import type { Clock } from '../../domain/ports/clock.ts';
import type { CloudEvent, EventBus } from '../../domain/ports/event-bus.ts';
import type { RandomSource } from '../../domain/ports/id-generator.ts';
import type { Logger } from '../../domain/ports/logger.ts';

export const ALERTS_EVENT_SOURCE = 'lamassu/alerts';
/** The consumer group of the alerts service on the bus: one queue shared by its replicas. */
export const ALERTS_CONSUMER_GROUP = 'alerts';
const MAX_CONDITIONS = 16;
/** Events per transaction at most (a few thousand rows with their deliveries). */
const RECORD_BATCH = 500;

export interface AlertsServiceDeps {
  alerts: AlertRepository;
  /** Runs `fn` in one database transaction. */
  transaction<T>(fn: (alerts: AlertRepository) => Promise<T>): Promise<T>;
  conditions: ConditionCompiler;
  notifiers: ChannelNotifiers;
  clock: Clock;
  random: RandomSource;
  logger: Logger;
  /** Told when new deliveries are waiting, so they go out at once rather than at the next poll. */
  onDeliveriesAdded?: () => void;
}

export interface SubscribeInput {
  eventType: string;
  conditions: Condition[];
  conditionMode?: ConditionMode;
  channel: { type: string; name?: string; config: Record<string, unknown> };
}

export type TestOutcome = { delivered: true } | { delivered: false; error: string };

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

export class AlertsService {
  /** Subscriptions never change after they are made, so their compiled matchers can be kept. */
  private readonly matchers = new Map<string, { type: (t: string) => boolean; conditions: EventPredicate }>();
  /** Events handed over by the bus, waiting for the next transaction. */
  private waiting: { event: CloudEvent; resolve: (queued: number) => void; reject: (err: unknown) => void }[] = [];
  private recording = false;

  constructor(private readonly deps: AlertsServiceDeps) {}

  /** Follows every event on the bus (pattern "#", group "alerts"). */
  async follow(bus: EventBus): Promise<() => Promise<void>> {
    // Conditions compiled now rather than on the first event, which should not wait for them.
    for (const s of await this.deps.alerts.listSubscriptions()) this.matcherOf(s);
    // Order does not matter here (events are recorded by id) and concurrent events share a transaction.
    return bus.subscribe('#', ALERTS_CONSUMER_GROUP, (event) => this.handleEvent(event).then(() => undefined), { unorderedConcurrency: RECORD_BATCH });
  }

  /**
   * Records the event and queues one delivery per matching subscription, in one transaction. An event
   * seen before (same CloudEvent id, e.g. relayed twice) changes nothing. Resolves, once committed, with
   * the deliveries queued for it.
   *
   * Events that arrive while a transaction is under way wait for the next one and share it (a group
   * commit): every event moves its type's "latest" row, so one transaction per event would queue all the
   * bus's concurrent handlers on that row's lock, each holding a pooled connection meanwhile.
   */
  handleEvent(event: CloudEvent): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.waiting.push({ event, resolve, reject });
      if (!this.recording) {
        this.recording = true;
        // The events handed over in this turn of the event loop join the first transaction.
        setImmediate(() => void this.recordWaiting());
      }
    });
  }

  private async recordWaiting(): Promise<void> {
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting.splice(0, RECORD_BATCH);
        try {
          const queued = await this.record(batch.map((w) => w.event));
          batch.forEach((w, i) => w.resolve(queued[i]!));
        } catch (batchError) {
          // Alone, so that an event the database refuses fails only itself (and is retried or dead-lettered
          // by the bus), not the events that happened to share its transaction.
          if (batch.length === 1) batch[0]!.reject(batchError);
          else for (const w of batch) await this.record([w.event]).then(([n]) => w.resolve(n!), w.reject);
        }
      }
    } finally {
      this.recording = false;
    }
  }

  /** One transaction for `events`: the deliveries queued for each (0 for one seen before). */
  private async record(events: CloudEvent[]): Promise<number[]> {
    const subscriptions = await this.deps.alerts.listSubscriptions();
    const matching = events.map((e) => subscriptions.filter((s) => this.matches(s, e)));
    const now = this.deps.clock.now();
    const queued = await this.deps.transaction(async (alerts) => {
      const fresh = await alerts.recordEvents(events, now);
      // An id twice in the batch: the deliveries go with its first copy.
      const counted = new Set<string>();
      const counts = events.map((e, i) => {
        if (!fresh.has(e.id) || counted.has(e.id)) return 0;
        counted.add(e.id);
        return matching[i]!.length;
      });
      await alerts.insertDeliveries(
        events.flatMap((e, i) =>
          counts[i] === 0
            ? []
            : matching[i]!.map((s) => ({ id: this.deps.random.uuid(), subscriptionId: s.id, eventId: e.id, eventType: e.type, channelType: s.channel.type, createdAt: now })),
        ),
      );
      return counts;
    });
    if (queued.some((n) => n > 0)) this.deps.onDeliveriesAdded?.();
    return queued;
  }

  private matches(s: Subscription, event: CloudEvent): boolean {
    const m = this.matcherOf(s);
    if (!m.type(event.type)) return false;
    try {
      return m.conditions(event);
    } catch {
      return false;
    }
  }

  private matcherOf(s: Subscription): { type: (t: string) => boolean; conditions: EventPredicate } {
    let m = this.matchers.get(s.id);
    if (!m) {
      try {
        m = { type: eventPatternMatcher(s.eventType), conditions: this.deps.conditions.compile(s.conditions, s.conditionMode) };
      } catch (err) {
        // Checked at subscribe time; a stored condition that no longer compiles (library upgrade) matches nothing.
        this.deps.logger.warn({ err, subscription: s.id }, 'alert subscription conditions do not compile; it matches nothing');
        m = { type: () => false, conditions: () => false };
      }
      this.matchers.set(s.id, m);
    }
    return m;
  }

  async subscribe(caller: AlertsCaller, userId: string, input: SubscribeInput): Promise<Subscription> {
    this.assertUser(caller, userId);
    checkEventPattern(input.eventType);
    if (input.conditions.length > MAX_CONDITIONS) throw invalid('ALERT_CONDITION_INVALID', `at most ${MAX_CONDITIONS} conditions`);
    const conditionMode = input.conditionMode ?? 'any';
    const conditions = this.deps.conditions.compile(input.conditions, conditionMode);
    const channel = parseChannel(input.channel);
    if (!this.deps.notifiers[channel.type]) {
      throw invalid('ALERT_CHANNEL_UNAVAILABLE', `this server cannot send ${channel.type} alerts (for EMAIL, LAMASSU_SMTP_HOST is not set)`);
    }
    const subscription: Subscription = {
      id: this.deps.random.uuid(),
      userId,
      eventType: input.eventType,
      conditions: input.conditions.map((c) => ({ type: c.type, condition: c.condition })),
      conditionMode,
      channel,
      secret: channel.type === 'WEBHOOK' ? hex(this.deps.random.bytes(32)) : null,
      createdAt: this.deps.clock.now(),
    };
    await this.deps.alerts.insertSubscription(subscription);
    this.matchers.set(subscription.id, { type: eventPatternMatcher(subscription.eventType), conditions });
    return subscription;
  }

  async unsubscribe(caller: AlertsCaller, userId: string, subscriptionId: string): Promise<void> {
    this.assertUser(caller, userId);
    const s = await this.deps.alerts.getSubscription(subscriptionId);
    if (!s || s.userId !== userId) throw this.unknown(subscriptionId);
    await this.deps.alerts.deleteSubscription(subscriptionId);
    this.matchers.delete(subscriptionId);
  }

  async listSubscriptions(caller: AlertsCaller, userId: string): Promise<Subscription[]> {
    this.assertUser(caller, userId);
    return this.deps.alerts.listSubscriptions(userId);
  }

  latestEvents(): Promise<LatestEvent[]> {
    return this.deps.alerts.latestEvents();
  }

  async deliveries(caller: AlertsCaller, subscriptionId: string, limit: number): Promise<Delivery[]> {
    await this.visibleSubscription(caller, subscriptionId);
    return this.deps.alerts.listDeliveries(subscriptionId, limit);
  }

  /** Sends a sample event through the subscription's channel now, outside the delivery log. */
  async test(caller: AlertsCaller, subscriptionId: string): Promise<TestOutcome> {
    const s = await this.visibleSubscription(caller, subscriptionId);
    const notifier = this.deps.notifiers[s.channel.type];
    if (!notifier) return { delivered: false, error: `this server cannot send ${s.channel.type} alerts` };
    const event: CloudEvent = {
      specversion: '1.0',
      id: this.deps.random.uuid(),
      source: ALERTS_EVENT_SOURCE,
      type: 'alerts.test',
      time: this.deps.clock.now().toISOString(),
      subject: s.id,
      datacontenttype: 'application/json',
      data: { message: 'A test of this alert subscription: when it arrives, the channel works.', subscription_id: s.id, event_type: s.eventType },
      actor: caller.subject,
    };
    try {
      await notifier.send(event, s);
      return { delivered: true };
    } catch (e) {
      return { delivered: false, error: (e as Error).message };
    }
  }

  private assertUser(caller: AlertsCaller, userId: string): void {
    if (!caller.admin && caller.subject !== userId) {
      throw forbidden('ALERT_USER_FORBIDDEN', `only an admin may see or change the subscriptions of another user than "${caller.subject}"`);
    }
  }

  /** A subscription the caller may see; someone else's is as unknown as a missing one. */
  private async visibleSubscription(caller: AlertsCaller, id: string): Promise<Subscription> {
    const s = await this.deps.alerts.getSubscription(id);
    if (!s || (!caller.admin && s.userId !== caller.subject)) throw this.unknown(id);
    return s;
  }

  private unknown(id: string) {
    return notFound('ALERT_SUBSCRIPTION_NOT_FOUND', `no alert subscription ${id}`);
  }
}
