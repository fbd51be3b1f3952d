/**
 * The CA service's state gauges for /metrics, kept in memory so that a scrape reads no row:
 * - certificates by issuing CA and status: one GROUP BY at start, then moved by the certificate and CA
 *   events every replica hears (a broadcast subscription: each replica has its own copy, so each replica's
 *   view counts the changes the others make too); read again from the database when the event bus link
 *   comes back (events may have been lost meanwhile) and after a CA is deleted (its rows go with it);
 * - certificates expiring within 7 and 30 days by issuing CA: time moves them without any event, so each
 *   replica counts them again every `refreshMs` (default: the status sweep interval) over two ranges of the
 *   (status, not_after) index, which read only the rows that do expire in the window.
 */
import type { CloudEvent, EventBus } from '../../domain/ports/event-bus.ts';
import type { Clock } from '../../domain/ports/clock.ts';
import type { Logger } from '../../domain/ports/logger.ts';
import type { LabelledValue, MetricsRecorder } from '../../domain/ports/metrics.ts';
import type { Storage } from '../../domain/ports/storage.ts';
import { CaEventType } from './ca-events.ts';

const DAY = 86_400_000;
/** The windows of lamassu_certificates_expiring, by their `within` label. */
const EXPIRING_WINDOWS: readonly [string, number][] = [
  ['7d', 7 * DAY],
  ['30d', 30 * DAY],
];
const EXTERNAL = 'external';

interface EventCertificate {
  issuer_ca_id?: string | null;
  status?: string;
  previous_status?: string;
}

export interface CertificateGaugesDeps {
  storage: Pick<Storage, 'certificates'>;
  events: EventBus;
  clock: Clock;
  logger: Logger;
  metrics: MetricsRecorder;
  /** Unique per replica: names its broadcast subscription. */
  replicaId: string;
  refreshMs: number;
}

export class CertificateGauges {
  private counts = new Map<string, Map<string, number>>();
  private expiring: LabelledValue[] = [];
  private readonly stops: (() => Promise<void>)[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Bumped by each re-count, so that a re-count's answer is not overwritten by an older one. */
  private generation = 0;

  constructor(private readonly deps: CertificateGaugesDeps) {}

  async start(): Promise<void> {
    const { events, metrics, replicaId } = this.deps;
    const group = `ca.metrics.${replicaId}`;
    const follow = async (type: string, handle: (e: CloudEvent) => void) =>
      this.stops.push(await events.subscribe(type, `${group}.${type}`, handle, { broadcast: true }));
    for (const type of [CaEventType.certificateCreate, CaEventType.certificateImport, CaEventType.caCreate, CaEventType.caImport, CaEventType.caReissue]) {
      await follow(type, (e) => this.add(e.data as EventCertificate, (e.data as EventCertificate).status, 1));
    }
    for (const type of [CaEventType.certificateStatusUpdate, CaEventType.caStatusUpdate]) {
      await follow(type, (e) => {
        const d = e.data as EventCertificate;
        if (d.previous_status === undefined || d.previous_status === d.status) return;
        this.add(d, d.previous_status, -1);
        this.add(d, d.status, 1);
      });
    }
    await follow(CaEventType.caDelete, () => void this.recount());
    const offLink = events.onLinkChange?.((up) => {
      if (up) void this.recount();
    });
    if (offLink) this.stops.push(async () => offLink());
    await Promise.all([this.recount(), this.refreshExpiring()]);
    metrics.stateGauge('certificates', () => this.certificateValues());
    metrics.stateGauge('certificates_expiring', () => this.expiring);
    this.timer = setInterval(() => void this.refreshExpiring(), this.deps.refreshMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(this.stops.splice(0).map((stop) => stop()));
  }

  /** Reads every count again with one GROUP BY (issuer, status). */
  async recount(): Promise<void> {
    const generation = ++this.generation;
    try {
      const rows = await this.deps.storage.certificates.countByIssuerAndStatus();
      if (generation !== this.generation) return;
      const counts = new Map<string, Map<string, number>>();
      for (const r of rows) {
        const ca = r.issuerCaId ?? EXTERNAL;
        let byStatus = counts.get(ca);
        if (!byStatus) counts.set(ca, (byStatus = new Map()));
        byStatus.set(r.status, r.count);
      }
      this.counts = counts;
    } catch (err) {
      this.deps.logger.warn({ err }, 'counting certificates for /metrics failed; the gauge keeps its last values');
    }
  }

  async refreshExpiring(): Promise<void> {
    const now = this.deps.clock.now();
    try {
      const values: LabelledValue[] = [];
      for (const [within, ms] of EXPIRING_WINDOWS) {
        for (const r of await this.deps.storage.certificates.countExpiringByIssuer(now, new Date(now.getTime() + ms))) {
          values.push({ labels: { ca: r.issuerCaId ?? EXTERNAL, within }, value: r.count });
        }
      }
      this.expiring = values;
    } catch (err) {
      this.deps.logger.warn({ err }, 'counting expiring certificates for /metrics failed; the gauge keeps its last values');
    }
  }

  private add(d: EventCertificate, status: string | undefined, n: number): void {
    if (status === undefined) return;
    const ca = d.issuer_ca_id ?? EXTERNAL;
    let byStatus = this.counts.get(ca);
    if (!byStatus) this.counts.set(ca, (byStatus = new Map()));
    byStatus.set(status, Math.max(0, (byStatus.get(status) ?? 0) + n));
  }

  private certificateValues(): LabelledValue[] {
    const values: LabelledValue[] = [];
    for (const [ca, byStatus] of this.counts) for (const [status, value] of byStatus) values.push({ labels: { ca, status }, value });
    return values;
  }
}
