/**
 * Worker thread of SqliteCertificateWriter: its own connection to the SQLite file (WAL, synchronous FULL),
 * inserting the batches it is sent (certificates and the outbox rows of their events) one after another and answering each once it is committed.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Certificate } from '../../domain/ca/certificate.ts';
import { DomainError } from '../../domain/errors.ts';
import type { CloudEvent } from '../../domain/ports/event-bus.ts';
import { createStorage } from './create-storage.ts';

export type WriterRequest = { id: number; certs: Certificate[]; events: readonly CloudEvent[] } | { close: true };
export type WriterReply =
  | { id: number; ok: true }
  | { id: number; ok: false; error: { domain: true; code: string; kind: DomainError['kind']; message: string; details?: Record<string, unknown> } | { domain: false; message: string } };

const port = parentPort!;
// The main thread created and migrated the file before starting this worker.
const storage = createStorage({ kind: 'sqlite', file: (workerData as { file: string }).file }, { migrate: false });
let chain: Promise<void> = Promise.resolve();

async function handle(msg: WriterRequest): Promise<void> {
  const db = await storage;
  if ('close' in msg) {
    await db.close();
    port.close();
    return;
  }
  try {
    // Through storage.transaction: the commit holds the write lock without its fsync (made right after, before
    // the answer), so the main thread's transactions wait less for the lock.
    await db.transaction((tx) => tx.certificates.insertMany(msg.certs, msg.events));
    port.postMessage({ id: msg.id, ok: true } satisfies WriterReply);
  } catch (e) {
    const error =
      e instanceof DomainError
        ? { domain: true as const, code: e.code, kind: e.kind, message: e.message, ...(e.details ? { details: e.details } : {}) }
        : { domain: false as const, message: e instanceof Error ? e.message : String(e) };
    port.postMessage({ id: msg.id, ok: false, error } satisfies WriterReply);
  }
}

// One batch at a time, in order; close comes after everything sent before it.
port.on('message', (msg: WriterRequest) => {
  chain = chain.then(() => handle(msg));
});
