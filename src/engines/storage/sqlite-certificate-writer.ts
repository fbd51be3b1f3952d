/**
 * Issued certificates committed to SQLite from a worker thread. better-sqlite3 is synchronous and the
 * database runs `synchronous = FULL`, so a commit on the main thread stalls the event loop for the WAL fsync
 * (milliseconds on this disk) and every request waits behind it. Here the fsync blocks only the writer
 * thread; each batch's promise still resolves only after its commit, so a certificate is durably stored
 * before it is returned. The thread starts with the first insert and is retired, closing its connection,
 * after a while without work, so an idle server does not keep its memory (~25 MB).
 */
import type { Worker } from 'node:worker_threads';
import type { Certificate } from '../../domain/ca/certificate.ts';
import type { CertificateRepository } from '../../domain/ca/certificate-repository.ts';
import { DomainError, unavailable } from '../../domain/errors.ts';
import type { CloudEvent } from '../../domain/ports/event-bus.ts';
import type { Logger } from '../../domain/ports/logger.ts';
import { siblingModule, spawnWorker } from '../spawn-worker.ts';
import type { WriterReply, WriterRequest } from './sqlite-certificate-writer-worker.ts';

const workerUrl = siblingModule('sqlite-certificate-writer-worker', import.meta.url);

interface Pending {
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface Thread {
  worker: Worker;
  /** Batches sent to this thread and not answered yet. */
  pending: Map<number, Pending>;
  /** Whether it ever answered, i.e. it opened the file. */
  answered: boolean;
  /** Set when the thread was asked to close (retirement or close()): its exit is expected. */
  closing: boolean;
  exited: Promise<void>;
}

export interface SqliteCertificateWriterOptions {
  /** The thread is retired after this long without a batch; the next insert starts one again. Default 30 s. */
  idleMs?: number;
}

const gone = () => unavailable('STORAGE_UNAVAILABLE', 'the certificate writer thread is not running');

export class SqliteCertificateWriter implements Pick<CertificateRepository, 'insert' | 'insertMany'> {
  /** The thread that takes new batches, once one is started. */
  private current?: Thread;
  /** Threads asked to close that have not ended yet. */
  private readonly ending = new Set<Thread>();
  private idle?: NodeJS.Timeout;
  private nextId = 1;
  private closing?: Promise<void>;
  /** Set when a thread died before answering anything (it cannot open the file): no thread is started again. */
  private broken = false;
  private readonly idleMs: number;

  /** `file` must already exist and be migrated (createStorage does both). */
  constructor(
    private readonly file: string,
    private readonly logger?: Logger,
    opts: SqliteCertificateWriterOptions = {},
  ) {
    this.idleMs = opts.idleMs ?? 30_000;
  }

  /** Writer threads that exist right now, including one still closing after retirement. */
  get liveWorkers(): number {
    return (this.current ? 1 : 0) + this.ending.size;
  }

  insert(cert: Certificate): Promise<void> {
    return this.insertMany([cert]);
  }

  insertMany(certs: Certificate[], events: readonly CloudEvent[] = []): Promise<void> {
    if (this.closing || this.broken) return Promise.reject(gone());
    if (certs.length === 0) return Promise.resolve();
    clearTimeout(this.idle);
    this.idle = undefined;
    const thread = (this.current ??= this.start());
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      thread.pending.set(id, { resolve, reject });
      thread.worker.postMessage({ id, certs, events } satisfies WriterRequest);
    });
  }

  /** Lets the batches already sent commit, then closes the connection and the thread. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearTimeout(this.idle);
      if (this.current) this.ask(this.current);
      this.current = undefined;
      await Promise.all([...this.ending].map((t) => t.exited));
    })();
    return this.closing;
  }

  /** Asks a thread to commit what it was sent, close its connection and end. */
  private ask(thread: Thread): void {
    thread.closing = true;
    this.ending.add(thread);
    thread.worker.postMessage({ close: true } satisfies WriterRequest);
  }

  private retire(): void {
    this.idle = undefined;
    const thread = this.current;
    if (!thread || thread.pending.size > 0 || this.closing) return;
    this.current = undefined;
    this.ask(thread);
  }

  private start(): Thread {
    const worker = spawnWorker(workerUrl, { file: this.file });
    let exited!: () => void;
    const thread: Thread = { worker, pending: new Map(), answered: false, closing: false, exited: new Promise((r) => (exited = r)) };
    worker.on('message', (reply: WriterReply) => {
      const p = thread.pending.get(reply.id);
      if (!p) return;
      thread.pending.delete(reply.id);
      thread.answered = true;
      if (thread.pending.size === 0 && thread === this.current) this.idle = setTimeout(() => this.retire(), this.idleMs).unref();
      if (reply.ok) return p.resolve();
      const e = reply.error;
      p.reject(e.domain ? new DomainError(e.code, e.kind, e.message, e.details) : new Error(e.message));
    });
    worker.on('error', (err) => this.logger?.error({ err }, 'certificate writer thread failed'));
    worker.on('exit', () => {
      // Whatever was in flight may or may not be committed; its callers get an error, never a false "stored".
      for (const p of thread.pending.values()) p.reject(gone());
      thread.pending.clear();
      this.ending.delete(thread);
      exited();
      if (thread.closing || thread !== this.current) return;
      // It died on its own. The next insert starts a new one, unless this one never answered: then it could
      // not open the file and a new one would fail the same way.
      clearTimeout(this.idle);
      this.current = undefined;
      if (!thread.answered) this.broken = true;
    });
    return thread;
  }
}
