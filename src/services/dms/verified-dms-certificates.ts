import type { Certificate } from '../../domain/ca/certificate.ts';
import type { Dms } from '../../domain/dms/dms.ts';
import type { Clock } from '../../domain/ports/clock.ts';
import type { CloudEvent, EventBus } from '../../domain/ports/event-bus.ts';

/** How long a checked DMS certificate is trusted without asking the CA service again. */
export const VERIFIED_DMS_CERTIFICATE_TTL_MS = 1000;

interface Entry {
  serialNumber: string;
  der: Uint8Array;
  notAfter: Date;
  checkedAt: number;
}

/**
 * DMS certificates recently found to be their DMS's current, unrevoked certificate, by DMS id, so that
 * the next enrollment presenting the same bytes skips the CA lookup and the certificate parse. Expiry is
 * checked on every use. Revocation and re-issue through this process's DMS manager drop entries at once;
 * certificate and CA status events reach every replica (broadcast subscriptions) and drop them there as soon
 * as the bus delivers; `ttlMs` bounds what a lost event could leave behind.
 */
export class VerifiedDmsCertificates {
  private readonly entries = new Map<string, Entry>();
  private generation = 0;
  /** False while status events may be lost (bus link down): nothing is remembered then. */
  private following = true;

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs = VERIFIED_DMS_CERTIFICATE_TTL_MS,
  ) {}

  /** Whether `der` is the DMS's current certificate as last checked, still fresh and not expired. */
  holds(dms: Dms, der: Uint8Array): boolean {
    const e = this.entries.get(dms.id);
    if (!e || dms.certificate?.serialNumber !== e.serialNumber) return false;
    const now = this.clock.now().getTime();
    if (now < e.checkedAt || now - e.checkedAt >= this.ttlMs || now > e.notAfter.getTime()) return false;
    return Buffer.compare(e.der, der) === 0;
  }

  /** Taken before a check; `remember` ignores a check that a `forget` overtook. */
  snapshot(): number {
    return this.generation;
  }

  remember(dmsId: string, checked: Certificate, since: number): void {
    if (since !== this.generation || !this.following) return;
    this.entries.set(dmsId, { serialNumber: checked.serialNumber, der: checked.der, notAfter: checked.notAfter, checkedAt: this.clock.now().getTime() });
  }

  /** Drops the entries of this certificate serial, or every entry. */
  forget(serialNumber?: string): void {
    this.generation++;
    if (serialNumber === undefined) return this.entries.clear();
    for (const [id, e] of this.entries) if (e.serialNumber === serialNumber) this.entries.delete(id);
  }

  /**
   * Follows certificate status events on `bus`, this process's own copy of each, and CA status events (a DMS
   * certificate stops authenticating with its CA: every entry goes); while the bus link is down nothing is
   * trusted from the cache. Returns the unsubscribe function.
   */
  async follow(bus: EventBus, group: string): Promise<() => Promise<void>> {
    const stopLink = bus.onLinkChange?.((up) => {
      this.following = up;
      this.forget();
    });
    const certificates = await bus.subscribe(
      'certificate.status.update',
      group,
      (event: CloudEvent) => {
        const serial = (event.data as { serial_number?: unknown } | undefined)?.serial_number;
        this.forget(typeof serial === 'string' ? serial : undefined);
      },
      { broadcast: true },
    );
    const cas = await bus.subscribe('ca.status.update', `${group}.ca`, () => this.forget(), { broadcast: true });
    return async () => {
      stopLink?.();
      await certificates();
      await cas();
    };
  }
}
