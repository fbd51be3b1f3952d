import type { Page, PageRequest } from '../ca/page.ts';
import type { Dms } from './dms.ts';

export const DMS_SORT_KEYS = ['created_at', 'id', 'name'] as const;
export type DmsSortKey = (typeof DMS_SORT_KEYS)[number];

/** Bookmark pages like the other lists: default sort created_at ascending, ties broken by id. */
export type DmsQuery = PageRequest<DmsSortKey>;

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
  count(): Promise<number>;
}
