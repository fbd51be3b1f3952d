import type { CloudEvent } from '../ports/event-bus.ts';
import type { FieldFilter, FilterFields } from '../list-filter.ts';
import { CERTIFICATE_STATUSES, type CertificateStatus } from './certificate-status.ts';
import type { Certificate, CertificateRecord } from './certificate.ts';
import type { ExpiryDeltaSource, ExpiryDeltas } from './expiry-deltas.ts';
import type { Page, PageRequest } from './page.ts';
import { REVOCATION_REASON_NAMES, type RevocationReason } from './revocation-reason.ts';

export const CERTIFICATE_SORT_KEYS = ['created_at', 'serial_number', 'valid_from', 'valid_to', 'common_name', 'status'] as const;
export type CertificateSortKey = (typeof CERTIFICATE_SORT_KEYS)[number];

/** Lamassu's sort_by names (its filterable field names) for our sort keys. */
export const CERTIFICATE_SORT_ALIASES: Readonly<Record<string, CertificateSortKey>> = {
  'subject.common_name': 'common_name',
  creation_timestamp: 'created_at',
  creation_ts: 'created_at',
};

/** The filterable fields of a certificate's status row: a certificate's own, and a CA's through its certificate. */
export const CERTIFICATE_ROW_FILTER_FIELDS: FilterFields = {
  serial_number: { type: 'string' },
  'subject.common_name': { type: 'string' },
  subject_key_id: { type: 'string' },
  'issuer_meta.id': { type: 'string' },
  status: { type: 'enum', values: CERTIFICATE_STATUSES },
  engine_id: { type: 'string' },
  valid_to: { type: 'date' },
  valid_from: { type: 'date' },
  revocation_timestamp: { type: 'date' },
  revocation_reason: { type: 'enum', values: REVOCATION_REASON_NAMES },
};

/** Lamassu's filterable certificate fields (core/pkg/resources/fields.go) that we store on the status row. */
export const CERTIFICATE_FILTER_FIELDS: FilterFields = {
  type: { type: 'enum', values: ['MANAGED', 'IMPORTED_WITH_KEY', 'IMPORTED_WITHOUT_KEY', 'EXTERNAL'] },
  ...CERTIFICATE_ROW_FILTER_FIELDS,
  is_ca: { type: 'enum', values: ['true', 'false'] },
  metadata: { type: 'json' },
};

export interface CertificateQuery extends PageRequest<CertificateSortKey> {
  issuerCaId?: string;
  status?: CertificateStatus[];
  serialNumber?: string;
  subjectKeyId?: string;
  /** Exact common name, or a prefix when it ends with `*`. */
  commonName?: string;
  /** notAfter within [expiresAfter, expiresBefore]. */
  expiresAfter?: Date;
  expiresBefore?: Date;
  isCa?: boolean;
  /** Lamassu filters over CERTIFICATE_FILTER_FIELDS, ANDed with the above. */
  filters?: FieldFilter[];
}

/** A status change as stored: the new status and, for REVOKED, when and why. */
export interface StatusChange {
  status: CertificateStatus;
  revokedAt: Date | null;
  revocationReason: RevocationReason | null;
  /** Absent clears it: a released hold, or a revocation without one, keeps no earlier date. */
  invalidityDate?: Date;
}

/** A row a set-based update changed: enough to publish one event for it. */
export interface ChangedCertificate {
  id: string;
  serialNumber: string;
  issuerCaId: string | null;
  caId: string | null;
  subjectCommonName: string;
  notAfter: Date;
  previousStatus: CertificateStatus;
}

/**
 * What a set-based revocation changed. previousStatus: ACTIVE or ABOUT_TO_EXPIRE for a row that was not
 * revoked; REVOKED for one that was on hold.
 */
export type RevokedCertificate = ChangedCertificate;

/** The two status changes time makes: ACTIVE or ABOUT_TO_EXPIRE past notAfter, ACTIVE past its threshold. */
export type TimeStatusStep =
  | { from: 'ACTIVE' | 'ABOUT_TO_EXPIRE'; to: 'EXPIRED' }
  | { from: 'ACTIVE'; to: 'ABOUT_TO_EXPIRE' };

/** One row a sweep step changed, enough for one event. */
export interface TimeStatusChange extends ChangedCertificate {
  status: CertificateStatus;
}

/** Whose threshold a recomputation applies: one CA's override, or the global one. */
export type ThresholdScope = { caId: string } | { global: true };

/** One certificate the expiry sweep saw cross a delta: enough for one certificate.expiring event. */
export interface ExpiryCrossing {
  id: string;
  serialNumber: string;
  issuerCaId: string | null;
  caId: string | null;
  subjectCommonName: string;
  status: CertificateStatus;
  notAfter: Date;
  /** The delta crossed; both at once (no sweep in between) count as the critical one. */
  delta: 'preventive' | 'critical';
  deltaMs: number;
  source: ExpiryDeltaSource;
}

/** What one batch of the expiry sweep did: rows it took off the due index, and which of them crossed a delta. */
export interface ExpirySweepBatch {
  touched: number;
  crossings: ExpiryCrossing[];
}

/**
 * Which certificates a change of deltas re-plans: a CA's (its own and those it issued, where the CA's deltas
 * apply), a profile's (where no DMS's deltas apply), a DMS's (with the DMS's new deltas, which the CA
 * service does not store: null falls back to the profile's or the CA's).
 */
