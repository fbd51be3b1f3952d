import type { Clock } from '../../domain/ports/clock.ts';
import type { CloudEvent, EventBus } from '../../domain/ports/event-bus.ts';
import type { LeaseRepository } from '../../domain/ports/lease.ts';
import type { Logger } from '../../domain/ports/logger.ts';
import type { OutboxEntry, OutboxRepository } from '../../domain/ports/outbox.ts';

export const OUTBOX_RELAY_LEASE = 'outbox.relay';

export interface OutboxRelayOptions {
  /** The outbox on the pool (not in a transaction). */
  outbox: OutboxRepository;
  leases: LeaseRepository;
  /** Where the rows go: its `publishConfirmed` when it has one, else `publish`. */
  bus: EventBus;
  clock: Clock;
  logger: Logger;
  /** This replica's identity among replicas (host + pid + random). */
  holder: string;
  batchSize?: number;
  /** How often the holder looks for rows other replicas wrote (its own wake it at once). */
  pollMs?: number;
  /**
   * After a batch that was not full, the next round waits this long even when woken: under a stream of
   * small commits rows gather into fewer batches, so the deletes (a commit each, an fsync on SQLite's main
   * connection) stay few. A full batch goes on at once. Default 20 ms.
   */
  minRoundMs?: number;
  /**
   * The lease outlives a dead holder by this much at most. Renewed between batches every third of it (2 s at
   * most), so a batch that waits out the bus's confirm timeout (5 s) still ends well inside the lease.
   */
  leaseTtlMs?: number;
  /** Back-off while the bus refuses: first delay, doubling up to the last (with jitter). */
  retryDelayMs?: { initial: number; max: number };
}

export interface OutboxRelayState {
  /** Whether this replica holds the relay lease. */
  leader: boolean;
  /** Events this replica relayed since start. */
  relayed: number;
  /** Failed attempts in a row (0 while the bus takes events). */
  failingAttempts: number;
}

/**
 * Sends the outbox to the bus: at least once (rows are deleted only after the bus confirmed them), in
 * write order (one runner across replicas, holding a lease; one batch at a time, and a batch that fails is
 * sent again from its first row, so nothing overtakes it), with back-off while the bus is away.
 *
 * Order per aggregate holds across transactions too: a change to a resource writes its row before its
 * outbox rows, so a later change to the same resource waits for the earlier transaction's commit (row lock)
 * and gets a higher `seq`. Rows of unrelated changes may commit out of `seq` order on PostgreSQL; the relay
 * deletes rows by seq, never by range, so a row that commits late is sent on the next round, not skipped.
 */
export class OutboxRelay {
  private readonly batchSize: number;
  private readonly pollMs: number;
  private readonly minRoundMs: number;
  private readonly leaseTtlMs: number;
  private readonly delays: { initial: number; max: number };
  private leader = false;
  private renewAt = 0;
  private relayed = 0;
  private failing = 0;
  private stopped = true;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private kicked = false;
  /** The next batch, read ahead while the current one was being confirmed. */
  private next: Promise<OutboxEntry[]> | undefined;

  constructor(private readonly opts: OutboxRelayOptions) {
    this.batchSize = opts.batchSize ?? 500;
    this.pollMs = opts.pollMs ?? 200;
    this.minRoundMs = opts.minRoundMs ?? 20;
    this.leaseTtlMs = opts.leaseTtlMs ?? 10_000;
    this.delays = opts.retryDelayMs ?? { initial: 200, max: 5000 };
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run();
  }

  /** New rows were committed here: look at once instead of at the next poll. */
  kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  state(): OutboxRelayState {
    return { leader: this.leader, relayed: this.relayed, failingAttempts: this.failing };
  }

  /** Finishes the batch in flight, then gives the lease up so another replica takes over at once. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.wake?.();
    await this.loop;
    if (this.leader) await this.opts.leases.release(OUTBOX_RELAY_LEASE, this.opts.holder).catch(() => undefined);
    this.leader = false;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        if (!(await this.holdLease())) {
          this.next = undefined;
          await this.pause(this.leaseTtlMs / 3);
          continue;
        }
        const ahead = this.next;
        this.next = undefined;
        const rows = await (ahead ?? this.opts.outbox.oldest(this.batchSize));
        if (rows.length === 0) {
          await this.pause(this.pollMs);
          continue;
        }
        const seqs = rows.map((r) => r.seq);
        // A full batch: the next one is read while this one's confirms are awaited (it is sent only after
        // they came, so the order holds). Dropped if this one fails: the next round reads afresh.
        const next = rows.length === this.batchSize ? this.opts.outbox.oldest(this.batchSize, seqs) : undefined;
        next?.catch(() => undefined);
        try {
          await this.send(rows.map((r) => r.event));
          await this.opts.outbox.remove(seqs);
        } catch (err) {
          await next?.catch(() => undefined);
          throw err;
        }
        this.next = next;
        this.relayed += rows.length;
        if (this.failing > 0) this.opts.logger.info({ failedAttempts: this.failing }, 'outbox relay: the event bus takes events again');
        this.failing = 0;
        if (rows.length < this.batchSize) await this.pause(this.minRoundMs, false);
      } catch (err) {
        this.failing++;
        const delay = Math.min(this.delays.max, this.delays.initial * 2 ** Math.min(this.failing - 1, 20));
        const log = { err: (err as Error)?.message, attempt: this.failing, retryInMs: Math.round(delay) };
        if (this.failing === 1) this.opts.logger.warn(log, 'outbox relay: cannot send events; they stay in the outbox and are retried with back-off');
        else this.opts.logger.debug(log, 'outbox relay: retrying');
        await this.pause(delay * (0.75 + Math.random() / 2), false);
      }
    }
  }

  private async holdLease(): Promise<boolean> {
    const now = this.opts.clock.now();
    if (this.leader && now.getTime() < this.renewAt) return true;
    const held = await this.opts.leases.tryAcquire(OUTBOX_RELAY_LEASE, this.opts.holder, this.leaseTtlMs, now);
    if (held !== this.leader) this.opts.logger.info({ holder: this.opts.holder }, held ? 'outbox relay: this replica relays the outbox' : 'outbox relay: lease lost to another replica');
    this.leader = held;
    this.renewAt = now.getTime() + Math.min(2000, this.leaseTtlMs / 3);
    return held;
  }

  private send(events: CloudEvent[]): Promise<void> {
    const bus = this.opts.bus;
    return bus.publishConfirmed ? bus.publishConfirmed(events) : bus.publish(events);
  }

  /** Sleeps `ms`; a kick (new local rows) ends it early unless `wakeable` is false (back-off). */
  private pause(ms: number, wakeable = true): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (wakeable && this.kicked) {
      this.kicked = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        if (wakeable || this.stopped) done();
      };
    }).finally(() => {
      this.wake = undefined;
      if (wakeable) this.kicked = false;
    });
  }
}
