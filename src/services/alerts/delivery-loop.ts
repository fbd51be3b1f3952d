/**
 * Works the delivery rows: takes due ones (claiming them, so replicas never send the same row twice at
 * once), sends them through their channel, and records the outcome: delivered, retried later with
 * exponential back-off, or failed. Sends run concurrently, with a cap per channel type and per
 * subscription, so a slow or dead endpoint holds only its own slots and never the others or the bus.
 * Rows live in the database: what a stopped or killed process left is picked up again.
 *
 * Database writes are batched (one claim statement per round, outcomes of the moment in one transaction):
 * on SQLite every commit is an fsync, and one per row would pace every channel by the disk.
 */
import type { AlertRepository, AttemptOutcome } from '../../domain/alerts/alert-repository.ts';
import { DeliveryError, retryDelayMs, type Delivery, type RetryPolicy } from '../../domain/alerts/delivery.ts';
import type { ChannelNotifiers } from '../../domain/alerts/ports.ts';
import type { ChannelType, Subscription } from '../../domain/alerts/subscription.ts';
import type { Clock } from '../../domain/ports/clock.ts';
import type { CloudEvent } from '../../domain/ports/event-bus.ts';
import type { Logger } from '../../domain/ports/logger.ts';

export interface DeliveryLoopOptions {
  alerts: AlertRepository;
  /** Runs `fn` in one database transaction. */
  transaction<T>(fn: (alerts: AlertRepository) => Promise<T>): Promise<T>;
  notifiers: ChannelNotifiers;
  clock: Clock;
  logger: Logger;
  /** Names this process in claims. */
  worker: string;
  retry: RetryPolicy;
  /** How long a claim lasts: longer than any send can take (the notifiers' timeouts), so it only lapses when its worker died. */
  claimMs: number;
  /** How often the table is looked at when nothing woke the loop (rows from other replicas, retries). */
  pollMs: number;
  perChannel: number;
  perSubscription: number;
  /** Finished deliveries and recorded events older than this are pruned, every `pruneEveryMs`. */
  retentionMs: number;
  pruneEveryMs: number;
}

const BATCH = 200;

export class DeliveryLoop {
  private timer: NodeJS.Timeout | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private pruning: Promise<void> | undefined;
  private running = false;
  private again = false;
  private stopped = true;
  private readonly inFlight = new Set<Promise<void>>();
  /**
   * Rows this process claimed whose outcome is not recorded yet. Their claim may run out meanwhile (a
   * database slower than the claim), which makes them due again: this process must not take them a second
   * time and send them twice.
   */
  private readonly held = new Set<string>();
  private readonly busyChannels = new Map<ChannelType, number>();
  private readonly busySubscriptions = new Map<string, number>();
  private outcomes: { id: string; outcome: AttemptOutcome }[] = [];
  private flushing: Promise<void> | undefined;

  constructor(private readonly o: DeliveryLoopOptions) {}

  start(): void {
    this.stopped = false;
    this.wake();
    // Every replica prunes; the deletes are idempotent, so they need no lease.
    this.pruneTimer = setInterval(() => void this.prune(), this.o.pruneEveryMs);
    this.pruneTimer.unref();
  }

  /** Forgets finished deliveries and events older than the retention. */
  prune(): Promise<void> {
    this.pruning ??= this.o.alerts
      .prune(new Date(this.o.clock.now().getTime() - this.o.retentionMs))
      .then(
        (gone) => {
          if (gone.deliveries + gone.events > 0) this.o.logger.info(gone, 'old alert deliveries and events pruned');
        },
        (err: unknown) => this.o.logger.warn({ err }, 'pruning old alert deliveries failed; trying again later'),
      )
      .finally(() => (this.pruning = undefined));
    return this.pruning;
  }

