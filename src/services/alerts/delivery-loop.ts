/**
 * Works the delivery rows: takes due ones (claiming them, so replicas never send the same row twice at
 * once), sends them through their channel, and records the outcome: delivered, retried later with
 * exponential back-off, or failed. Sends run concurrently, with a cap per channel type and per
 * subscription, so a slow or dead endpoint holds only its own slots and never the others or the bus.
 * Rows live in the database: what a stopped or killed process left is picked up again.
 *
 * Rows are claimed ahead of the free send slots: each subscription has a short local queue of claimed rows
 * (with their event and subscription loaded), refilled before it runs dry, so a slot that comes free starts
 * the next send at once instead of waiting for a database round. Database writes are batched (one claim
 * statement per round; the outcomes of the moment in one statement): on SQLite every commit is an fsync,
 * and one per row would pace every channel by the disk.
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
  /** Sends in flight at most per channel type: one figure for all, or one per type. */
  perChannel: number | Record<ChannelType, number>;
  perSubscription: number;
  /** Finished deliveries and recorded events older than this are pruned, every `pruneEveryMs`. */
  retentionMs: number;
  pruneEveryMs: number;
}

const BATCH = 500;

interface Queued {
  d: Delivery;
  subscription: Subscription | undefined;
  event: CloudEvent | undefined;
  /** When this process's claim on the row runs out. */
  claimedUntil: number;
}

export class DeliveryLoop {
  private timer: NodeJS.Timeout | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private pruning: Promise<void> | undefined;
  private running = false;
  private again = false;
  private stopped = true;
  private readonly inFlight = new Set<Promise<void>>();
  /**
   * Rows this process claimed whose outcome is not recorded yet (queued or sending). Their claim may run out
   * meanwhile (a database slower than the claim), which makes them due again: this process must not take
   * them a second time and send them twice.
   */
  private readonly held = new Set<string>();
  /** Claimed rows waiting for a send slot, per subscription, oldest first. */
  private readonly queues = new Map<string, Queued[]>();
  private readonly busyChannels = new Map<ChannelType, number>();
  private readonly busySubscriptions = new Map<string, number>();
  private outcomes: { id: string; outcome: AttemptOutcome }[] = [];
  private released: string[] = [];
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

  /**
   * Stops taking rows, gives back the claimed rows not sent yet, waits for the sends in flight (each bounded
   * by its channel's timeout) and records their outcomes.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.pruneTimer);
    await this.pruning;
    while (this.running || this.inFlight.size > 0 || this.flushing || this.outcomes.length > 0 || this.released.length > 0 || this.queued() > 0) {
      this.releaseQueued();
      await Promise.allSettled([...this.inFlight]);
      if (this.flushing) await this.flushing;
      else if (this.outcomes.length > 0 || this.released.length > 0) this.flush();
      else await new Promise((r) => setTimeout(r, 10));
    }
  }

  private queued(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  private releaseQueued(): void {
    for (const q of this.queues.values()) for (const { d } of q) this.released.push(d.id);
    this.queues.clear();
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

  /**
   * Rows a subscription may hold (sending and queued): its send slots and four times as many waiting, so a
   * claim round serves many sends. A queued row that waits too long is given back (see `pump`).
   */
  private get subscriptionRoom(): number {
    return 5 * this.o.perSubscription;
  }

  private channelCap(type: string): number {
    const cap = this.o.perChannel;
    return typeof cap === 'number' ? cap : cap[type as ChannelType];
  }

  private channelRoom(type: string): number {
    return 5 * this.channelCap(type);
  }

  private held_(busy: Map<string, number>, key: string, queued: Map<string, number>): number {
    return (busy.get(key) ?? 0) + (queued.get(key) ?? 0);
  }

