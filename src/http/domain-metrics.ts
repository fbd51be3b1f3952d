/**
 * The services' metrics (domain/ports/metrics.ts) in Prometheus terms, on the server's registry. Counters and
 * histograms are plain prom-client calls (a label lookup and an add); state gauges read what the services
 * keep in memory when scraped, so a scrape never queries the database. Names and meanings: docs/operations.md.
 */
import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { EstOperation, KeyEngineOperation, LabelledValue, MetricsRecorder, StateGauge } from '../domain/ports/metrics.ts';
import { KeptSeries } from './kept-series.ts';

/** Every metric this module exposes (the dashboard test checks the dashboard uses only these and the HTTP ones). */
export const DOMAIN_METRIC_NAMES = [
  'lamassu_certificates_issued_total',
  'lamassu_certificates',
  'lamassu_certificates_expiring',
  'lamassu_est_enrollments_total',
  'lamassu_est_enrollment_duration_seconds',
  'lamassu_ocsp_responses_total',
  'lamassu_crl_generation_seconds',
  'lamassu_status_sweep_duration_seconds',
  'lamassu_key_engine_operations_total',
  'lamassu_devices',
] as const;

/** Distinct `dms` labels of lamassu_est_enrollments_total; later ones count as "other". */
export const MAX_DMS_LABELS = 1000;

const GAUGES: Record<StateGauge, { name: string; help: string; labelNames: string[] }> = {
  certificates: { name: 'lamassu_certificates', help: 'Certificates by issuing CA ("external" for none) and status', labelNames: ['ca', 'status'] },
  certificates_expiring: {
    name: 'lamassu_certificates_expiring',
    help: 'Certificates not revoked nor expired whose notAfter falls within 7 or 30 days, by issuing CA',
    labelNames: ['ca', 'within'],
  },
  devices: { name: 'lamassu_devices', help: 'Devices by status', labelNames: ['status'] },
};

export class PrometheusMetricsRecorder implements MetricsRecorder {
  private readonly issued: Counter<'ca' | 'profile'>;
  private readonly est: Counter<'dms' | 'operation' | 'result'>;
  private readonly estDuration: Histogram<'operation'>;
  private readonly ocsp: Counter<'ca' | 'status'>;
  private readonly ocspSeries = new KeptSeries<{ inc(): void }>();
  private readonly crl: Histogram;
  private readonly sweep: Histogram;
  private readonly keyOps: Counter<'engine' | 'op' | 'result'>;
  private readonly readers = new Map<StateGauge, () => LabelledValue[]>();
  private readonly dmsLabels = new Set<string>();

  constructor(registry: Registry) {
    const registers = [registry];
    this.issued = new Counter({ name: 'lamassu_certificates_issued_total', help: 'Certificates issued, by issuing CA and profile', labelNames: ['ca', 'profile'], registers });
    this.est = new Counter({
      name: 'lamassu_est_enrollments_total',
      help: 'EST enrollments, by DMS, operation (enroll, reenroll, serverkeygen) and result ("success" or an error code)',
      labelNames: ['dms', 'operation', 'result'],
      registers,
    });
    this.estDuration = new Histogram({
      name: 'lamassu_est_enrollment_duration_seconds',
      help: 'Time to answer an EST enrollment, by operation',
      labelNames: ['operation'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.ocsp = new Counter({
      name: 'lamassu_ocsp_responses_total',
      help: 'OCSP answers, by CA ("none" for error answers) and status (good, revoked, unknown, or the OCSP error status)',
      labelNames: ['ca', 'status'],
      registers,
    });
    this.crl = new Histogram({ name: 'lamassu_crl_generation_seconds', help: 'Time to build and store a CRL', buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60], registers });
    this.sweep = new Histogram({
      name: 'lamassu_status_sweep_duration_seconds',
      help: 'Time a status sweep took (on the replica holding the sweep lease)',
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
      registers,
    });
    this.keyOps = new Counter({
      name: 'lamassu_key_engine_operations_total',
      help: 'Key engine operations, by engine, operation and result ("success" or an error code)',
      labelNames: ['engine', 'op', 'result'],
      registers,
    });
    for (const [gauge, def] of Object.entries(GAUGES) as [StateGauge, (typeof GAUGES)[StateGauge]][]) {
      const readers = this.readers;
      new Gauge({
        ...def,
        registers,
        collect() {
          const read = readers.get(gauge);
          if (!read) return;
          this.reset();
          for (const { labels, value } of read()) this.set(labels, value);
        },
      });
    }
  }

  certificateIssued(ca: string, profile: string): void {
    this.issued.inc({ ca, profile });
  }

  estEnrollment(dms: string, operation: EstOperation, result: string, seconds: number): void {
    // A request can name any label and fail before the label is looked up (a malformed CSR): bound the series.
    if (!this.dmsLabels.has(dms)) {
      if (this.dmsLabels.size >= MAX_DMS_LABELS) dms = 'other';
      else this.dmsLabels.add(dms);
    }
    this.est.inc({ dms, operation, result });
    this.estDuration.observe({ operation }, seconds);
  }

  ocspResponse(ca: string, status: string): void {
    this.ocspSeries.get(`${ca} ${status}`, () => this.ocsp.labels({ ca, status })).inc();
  }

  crlGenerated(seconds: number): void {
    this.crl.observe(seconds);
  }

  statusSweepFinished(seconds: number): void {
    this.sweep.observe(seconds);
  }

  keyEngineOperation(engine: string, op: KeyEngineOperation, result: string): void {
    this.keyOps.inc({ engine, op, result });
  }

  stateGauge(gauge: StateGauge, read: () => LabelledValue[]): void {
    this.readers.set(gauge, read);
  }

  stopwatch(): () => number {
    const start = performance.now();
    return () => (performance.now() - start) / 1000;
  }
}