  /** Looks at the table now (new rows, a slot that came free). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), 0);
  }

  /** Stops taking rows, waits for the sends in flight (each bounded by its channel's timeout) and records their outcomes. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.pruneTimer);
    await this.pruning;
    while (this.running || this.inFlight.size > 0 || this.flushing || this.outcomes.length > 0) {
      await Promise.allSettled([...this.inFlight]);
      if (this.flushing) await this.flushing;
      else if (this.outcomes.length > 0) this.flush();
      else await new Promise((r) => setTimeout(r, 10));
    }
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    this.running = true;
    try {
      do {
        this.again = false;
        await this.takeDue();
      } while (this.again && !this.stopped);
    } catch (err) {
      this.o.logger.error({ err }, 'alert delivery loop: taking due deliveries failed; trying again');
    } finally {
      this.running = false;
      if (!this.stopped) {
        clearTimeout(this.timer);
        this.timer = setTimeout(() => void this.tick(), this.o.pollMs);
        this.timer.unref();
      }
    }
  }

  private async takeDue(): Promise<void> {
    const now = this.o.clock.now();
    const full = <K>(busy: Map<K, number>, cap: number) => [...busy].filter(([, n]) => n >= cap).map(([k]) => String(k));
    const due = await this.o.alerts.dueDeliveries(now, BATCH, {
      subscriptionIds: full(this.busySubscriptions, this.o.perSubscription),
      channelTypes: full(this.busyChannels, this.o.perChannel),
    });
    // Within the caps, counting what this round takes.
    const channels = new Map(this.busyChannels);
    const subscriptions = new Map(this.busySubscriptions);
    const wanted = due.filter((d) => {
      if (this.held.has(d.id)) return false;
      const c = channels.get(d.channelType) ?? 0;
      const s = subscriptions.get(d.subscriptionId) ?? 0;
      if (c >= this.o.perChannel || s >= this.o.perSubscription) return false;
      channels.set(d.channelType, c + 1);
      subscriptions.set(d.subscriptionId, s + 1);
      return true;
    });
    if (wanted.length === 0 || this.stopped) return;
    const claimed = new Set(await this.o.alerts.claimDeliveries(wanted.map((d) => d.id), this.o.worker, now, new Date(now.getTime() + this.o.claimMs)));
    const taken = wanted.filter((d) => claimed.has(d.id));
    if (taken.length === 0) return;
    for (const d of taken) {
      this.busy(d, +1);
      this.held.add(d.id);
    }
    // What the sends need, for the whole round in two statements rather than two per delivery.
    const needs = Promise.all([this.o.alerts.listSubscriptions(), this.o.alerts.getEvents([...new Set(taken.map((d) => d.eventId))])]).then(
      ([subscriptions, events]) => ({ subscriptions: new Map(subscriptions.map((s) => [s.id, s])), events }),
    );
    for (const d of taken) {
      const sending = this.attempt(d, needs).finally(() => {
        this.busy(d, -1);
        this.inFlight.delete(sending);
        this.wake();
      });
      this.inFlight.add(sending);
    }
  }

  private busy(d: Delivery, by: number): void {
    this.busyChannels.set(d.channelType, (this.busyChannels.get(d.channelType) ?? 0) + by);
    const n = (this.busySubscriptions.get(d.subscriptionId) ?? 0) + by;
    if (n === 0) this.busySubscriptions.delete(d.subscriptionId);
    else this.busySubscriptions.set(d.subscriptionId, n);
  }

  private async attempt(d: Delivery, needs: Promise<{ subscriptions: Map<string, Subscription>; events: Map<string, CloudEvent> }>): Promise<void> {
    const attempts = d.attempts + 1;
    let error: DeliveryError | undefined;
    try {
      const { subscriptions, events } = await needs;
      const [subscription, event] = [subscriptions.get(d.subscriptionId), events.get(d.eventId)];
      const notifier = subscription && this.o.notifiers[subscription.channel.type];
      if (!subscription || !event) error = new DeliveryError('the subscription or the event is gone', false);
      else if (!notifier) error = new DeliveryError(`this server cannot send ${subscription.channel.type} alerts`, false);
      else await notifier.send(event, subscription);
    } catch (e) {
      error = e instanceof DeliveryError ? e : new DeliveryError((e as Error).message, true);
    }
    const at = this.o.clock.now();
    let outcome: AttemptOutcome;
    if (!error) {
      outcome = { status: 'delivered', attempts, at, error: null };
    } else if (error.retryable && attempts < this.o.retry.maxAttempts) {
      const delay = retryDelayMs(this.o.retry, attempts);
      outcome = { status: 'pending', attempts, at, error: error.message, nextAttemptAt: new Date(at.getTime() + delay) };
      setTimeout(() => this.wake(), delay).unref();
    } else {
      this.o.logger.warn({ delivery: d.id, subscription: d.subscriptionId, event: d.eventId, attempts, error: error.message }, 'alert delivery failed for good');
      outcome = { status: 'failed', attempts, at, error: error.message };
    }
    this.outcomes.push({ id: d.id, outcome });
    if (!this.flushing) this.flush();
  }

  /** Records the outcomes gathered so far in one transaction, then the next batch, until none is left. */
  private flush(): void {
    const batch = this.outcomes.splice(0);
    this.flushing = this.o
      .transaction(async (alerts) => {
        for (const { id, outcome } of batch) await alerts.finishAttempt(id, this.o.worker, outcome);
      })
      .catch((err: unknown) => {
        // The claims run out and the rows are tried again: at least once, never lost.
        this.o.logger.error({ err, deliveries: batch.length }, 'recording alert delivery outcomes failed');
      })
      .finally(() => {
        // Recorded, or (on failure) left to run out its claim and be taken again.
        for (const { id } of batch) this.held.delete(id);
        this.flushing = undefined;
        if (this.outcomes.length > 0) this.flush();
        this.wake();
      });
  }
}