  private async takeDue(): Promise<void> {
    const now = this.o.clock.now();
    // What each subscription and channel type holds now: sending plus queued.
    const subscriptions = new Map<string, number>();
    const channels = new Map<string, number>();
    const queuedBy = new Map<string, number>();
    const queuedByChannel = new Map<string, number>();
    for (const [sid, q] of this.queues) {
      queuedBy.set(sid, q.length);
      for (const { d } of q) queuedByChannel.set(d.channelType, (queuedByChannel.get(d.channelType) ?? 0) + 1);
    }
    for (const sid of new Set([...this.busySubscriptions.keys(), ...queuedBy.keys()])) subscriptions.set(sid, this.held_(this.busySubscriptions, sid, queuedBy));
    for (const c of new Set<string>([...this.busyChannels.keys(), ...queuedByChannel.keys()])) channels.set(c, this.held_(this.busyChannels as Map<string, number>, c, queuedByChannel));
    const full = (held: Map<string, number>, cap: (key: string) => number) => [...held].filter(([k, n]) => n >= cap(k)).map(([k]) => k);
    // No more rows than there is room for: what the subscriptions seen here can take, and one more's worth
    // (rows of others come once these are full and left out of the query).
    let free = this.subscriptionRoom;
    for (const n of subscriptions.values()) free += Math.max(0, this.subscriptionRoom - n);
    const due = await this.o.alerts.dueDeliveries(now, Math.min(BATCH, free), {
      subscriptionIds: full(subscriptions, () => this.subscriptionRoom),
      channelTypes: full(channels, (c) => this.channelRoom(c)),
    });
    // Within the room, counting what this round takes.
    const wanted = due.filter((d) => {
      if (this.held.has(d.id)) return false;
      const c = channels.get(d.channelType) ?? 0;
      const s = subscriptions.get(d.subscriptionId) ?? 0;
      if (c >= this.channelRoom(d.channelType) || s >= this.subscriptionRoom) return false;
      channels.set(d.channelType, c + 1);
      subscriptions.set(d.subscriptionId, s + 1);
      return true;
    });
    if (wanted.length === 0 || this.stopped) return;
    const until = now.getTime() + this.o.claimMs;
    const claimed = new Set(await this.o.alerts.claimDeliveries(wanted.map((d) => d.id), this.o.worker, now, new Date(until)));
    const taken = wanted.filter((d) => claimed.has(d.id));
    if (taken.length === 0) return;
    for (const d of taken) this.held.add(d.id);
    // What the sends need, for the whole round in two statements rather than two per delivery.
    let needs: { subscriptions: Map<string, Subscription>; events: Map<string, CloudEvent> };
    try {
      const [subs, events] = await Promise.all([this.o.alerts.listSubscriptions(), this.o.alerts.getEvents([...new Set(taken.map((d) => d.eventId))])]);
      needs = { subscriptions: new Map(subs.map((s) => [s.id, s])), events };
    } catch (err) {
      // Given back so they are taken again at once rather than when the claim runs out.
      this.released.push(...taken.map((d) => d.id));
      if (!this.flushing) this.flush();
      throw err;
    }
    for (const d of taken) {
      let q = this.queues.get(d.subscriptionId);
      if (!q) this.queues.set(d.subscriptionId, (q = []));
      q.push({ d, subscription: needs.subscriptions.get(d.subscriptionId), event: needs.events.get(d.eventId), claimedUntil: until });
    }
    this.pump();
  }

  /** Starts sends from the queues while their subscription and channel have free slots. */
  private pump(): void {
    if (this.stopped) return;
    const now = this.o.clock.now().getTime();
    for (const [sid, q] of this.queues) {
      while (q.length > 0) {
        const next = q[0]!;
        if ((this.busySubscriptions.get(sid) ?? 0) >= this.o.perSubscription) break;
        if ((this.busyChannels.get(next.d.channelType) ?? 0) >= this.channelCap(next.d.channelType)) break;
        q.shift();
        // A row that waited for a slot until half its claim is gone goes back: its send could outlast the
        // claim, and another replica could take it meanwhile.
        if (next.claimedUntil - now < this.o.claimMs / 2) {
          this.released.push(next.d.id);
          if (!this.flushing) this.flush();
          continue;
        }
        this.send(next);
      }
      if (q.length === 0) this.queues.delete(sid);
    }
  }

  private send(item: Queued): void {
    const { d } = item;
    this.busy(d, +1);
    const sending = this.attempt(item).finally(() => {
      this.busy(d, -1);
      this.inFlight.delete(sending);
      this.pump();
      // Refilled before it runs dry: once fewer rows wait than two rounds of its send slots.
      const q = this.queues.get(d.subscriptionId)?.length ?? 0;
      if (q <= 2 * this.o.perSubscription) this.wake();
    });
    this.inFlight.add(sending);
  }

  private busy(d: Delivery, by: number): void {
    this.busyChannels.set(d.channelType, (this.busyChannels.get(d.channelType) ?? 0) + by);
    const n = (this.busySubscriptions.get(d.subscriptionId) ?? 0) + by;
    if (n === 0) this.busySubscriptions.delete(d.subscriptionId);
    else this.busySubscriptions.set(d.subscriptionId, n);
  }

  private async attempt({ d, subscription, event }: Queued): Promise<void> {
    const attempts = d.attempts + 1;
    let error: DeliveryError | undefined;
    try {
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

  /** Records the outcomes gathered so far (one statement) and gives back released rows, then the next batch, until none is left. */
  private flush(): void {
    const batch = this.outcomes.splice(0);
    const released = this.released.splice(0);
    const now = this.o.clock.now();
    this.flushing = Promise.all([
      batch.length > 0 &&
        this.o.alerts.finishAttempts(this.o.worker, batch).catch((err: unknown) => {
          // The claims run out and the rows are tried again: at least once, never lost.
          this.o.logger.error({ err, deliveries: batch.length }, 'recording alert delivery outcomes failed');
        }),
      released.length > 0 &&
        this.o.alerts.releaseDeliveries(released, this.o.worker, now).catch((err: unknown) => {
          this.o.logger.warn({ err, deliveries: released.length }, 'giving back unsent alert deliveries failed; their claims run out instead');
        }),
    ])
      .then(() => undefined)
      .finally(() => {
        // Recorded, or (on failure) left to run out its claim and be taken again.
        for (const { id } of batch) this.held.delete(id);
        for (const id of released) this.held.delete(id);
        this.flushing = undefined;
        if (this.outcomes.length > 0 || this.released.length > 0) this.flush();
        this.wake();
      });
  }
}
