import type { Certificate } from '../../domain/ca/certificate.ts';
import type { CertificateRepository } from '../../domain/ca/certificate-repository.ts';
import type { CloudEvent } from '../../domain/ports/event-bus.ts';

interface Pending {
  cert: Certificate;
  /** Written to the outbox in the same transaction as the certificate. */
  events: readonly CloudEvent[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for issuance: certificates that arrive while a commit is under way are stored together in
 * the next one, so a burst costs one transaction (one fsync on SQLite, one round trip set on PostgreSQL)
 * per batch instead of per certificate, with no added wait when requests come one at a time. Each caller
 * still gets its promise resolved only after its row is committed. If a batch fails (a serial clash, odds
 * 2^-128), its certificates are written one by one so only the culprit sees the error.
 */
export class CertificateBatchWriter {
  private queue: Pending[] = [];
  private flushing = false;

  constructor(
    private readonly certificates: () => Pick<CertificateRepository, 'insert' | 'insertMany'>,
    private readonly maxBatch = 256,
  ) {}

  insert(cert: Certificate, events: readonly CloudEvent[] = []): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ cert, events, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        // Let the requests of this tick join the first batch.
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        await this.certificates().insertMany(batch.map((p) => p.cert), batch.flatMap((p) => p.events));
        for (const p of batch) p.resolve();
      } catch {
        await Promise.all(
          batch.map((p) =>
            this.certificates()
              .insertMany([p.cert], p.events)
              .then(p.resolve, p.reject),
          ),
        );
      }
    }
    this.flushing = false;
  }
}
