import type { Page, PageRequest } from '../ca/page.ts';
import type { FieldFilter, FilterFields } from '../list-filter.ts';
import type { Dms } from './dms.ts';

export const DMS_SORT_KEYS = ['created_at', 'id', 'name'] as const;
export type DmsSortKey = (typeof DMS_SORT_KEYS)[number];

/** Bookmark pages like the other lists: default sort created_at ascending, ties broken by id. */
export interface DmsQuery extends PageRequest<DmsSortKey> {
  /** Lamassu filters over DMS_FILTER_FIELDS. */
  filters?: FieldFilter[];
}

/** Lamassu's sort_by names (its filterable field names) for our sort keys. */
export const DMS_SORT_ALIASES: Readonly<Record<string, DmsSortKey>> = { creation_date: 'created_at', creation_ts: 'created_at' };

/** Lamassu's filterable DMS fields (core/pkg/resources/fields.go). */
export const DMS_FILTER_FIELDS: FilterFields = {
  id: { type: 'string' },
  name: { type: 'string' },
  creation_date: { type: 'date' },
  metadata: { type: 'json' },
  settings: { type: 'json', jsonpathUnsupported: 'settings are stored in our own shape, not Lamassu\'s, so Lamassu\'s paths would not match' },
};

export interface DmsRepository {
  /** Throws DMS_EXISTS (409) for a taken id. */
  insert(dms: Dms): Promise<void>;
  get(id: string): Promise<Dms | undefined>;
  /** The DMS whose current certificate has this serial (the seed's CA-label EST flow). */
  findByCertificateSerial(serialNumber: string): Promise<Dms | undefined>;
  list(query: DmsQuery): Promise<Page<Dms>>;
  /** False when there is no such DMS. */
  update(dms: Dms): Promise<boolean>;
  delete(id: string): Promise<boolean>;
  /** DMSs matching `filters` (DMS_FILTER_FIELDS; absent: all). */
  count(filters?: FieldFilter[]): Promise<number>;
}
