import type { Dms } from './dms.ts';

export interface DmsRepository {
  /** Throws DMS_EXISTS (409) for a taken id. */
  insert(dms: Dms): Promise<void>;
  get(id: string): Promise<Dms | undefined>;
  /** The DMS whose current certificate has this serial (the seed's CA-label EST flow). */
  findByCertificateSerial(serialNumber: string): Promise<Dms | undefined>;
  list(): Promise<Dms[]>;
  /** False when there is no such DMS. */
  update(dms: Dms): Promise<boolean>;
  delete(id: string): Promise<boolean>;
  count(): Promise<number>;
}
