/**
 * CsrSignatureVerifier on worker threads. A request goes to an idle worker at once; requests that arrive
 * while every worker is busy wait and leave together, one message per worker, so a burst costs a few
 * thread hand-offs rather than one each.
 */
import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import { DomainError, unavailable } from '../../domain/errors.ts';
import type { CsrSignatureVerifier } from '../../domain/ports/csr-signature-verifier.ts';
import type { Logger } from '../../domain/ports/logger.ts';
import { spawnWorker } from '../spawn-worker.ts';
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
  /** Whether it ever answered: only a worker that worked is replaced when it dies. */
  answered: boolean;
}

export interface CsrVerifierPoolOptions {
  /** Worker threads; default: one per CPU but one, at least one (the main thread has HTTP and the database). */
  size?: number;
  /** Most CSRs in one message. */
  maxBatch?: number;
  logger?: Logger;
}

const workerUrl = new URL('./csr-verifier-worker.ts', import.meta.url);

const gone = () => unavailable('CSR_VERIFIER_UNAVAILABLE', 'the CSR verification workers are not running');

export class CsrVerifierPool implements CsrSignatureVerifier {
  private readonly slots: Slot[] = [];
  private queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  private readonly maxBatch: number;

  constructor(private readonly opts: CsrVerifierPoolOptions = {}) {
    this.maxBatch = opts.maxBatch ?? 64;
    const size = opts.size ?? Math.max(1, os.availableParallelism() - 1);
    for (let i = 0; i < size; i++) this.slots.push(this.start());
  }

  get size(): number {
    return this.slots.length;
  }

  verify(csrDer: Uint8Array): Promise<boolean> {
    if (this.closed || this.slots.length === 0) return Promise.reject(gone());
    return new Promise<boolean>((resolve, reject) => {
      this.queue.push({ der: csrDer, resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const waiting = this.queue.splice(0);
    for (const job of waiting) job.reject(gone());
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    // terminate() fires 'exit', which refuses what was in flight.
  }

  private start(): Slot {
    const slot: Slot = { worker: spawnWorker(workerUrl), answered: false };
    slot.worker.on('message', (msg: VerifyBatchResult) => this.settle(slot, msg));
    slot.worker.on('error', (err) => this.opts.logger?.error({ err }, 'CSR verification worker failed'));
    slot.worker.on('exit', () => {
      const lost = slot.batch?.jobs ?? [];
      slot.batch = undefined;
      for (const job of lost) job.reject(gone());
      if (this.closed) return;
      // A worker that died is replaced so the pool keeps its size; one that never answered (it cannot even
      // load) is not, or it would be restarted forever. With no worker left, everything is refused.
      const at = this.slots.indexOf(slot);
      if (slot.answered) this.slots[at] = this.start();
      else this.slots.splice(at, 1);
      if (this.slots.length === 0) for (const job of this.queue.splice(0)) job.reject(gone());
      this.dispatch();
    });
    return slot;
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.batch) continue;
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
