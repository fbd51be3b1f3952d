import type { Clock } from '../domain/ports/clock.ts';
import type { LeaseRepository } from '../domain/ports/lease.ts';
import type { Logger } from '../domain/ports/logger.ts';

export interface LeasedJobOptions {
  /** Lease name shared by every replica, e.g. "ca.status-sweep". */
  name: string;
  /** This replica's identity (host + pid + random), unique among replicas. */
  holder: string;
  intervalMs: number;
  leases: LeaseRepository;
  clock: Clock;
  logger: Logger;
  task: () => Promise<void>;
  /** Run once at start (default true). */
  runAtStart?: boolean;
}

/**
 * Runs `task` every `intervalMs` on exactly one replica: each run first takes (or renews) a lease in
 * the database, and a replica that does not get it skips that run. The lease outlives one interval, so
 * a crashed holder is replaced after at most two intervals.
 */
export class LeasedJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<boolean> | undefined;
  private stopped = false;

  constructor(private readonly opts: LeasedJobOptions) {}

  start(): void {
    this.stopped = false;
    const first = this.opts.runAtStart === false ? this.opts.intervalMs : 0;
    this.schedule(first);
  }

  /** Runs one round now (tests and start-up). Resolves true when this replica ran the task. */
  runOnce(): Promise<boolean> {
    if (!this.running) {
      this.running = this.round().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    await this.opts.leases.release(this.opts.name, this.opts.holder).catch(() => undefined);
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.runOnce().finally(() => this.schedule(this.opts.intervalMs));
    }, delay);
    this.timer.unref();
  }

  private async round(): Promise<boolean> {
    const { name, holder, intervalMs, leases, clock, logger, task } = this.opts;
    try {
      const ttl = Math.max(intervalMs * 2, 60_000);
      if (!(await leases.tryAcquire(name, holder, ttl, clock.now()))) {
        logger.debug({ job: name }, 'another replica holds the job lease');
        return false;
      }
      const started = performance.now();
      await task();
      logger.info({ job: name, ms: Math.round(performance.now() - started) }, 'job run finished');
      return true;
    } catch (err) {
      logger.error({ job: name, err }, 'job run failed');
      return false;
    }
  }
}
