/**
 * What the services tell an operator's monitoring, without knowing how it is exposed (Prometheus in
 * src/http/domain-metrics.ts). Every call is cheap and synchronous: it is made on hot paths (issuance, EST,
 * OCSP) and must never read the database or fail the operation it observes.
 */

/** An EST operation as operators count it. */
export type EstOperation = 'enroll' | 'reenroll' | 'serverkeygen';

/** A key engine operation as operators count it. */
export type KeyEngineOperation = 'create' | 'import' | 'sign' | 'delete' | 'export';

/** A gauge's value for one set of labels. */
export interface LabelledValue {
  labels: Record<string, string>;
  value: number;
}

/** Gauges whose values a service keeps in memory and the exposition reads at scrape time. */
export type StateGauge = 'certificates' | 'certificates_expiring' | 'devices';

export interface MetricsRecorder {
  /** A certificate was issued (committed) by `ca` with `profile` (a profile id, "inline" or "ca-default"). */
  certificateIssued(ca: string, profile: string): void;
  /** An EST operation ended; `result` is "success" or the error code it ended with. */
  estEnrollment(dms: string, operation: EstOperation, result: string, seconds: number): void;
  /** An OCSP answer: `status` good | revoked | unknown, or the OCSP error status; `ca` is "none" for errors. */
  ocspResponse(ca: string, status: string): void;
  crlGenerated(seconds: number): void;
  statusSweepFinished(seconds: number): void;
  /** `result` is "success" or the error code the engine threw. */
  keyEngineOperation(engine: string, op: KeyEngineOperation, result: string): void;
  /** Registers the reader of a state gauge; the last reader registered for a gauge wins. */
  stateGauge(gauge: StateGauge, read: () => LabelledValue[]): void;
  /** A stopwatch: the function returned gives the seconds since this call. */
  stopwatch(): () => number;
}

/** Records nothing: for tests and tools that build services without a metrics exposition. */
export const noMetrics: MetricsRecorder = {
  certificateIssued() {},
  estEnrollment() {},
  ocspResponse() {},
  crlGenerated() {},
  statusSweepFinished() {},
  keyEngineOperation() {},
  stateGauge() {},
  stopwatch: () => () => 0,
};
