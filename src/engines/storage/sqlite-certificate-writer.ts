/**
 * Issued certificates committed to SQLite from a worker thread. better-sqlite3 is synchronous and the
 * database runs `synchronous = FULL`, so a commit on the main thread stalls the event loop for the WAL fsync
 * (milliseconds on this disk) and every request waits behind it. Here the fsync blocks only the writer
 * thread; each batch's promise still resolves only after its commit, so a certificate is durably stored
 * before it is returned.
 */
import type { Worker } from 'node:worker_threads';
import type { Certificate } from '../../domain/ca/certificate.ts';
import type { CertificateRepository } from '../../domain/ca/certificate-repository.ts';
import { DomainError, unavailable } from '../../domain/errors.ts';
import type { Logger } from '../../domain/ports/logger.ts';
import { spawnWorker } from '../spawn-worker.ts';
import type { WriterReply, WriterRequest } from './sqlite-certificate-writer-worker.ts';

const workerUrl = new URL('./sqlite-certificate-writer-worker.ts', import.meta.url);

interface Pending {
  resolve: () => void;
  reject: (err: unknown) => void;
}

const gone = () => unavailable('STORAGE_UNAVAILABLE', 'the certificate writer thread is not running');

export class SqliteCertificateWriter implements Pick<CertificateRepository, 'insert' | 'insertMany'> {
  private worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closing?: Promise<void>;
  /** Set when the thread died before committing anything (it cannot open the file): not restarted. */
  private broken = false;
  private committed = false;

  /** `file` must already exist and be migrated (createStorage does both). */
  constructor(
    private readonly file: string,
    private readonly logger?: Logger,
  ) {
    this.worker = this.start();
  }

  insert(cert: Certificate): Promise<void> {
    return this.insertMany([cert]);
  }

  insertMany(certs: Certificate[]): Promise<void> {
    if (this.closing || this.broken) return Promise.reject(gone());
    if (certs.length === 0) return Promise.resolve();
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, certs } satisfies WriterRequest);
    });
  }

  /** Lets the batches already sent commit, then closes the connection and the thread. */
  close(): Promise<void> {
    if (this.broken) this.closing ??= Promise.resolve();
    this.closing ??= new Promise<void>((resolve) => {
      this.worker.once('exit', () => resolve());
      this.worker.postMessage({ close: true } satisfies WriterRequest);
    });
    return this.closing;
  }

  private start(): Worker {
    const worker = spawnWorker(workerUrl, { file: this.file });
    worker.on('message', (reply: WriterReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (reply.ok) {
        this.committed = true;
        return p.resolve();
      }
      const e = reply.error;
      p.reject(e.domain ? new DomainError(e.code, e.kind, e.message, e.details) : new Error(e.message));
    });
    worker.on('error', (err) => this.logger?.error({ err }, 'certificate writer thread failed'));
    worker.on('exit', () => {
      // Whatever was in flight may or may not be committed; its callers get an error, never a false "stored".
      for (const p of this.pending.values()) p.reject(gone());
      this.pending.clear();
      if (this.closing) return;
      // A thread that committed before is restarted; one that never did would fail again at once.
      if (this.committed) this.worker = this.start();
      else this.broken = true;
    });
    return worker;
  }
}
