/**
 * A key of the KMS service (Lamassu v3.6 `/api/kms/v1`): a key pair kept by one key engine, known to the
 * KMS by a record that holds its public facts and the operator's labels. The private key stays in its
 * engine; the record never holds it.
 */
import type { Page, PageRequest } from '../ca/page.ts';
import type { FieldFilter, FilterFields } from '../list-filter.ts';
import type { KeyType } from '../ports/key-engine.ts';

export interface KmsKey {
  /** Lowercase hex SHA-256 of the SPKI DER, as key engines name keys (and Lamassu's key_id). */
  id: string;
  engineId: string;
  type: KeyType;
  bits: number;
  /** SubjectPublicKeyInfo, DER. */
  publicKeySpki: Uint8Array;
  name: string;
  aliases: string[];
  tags: string[];
  metadata: Record<string, unknown>;
  /** How the key came to the KMS: generated in its engine, imported, or found as a CA's key. */
  origin: KmsKeyOrigin;
  createdAt: Date;
}

export type KmsKeyOrigin = 'created' | 'imported' | 'ca';

/** Key metadata naming the resources (CAs) bound to a key, as Lamassu's: `{"cas": ["id", ...]}`. */
export const BOUND_RESOURCES_KEY = 'lamassu.io/kms/binded-resources';

export const KMS_KEY_SORT_KEYS = ['created_at', 'id', 'name'] as const;
export type KmsKeySortKey = (typeof KMS_KEY_SORT_KEYS)[number];
export const KMS_KEY_SORT_ALIASES: Readonly<Record<string, KmsKeySortKey>> = { creation_ts: 'created_at', key_id: 'id' };

/** Lamassu's filterable key fields (core/pkg/resources: KMSFilterableFields). */
export const KMS_KEY_FILTER_FIELDS: FilterFields = {
  key_id: { type: 'string' },
  engine_id: { type: 'string' },
  algorithm: { type: 'enum', values: ['RSA', 'ECDSA', 'ED25519'] },
  size: { type: 'number' },
  name: { type: 'string' },
  tags: { type: 'string_array' },
  has_private_key: { type: 'enum', values: ['true', 'false'] },
  creation_ts: { type: 'date' },
  metadata: { type: 'json' },
};

export interface KmsKeyQuery extends PageRequest<KmsKeySortKey> {
  filters?: FieldFilter[];
}

export interface KmsKeyRepository {
  /** Throws KMS_KEY_EXISTS (409) when a record with this key id exists. */
  insert(key: KmsKey): Promise<void>;
  get(id: string): Promise<KmsKey | undefined>;
  /** The key whose name or one of whose aliases is `alias`. */
  findByAlias(alias: string): Promise<KmsKey | undefined>;
  list(query: KmsKeyQuery): Promise<Page<KmsKey>>;
  /** Replaces name, aliases, tags and metadata; false when there is no such key. */
  update(key: KmsKey): Promise<boolean>;
  delete(id: string): Promise<boolean>;
  /** Total and per engine / per algorithm counts (Lamassu's KMS stats). */
  stats(): Promise<{ total: number; byEngine: Record<string, number>; byAlgorithm: Record<string, number> }>;
}
