/**
 * `lamassu serve` with several worker processes (`--workers N`, LAMASSU_WORKERS): this process becomes a
 * node:cluster primary that only supervises; each worker is a whole `lamassu serve` (the same program, the
 * same configuration) and the workers share the HTTPS and HTTP listeners (the primary hands connections
 * round-robin). They behave as replicas on one machine: PostgreSQL is shared (SQLite is refused for N > 1 by
 * the configuration), scheduled jobs and the outbox relay run once under their database lease, and each
 * worker answers /health and /metrics for itself.
 *
 * Start: worker 1 alone first (it migrates the database, creates the internal CAs, the admin token and the
 * TLS files in the data directory), then the others. TLS session tickets work whichever worker a client
 * reaches next: the primary gives every worker the same ticket keys. SIGTERM/SIGINT: every worker finishes
 * its requests in flight and exits; the primary exits 0 when all did. A worker that dies on its own is
 * replaced; more than MAX_CRASHES in CRASH_WINDOW_MS stops everything (exit 1).
 */
import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import type { Logger } from './domain/ports/logger.ts';
import { withServerNodeFlags } from './server-node-flags.ts';

/** Message a worker sends once its listeners accept connections. */
export const READY_MESSAGE = 'lamassu:ready';
/** Environment of a worker: its number (1..N) and the shared TLS ticket keys (base64, 48 bytes). */
export const WORKER_INDEX_ENV = 'LAMASSU_WORKER_INDEX';
export const TICKET_KEYS_ENV = 'LAMASSU_TLS_TICKET_KEYS';

const MAX_CRASHES = 5;
const CRASH_WINDOW_MS = 60_000;

export interface SuperviseOptions {
  workers: number;
  logger: Logger;
  /** How long workers get to finish after SIGTERM before they are killed. */
  shutdownDeadlineMs: number;
}

/** Resolves with the exit code once every worker has stopped. */
export function superviseWorkers(opts: SuperviseOptions): Promise<number> {
  const { logger } = opts;
  const ticketKeys = randomBytes(48).toString('base64');
  const live = new Map<number, Worker>();
  const crashes: number[] = [];
  let stopping = false;
  let exitCode = 0;
  let done!: (code: number) => void;
  const finished = new Promise<number>((r) => (done = r));

  cluster.setupPrimary({ execArgv: withServerNodeFlags(process.execArgv) });
  const fork = (index: number): Promise<void> =>
    new Promise((resolve) => {
      const worker = cluster.fork({ [WORKER_INDEX_ENV]: String(index), [TICKET_KEYS_ENV]: ticketKeys });
      live.set(index, worker);
      let ready = false;
      worker.on('message', (msg: unknown) => {
        if (msg !== READY_MESSAGE) return;
        ready = true;
        resolve();
      });
      worker.once('exit', (code, signal) => {
        live.delete(index);
        if (!ready) resolve();
        if (stopping) {
          if (code !== 0) exitCode = 1;
          if (live.size === 0) done(exitCode);
          return;
        }
        if (!ready && index === 1) {
          // The first worker could not start (configuration, database): the others would fail the same way.
          stopping = true;
          exitCode = code ?? 1;
          stopAll();
          if (live.size === 0) done(exitCode);
          return;
        }
        const now = Date.now();
        crashes.push(now);
        while (crashes[0]! < now - CRASH_WINDOW_MS) crashes.shift();
        logger.error({ worker: index, code, signal }, 'worker process stopped on its own');
        if (crashes.length > MAX_CRASHES) {
          logger.error({ crashes: crashes.length, windowMs: CRASH_WINDOW_MS }, 'workers keep stopping; shutting down');
          stopping = true;
          exitCode = 1;
          stopAll();
          if (live.size === 0) done(exitCode);
          return;
        }
        setTimeout(() => void (stopping ? undefined : fork(index)), 1000).unref();
      });
    });

  const stopAll = () => {
    for (const w of live.values()) w.process.kill('SIGTERM');
    setTimeout(() => {
      for (const w of live.values()) w.process.kill('SIGKILL');
    }, opts.shutdownDeadlineMs + 2000).unref();
  };

  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, workers: live.size }, 'shutting down: workers finish their requests in flight');
    if (live.size === 0) done(exitCode);
    else stopAll();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));

  void (async () => {
    await fork(1);
    if (stopping) return;
    await Promise.all(Array.from({ length: opts.workers - 1 }, (_, i) => fork(i + 2)));
    if (!stopping) logger.info({ workers: opts.workers, pid: process.pid }, 'lamassu is serving with worker processes');
  })();
  return finished;
}
