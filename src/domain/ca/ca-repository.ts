import type { ExpiryDeltas } from './expiry-deltas.ts';
import type { CaRecord, CertificateAuthority } from './ca.ts';
import type { CertificateStatus } from './certificate-status.ts';
import type { Page, PageRequest } from './page.ts';

export const CA_SORT_KEYS = ['created_at', 'common_name', 'valid_from', 'valid_to', 'level', 'status'] as const;
export type CaSortKey = (typeof CA_SORT_KEYS)[number];

export interface CaQuery extends PageRequest<CaSortKey> {
  status?: CertificateStatus[];
  /** Exact common name, or a prefix when it ends with `*`. */
  commonName?: string;
  subjectKeyId?: string;
  engineId?: string;
  parentId?: string;
  internal?: boolean;
  /** notAfter within [validToAfter, validToBefore]; notBefore within [validFromAfter, validFromBefore]. */
  validToAfter?: Date;
  validToBefore?: Date;
  validFromAfter?: Date;
  validFromBefore?: Date;
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
  countByEngineAndStatus(): Promise<CaCount[]>;
  /** Sets the CA's about-to-expire override (null: the global threshold); false when there is no such CA. */
  setAboutToExpireMs(id: string, ms: number | null): Promise<boolean>;
  /** Sets the CA's expiration deltas (null: none); false when there is no such CA. */
  setExpiryDeltas(id: string, deltas: ExpiryDeltas | null): Promise<boolean>;
}
