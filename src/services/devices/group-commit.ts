import type { Repositories, Storage } from '../../domain/ports/storage.ts';

type Work<T> = (tx: Repositories) => Promise<T>;

interface Pending {
  work: Work<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit: units of work that arrive while a transaction is under way run together in the next one,
 * so a burst of enrollments costs one commit (one fsync on SQLite, whose synchronous driver stalls the event
 * loop for it) per batch instead of one each. A lone unit waits for nothing more than the current tick.
 * Up to `parallel` batches run at once: 1 suits SQLite's single connection; a PostgreSQL pool gains from
 * a few, since each batch waits on round trips. Each caller's promise settles only after its batch
 * committed. When a unit throws, the batch rolls back and its units run again one transaction each, so
 * only the culprit sees its error; units must therefore read what they decide on inside `tx` and return
 * their side effects instead of performing them.
 */
export class GroupCommit {
  private readonly queue: Pending[] = [];
  private active = 0;
  private scheduled = false;

  constructor(
    private readonly storage: Pick<Storage, 'transaction'>,
    private readonly parallel = 1,
    private readonly maxBatch = 64,
  ) {}

  run<T>(work: Work<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.scheduled || this.active >= this.parallel || this.queue.length === 0) return;
    this.scheduled = true;
    this.active++;
    // Let the units of this tick join the batch.
    setImmediate(() => {
      this.scheduled = false;
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.kick();
      if (batch.length > 1) {
        try {
          const results = await this.storage.transaction(async (tx) => {
            const out: unknown[] = [];
            for (const p of batch) out.push(await p.work(tx));
            return out;
          });
          batch.forEach((p, i) => p.resolve(results[i]));
          continue;
        } catch {
          // Rolled back as a whole: retried alone below.
        }
      }
      for (const p of batch) await this.storage.transaction(p.work).then(p.resolve, p.reject);
    }
    this.active--;
  }
}
