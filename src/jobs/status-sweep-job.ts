import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Clock } from '../domain/ports/clock.ts';
import type { LeaseRepository } from '../domain/ports/lease.ts';
import type { Logger } from '../domain/ports/logger.ts';
import type { MetricsRecorder } from '../domain/ports/metrics.ts';
import { LeasedJob } from './leased-job.ts';

export const STATUS_SWEEP_JOB = 'ca.status-sweep';

/** What the job needs of the CA service (CaService has both). */
export interface StatusSweeper {
  applyGlobalAboutToExpire(): Promise<number>;
  sweepStatuses(): Promise<unknown>;
}

export interface StatusSweepJobOptions {
  sweeper: StatusSweeper;
  intervalMs: number;
  leases: LeaseRepository;
  clock: Clock;
  logger: Logger;
  /** Defaults to host, pid and a random id. */
  holder?: string;
  /** Times each sweep (lamassu_status_sweep_duration_seconds). */
  metrics?: MetricsRecorder;
}

/**
 * The CA status sweep on a schedule, at start and every `intervalMs`, on one replica at a time. The first
 * run this replica makes also brings stored about-to-expire times in line with the configured global
 * threshold (it may have changed since the last start); later runs only sweep.
 */
export function statusSweepJob(opts: StatusSweepJobOptions): LeasedJob {
  let thresholdApplied = false;
  return new LeasedJob({
    name: STATUS_SWEEP_JOB,
    holder: opts.holder ?? `${hostname()}:${process.pid}:${randomUUID()}`,
    intervalMs: opts.intervalMs,
    leases: opts.leases,
    clock: opts.clock,
    logger: opts.logger,
    task: async () => {
      if (!thresholdApplied) {
        await opts.sweeper.applyGlobalAboutToExpire();
        thresholdApplied = true;
      }
      const elapsed = opts.metrics?.stopwatch();
      await opts.sweeper.sweepStatuses();
      if (elapsed) opts.metrics!.statusSweepFinished(elapsed());
    },
  });
}
