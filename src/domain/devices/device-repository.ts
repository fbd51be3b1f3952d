import type { CertificateStatus } from '../ca/certificate-status.ts';
import type { ExpiryStage } from '../ca/expiry-deltas.ts';
import type { Page, PageRequest } from '../ca/page.ts';
import type { FieldFilter, FilterFields } from '../list-filter.ts';
import { DEVICE_STATUSES, type Device, type DeviceEvent, type DeviceRecord, type DeviceStatus, type SlotCertificate } from './device.ts';

export const DEVICE_SORT_KEYS = ['created_at', 'id', 'status', 'updated_at'] as const;
export type DeviceSortKey = (typeof DEVICE_SORT_KEYS)[number];

/** Lamassu's sort_by names (its filterable field names) for our sort keys. */
export const DEVICE_SORT_ALIASES: Readonly<Record<string, DeviceSortKey>> = { creation_timestamp: 'created_at' };

/** Lamassu's filterable device fields (core/pkg/resources/fields.go); statuses are the seed's. */
export const DEVICE_FILTER_FIELDS: FilterFields = {
  id: { type: 'string' },
  dms_owner: { type: 'string' },
  creation_timestamp: { type: 'date' },
  status: { type: 'enum', values: DEVICE_STATUSES },
  tags: { type: 'string_array' },
  metadata: { type: 'json' },
  identity_slot: { type: 'json', jsonpathUnsupported: 'the identity slot is built from certificate rows, not stored as JSON; filter on status or use GET /devices/{id}' },
};

export interface DeviceQuery extends PageRequest<DeviceSortKey> {
  status?: DeviceStatus[];
  dmsId?: string;
  /** Devices carrying every one of these tags. */
  tags?: string[];
  /** Exact id, or a prefix when it ends with `*`. */
  id?: string;
  createdAfter?: Date;
  createdBefore?: Date;
  /** Lamassu filters over DEVICE_FILTER_FIELDS (device groups' criteria among them), ANDed with the above. */
  filters?: FieldFilter[];
}

/** Which devices a count covers: all of these, ANDed. */
export interface DeviceCountFilter {
  dmsId?: string;
  filters?: FieldFilter[];
}

export interface DeviceCount {
  status: DeviceStatus;
  count: number;
}

export interface DeviceRepository {
  /** Throws DEVICE_EXISTS (409) for a taken id. */
  insert(device: DeviceRecord): Promise<void>;
  /** Inserts unless the id is taken (no error, no aborted transaction); false when it was taken. */
  insertIfAbsent(device: DeviceRecord): Promise<boolean>;
  /** With every slot and its archive. */
  get(id: string): Promise<Device | undefined>;
  /** Without the archives (slots' active certificates only). */
  list(query: DeviceQuery): Promise<Page<Device>>;
  /** Removes the device, its slot certificates and its timeline, if its status is still `status`; false otherwise. */
  delete(id: string, status: DeviceStatus): Promise<boolean>;
  /** Compare-and-set on the status; false when it is no longer `from`. */
  updateStatus(id: string, from: DeviceStatus, to: DeviceStatus, at: Date): Promise<boolean>;
  countByStatus(filter: DeviceCountFilter): Promise<DeviceCount[]>;
  /**
   * Changes the metadata with `change` (a pure function of the current metadata), atomically against
   * concurrent changes; the new metadata, or undefined when there is no such row.
   */
  updateMetadata(id: string, change: (current: Record<string, unknown>) => Record<string, unknown>): Promise<Record<string, unknown> | undefined>;


  /**
   * Makes `cert` the slot's active certificate; the previous one, if any, is archived (supersededAt = at).
   * `archivePrevious` false skips that step when the caller knows the slot is new (one statement less).
   */
  bindCertificate(cert: SlotCertificate, archivePrevious?: boolean): Promise<void>;
  /** Active and archived slot certificates with this serial (a serial is unique per issuer). */
  findSlotCertificates(serialNumber: string, issuerCaId?: string): Promise<SlotCertificate[]>;
  updateSlotCertificateStatus(deviceId: string, slot: string, version: number, status: CertificateStatus): Promise<void>;
  /** Records the expiration delta a slot certificate crossed. */
  updateSlotCertificateExpiryStage(deviceId: string, slot: string, version: number, stage: ExpiryStage): Promise<void>;

  addEvent(event: DeviceEvent): Promise<void>;
  /** Several timeline entries in one statement. */
  addEvents(events: DeviceEvent[]): Promise<void>;
  /** Oldest first. */
  listEvents(deviceId: string): Promise<DeviceEvent[]>;
}