export type ExpiryReplanScope = { caId: string } | { profileId: string } | { dmsId: string; deltas: ExpiryDeltas | null };

export interface CertificateCount {
  issuerCaId: string | null;
  status: CertificateStatus;
  count: number;
}

export interface CertificateRepository {
  /**
   * Stores the status row and the bytes together. Throws CERTIFICATE_SERIAL_EXISTS (409) when the issuer
   * already has a certificate with this serial.
   */
  insert(cert: Certificate): Promise<void>;
  /**
   * Stores several certificates with one statement per table, all or none (group commit on the issuance
   * path). Throws CERTIFICATE_SERIAL_EXISTS when any of them clashes; then none is stored. `events` go to the
   * outbox in the same transaction (one more statement for the batch).
   */
  insertMany(certs: Certificate[], events?: readonly CloudEvent[]): Promise<void>;
  get(id: string): Promise<Certificate | undefined>;
  /** By serial; with several issuers using the same serial, `issuerCaId` picks one (else the oldest). */
  findBySerial(serialNumber: string, issuerCaId?: string): Promise<Certificate | undefined>;
  list(query: CertificateQuery): Promise<Page<Certificate>>;
  /**
   * Compare-and-set: changes the row only if it still has status `from` (and, when given, revocation
   * reason `fromReason`); false when someone got there first.
   */
  updateStatus(id: string, from: CertificateStatus, change: StatusChange, fromReason?: RevocationReason | null): Promise<boolean>;
  /**
   * Revokes, in one statement, every certificate issued by one of `issuerCaIds` (CA certificates included)
   * that is not yet finally revoked or expired: not-revoked rows and rows on CertificateHold. Their
   * invalidity dates are cleared: a hold's date says nothing about the cascade's revocation.
   */
  revokeIssuedBy(issuerCaIds: string[], reason: RevocationReason, at: Date): Promise<RevokedCertificate[]>;
  /** The same for the certificates of the CAs themselves (ca_id): those a reissue left behind, for the same key. */
  revokeCaCertificates(caIds: string[], reason: RevocationReason, at: Date): Promise<RevokedCertificate[]>;
  /**
   * One batch of a status sweep, in its own transaction: at most `limit` rows with status `step.from` whose
   * time has come at `now` get `step.to` (EXPIRED once notAfter < now; ABOUT_TO_EXPIRE once
   * about_to_expire_at <= now <= notAfter). Set-based over the (status, not_after) and
   * (status, about_to_expire_at) indexes; REVOKED rows are never touched. An empty result means done. Run
   * the EXPIRED steps before the ABOUT_TO_EXPIRE one with the same `now`: that step looks for candidates by
   * threshold only and would spend its batch on ACTIVE rows already past notAfter.
   */
  sweepStatus(step: TimeStatusStep, now: Date, limit: number): Promise<TimeStatusChange[]>;
  /**
   * Sets about_to_expire_at = not_after - thresholdMs on the ACTIVE certificates whose threshold comes from
   * `scope` and differ: for a CA, the certificates it issued and its own certificate; globally, those of
   * no CA or of a CA without an override. Returns how many rows changed.
   */
  recomputeAboutToExpire(scope: ThresholdScope, thresholdMs: number): Promise<number>;
  /**
   * One batch of the expiry sweep, in one statement: at most `limit` rows whose next expiration delta is
   * due at `now` (the partial index on expiry_next_at) move to the stage they reached and are planned for
   * the next delta; rows no longer ACTIVE or ABOUT_TO_EXPIRE (or past notAfter) leave the index silently.
   * A row leaves the due range in the same statement that reports it, so concurrent sweeps never report a
   * crossing twice. Run after the EXPIRED steps with the same `now`.
   */
  sweepExpiry(now: Date, limit: number): Promise<ExpirySweepBatch>;
  /**
   * Gives the unexpired, not finally announced certificates of `scope` the deltas that now apply and their
   * next due instant. The stage reached stays (an announcement given is not taken back): a longer delta
   * already passed is announced by the next sweep. Returns how many rows it re-planned.
   */
  replanExpiry(scope: ExpiryReplanScope): Promise<number>;
  /** Counts by issuer and status: of every certificate, or of those matching `filters` and issued by one of `issuerCaIds`. */
  countByIssuerAndStatus(scope?: { filters?: FieldFilter[]; issuerCaIds?: string[] }): Promise<CertificateCount[]>;
  /** Counts by issuer of the certificates neither revoked nor expired whose notAfter is in [now, until]. */
  countExpiringByIssuer(now: Date, until: Date): Promise<{ issuerCaId: string | null; count: number }[]>;
  /**
   * Certificates not revoked nor expired whose notAfter falls in [from, from + buckets * bucketMs), counted per
   * bucket (index 0 the first); only buckets with certificates are returned.
   */
  countExpiringPerBucket(q: { from: Date; bucketMs: number; buckets: number; issuerCaId?: string }): Promise<{ bucket: number; count: number }[]>;
  /** Whether any certificate names `caId` as its issuer or as its CA (a deleted CA leaves such traces). */
  mentionsCa(caId: string): Promise<boolean>;
  /** By certificate id (the row's, not the serial). */
  /**
   * Changes the metadata with `change` (a pure function of the current metadata), atomically against
   * concurrent changes; the new metadata, or undefined when there is no such row.
   */
  updateMetadata(id: string, change: (current: Record<string, unknown>) => Record<string, unknown>): Promise<Record<string, unknown> | undefined>;

}

export type { CertificateRecord };
