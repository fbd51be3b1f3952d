import type { ExpiryDeltas } from './expiry-deltas.ts';
import type { CaRecord, CertificateAuthority } from './ca.ts';
import type { FieldFilter, FilterFields } from '../list-filter.ts';
import type { CertificateStatus } from './certificate-status.ts';
import { CERTIFICATE_ROW_FILTER_FIELDS } from './certificate-repository.ts';
import type { Page, PageRequest } from './page.ts';

export const CA_SORT_KEYS = ['created_at', 'common_name', 'valid_from', 'valid_to', 'level', 'status'] as const;
export type CaSortKey = (typeof CA_SORT_KEYS)[number];

/** Lamassu's sort_by names (its filterable field names) for our sort keys. */
export const CA_SORT_ALIASES: Readonly<Record<string, CaSortKey>> = {
  'subject.common_name': 'common_name',
  creation_timestamp: 'created_at',
  creation_ts: 'created_at',
};

/** Lamassu's filterable CA fields (core/pkg/resources/fields.go, plus level from its docs). */
export const CA_FILTER_FIELDS: FilterFields = {
  id: { type: 'string' },
  profile_id: { type: 'string' },
  type: { type: 'enum', values: ['MANAGED', 'IMPORTED_WITH_KEY', 'IMPORTED_WITHOUT_KEY'] },
  ...CERTIFICATE_ROW_FILTER_FIELDS,
  level: { type: 'number' },
  metadata: { type: 'json' },
};

export interface CaQuery extends PageRequest<CaSortKey> {
  status?: CertificateStatus[];
  /** Exact common name, or a prefix when it ends with `*`. */
  commonName?: string;
  subjectKeyId?: string;
  engineId?: string;
  /** CAs whose key is this key id (hex SHA-256 of the SPKI). */
  keyId?: string;
  parentId?: string;
  internal?: boolean;
  /** notAfter within [validToAfter, validToBefore]; notBefore within [validFromAfter, validFromBefore]. */
  validToAfter?: Date;
  validToBefore?: Date;
  validFromAfter?: Date;
  validFromBefore?: Date;
  /** Lamassu filters over CA_FILTER_FIELDS, ANDed with the above. */
  filters?: FieldFilter[];
}

export interface CaCount {
  engineId: string | null;
  status: CertificateStatus;
  count: number;
}

export interface CaRepository {
  /** The CA's certificate must be inserted first. Throws CA_EXISTS (409) for a taken id. */
  insert(ca: CaRecord): Promise<void>;
  get(id: string): Promise<CertificateAuthority | undefined>;
  list(query: CaQuery): Promise<Page<CertificateAuthority>>;
  /** `id` and the ids of every CA below it, at any depth. */
  subtreeIds(id: string): Promise<string[]>;
  /** Counts by engine and status: of every CA, or of those matching `filters` among `ids`. */
  countByEngineAndStatus(scope?: { filters?: FieldFilter[]; ids?: string[] }): Promise<CaCount[]>;
  /** Removes the CA row (not its certificate); false when there is no such CA. CAs below it must be gone. */
  delete(id: string): Promise<boolean>;
  /**
   * Points the CA at another certificate row (a reissue), only while it still points at `expected`: false
   * when it does not (reissued meanwhile) or there is no such CA.
   */
  replaceCertificate(id: string, expected: string, certificateId: string): Promise<boolean>;
  /** Sets the CA's default issuance profile (the profile must exist); false when there is no such CA. */
  setProfileId(id: string, profileId: string | null): Promise<boolean>;
  /**
   * Changes the metadata with `change` (a pure function of the current metadata), atomically against
   * concurrent changes; the new metadata, or undefined when there is no such row.
   */
  updateMetadata(id: string, change: (current: Record<string, unknown>) => Record<string, unknown>): Promise<Record<string, unknown> | undefined>;

  /** Sets the CA's about-to-expire override (null: the global threshold); false when there is no such CA. */
  setAboutToExpireMs(id: string, ms: number | null): Promise<boolean>;
  /** Sets the CA's expiration deltas (null: none); false when there is no such CA. */
  setExpiryDeltas(id: string, deltas: ExpiryDeltas | null): Promise<boolean>;
}
