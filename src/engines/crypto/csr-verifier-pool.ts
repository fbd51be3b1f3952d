/**
 * CsrSignatureVerifier on worker threads. A request goes to an idle worker at once; requests that arrive
 * while every worker is busy wait and leave together, one message per worker, so a burst costs a few
 * thread hand-offs rather than one each. Workers start on demand and retire after a while without work, so
 * an idle server does not keep their memory (~25 MB each).
 */
import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import { DomainError, unavailable } from '../../domain/errors.ts';
import type { CsrSignatureVerifier } from '../../domain/ports/csr-signature-verifier.ts';
import type { Logger } from '../../domain/ports/logger.ts';
import { siblingModule, spawnWorker } from '../spawn-worker.ts';
import type { VerifyBatch, VerifyBatchResult } from './csr-verifier-worker.ts';

interface Job {
  der: Uint8Array;
  resolve: (ok: boolean) => void;
  reject: (err: unknown) => void;
}

interface Slot {
  worker: Worker;
  /** The batch in flight, if any. */
  batch?: { id: number; jobs: Job[] };
  /** Whether it ever answered: a worker that died before its first answer costs the pool a place. */
  answered: boolean;
  /** Set while the slot has no batch; retires the worker when it fires. */
  idle?: NodeJS.Timeout;
}

export interface CsrVerifierPoolOptions {
  /** Most worker threads; default: one per CPU but one, at least one (the main thread has HTTP and the database). */
  size?: number;
  /** Most CSRs in one message. */
  maxBatch?: number;
  /** A worker without work for this long is ended; the next request starts one again. Default 30 s. */
  idleMs?: number;
  logger?: Logger;
}

const workerUrl = siblingModule('csr-verifier-worker', import.meta.url);

const gone = () => unavailable('CSR_VERIFIER_UNAVAILABLE', 'the CSR verification workers are not running');

export class CsrVerifierPool implements CsrSignatureVerifier {
  /** The workers that take batches. */
  private readonly slots: Slot[] = [];
  /** Workers being retired: they have no batch and get none, but their threads have not ended yet. */
  private readonly retiring = new Set<Worker>();
  private queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  /** How many workers may run; shrinks by one for each worker that dies before it ever answered. */
  private capacity: number;
  private readonly maxBatch: number;
  private readonly idleMs: number;

  constructor(private readonly opts: CsrVerifierPoolOptions = {}) {
    this.maxBatch = opts.maxBatch ?? 64;
    this.idleMs = opts.idleMs ?? 30_000;
    this.capacity = opts.size ?? Math.max(1, os.availableParallelism() - 1);
  }

  /** Most workers the pool runs at once. */
  get size(): number {
    return this.capacity;
  }

  /** Worker threads that exist right now, including those still ending after retirement. */
  get liveWorkers(): number {
    return this.slots.length + this.retiring.size;
  }

  verify(csrDer: Uint8Array): Promise<boolean> {
    if (this.closed || this.capacity === 0) return Promise.reject(gone());
    return new Promise<boolean>((resolve, reject) => {
      this.queue.push({ der: csrDer, resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(gone());
    for (const slot of this.slots) clearTimeout(slot.idle);
    // terminate() fires 'exit', which refuses what was in flight; it also ends a worker still starting.
    await Promise.all([...this.slots.map((s) => s.worker), ...this.retiring].map((w) => w.terminate()));
  }

  private start(): Slot {
    const slot: Slot = { worker: spawnWorker(workerUrl), answered: false };
    slot.worker.on('message', (msg: VerifyBatchResult) => this.settle(slot, msg));
    slot.worker.on('error', (err) => this.opts.logger?.error({ err }, 'CSR verification worker failed'));
    slot.worker.on('exit', () => {
      if (this.retiring.delete(slot.worker)) return;
      clearTimeout(slot.idle);
      const lost = slot.batch?.jobs ?? [];
      slot.batch = undefined;
      for (const job of lost) job.reject(gone());
      this.slots.splice(this.slots.indexOf(slot), 1);
      if (this.closed) return;
      // A worker that died after working is replaced on demand; one that never answered (it cannot even
      // load) gives up its place, or it would be restarted forever. With no place left, everything is refused.
      if (!slot.answered) this.capacity--;
      if (this.capacity === 0) for (const job of this.queue.splice(0)) job.reject(gone());
      this.dispatch();
    });
    return slot;
  }

  private dispatch(): void {
    if (this.closed) return;
    for (const slot of this.slots) {
      if (this.queue.length === 0) break;
      if (!slot.batch) this.send(slot);
    }
    while (this.queue.length > 0 && this.slots.length < this.capacity) {
      const slot = this.start();
      this.slots.push(slot);
      this.send(slot);
    }
    for (const slot of this.slots) if (!slot.batch && !slot.idle) slot.idle = setTimeout(() => this.retire(slot), this.idleMs).unref();
  }

  private send(slot: Slot): void {
    clearTimeout(slot.idle);
    slot.idle = undefined;
    const jobs = this.queue.splice(0, this.maxBatch);
    const ends: number[] = [];
    let total = 0;
    for (const j of jobs) ends.push((total += j.der.length));
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const j of jobs) {
      bytes.set(j.der, at);
      at += j.der.length;
    }
    const batch: VerifyBatch = { id: this.nextId++, bytes, ends };
    slot.batch = { id: batch.id, jobs };
    slot.worker.postMessage(batch, [bytes.buffer]);
  }

  /** Ends an idle worker. It leaves the slots at once, so a request from now on goes to another or a new one. */
  private retire(slot: Slot): void {
    slot.idle = undefined;
    if (this.closed || slot.batch || !this.slots.includes(slot)) return;
    this.slots.splice(this.slots.indexOf(slot), 1);
    this.retiring.add(slot.worker);
    void slot.worker.terminate();
  }

  private settle(slot: Slot, msg: VerifyBatchResult): void {
    const batch = slot.batch;
    if (!batch || batch.id !== msg.id) return;
    slot.batch = undefined;
    slot.answered = true;
    batch.jobs.forEach((job, i) => {
      const r = msg.results[i];
      if (typeof r === 'boolean') job.resolve(r);
      else if (r) job.reject(new DomainError(r.code, r.kind, r.message, r.details));
      else job.reject(gone());
    });
    this.dispatch();
  }
}
