/**
 * Devices and their identity slots. A slot holds one active certificate and the archive of earlier ones;
 * the device's status follows from its slots' certificate statuses (the seed's five statuses).
 */
import type { CertificateStatus } from '../ca/certificate-status.ts';
import type { ExpiryStage } from '../ca/expiry-deltas.ts';
import { invalid } from '../errors.ts';
import { idPattern } from '../id-limit.ts';

export const DEVICE_STATUSES = [
  'PENDING_PROVISIONING',
  'FULLY_PROVISIONED',
  'REQUIRES_ACTION',
  'PROVISIONED_WITH_WARNINGS',
  'DECOMMISSIONED',
] as const;
export type DeviceStatus = (typeof DEVICE_STATUSES)[number];

export const isDeviceStatus = (s: unknown): s is DeviceStatus =>
  typeof s === 'string' && (DEVICE_STATUSES as readonly string[]).includes(s);

/** One certificate a slot holds or held. */
export interface SlotCertificate {
  deviceId: string;
  slot: string;
  /** 1 for the first certificate of the slot, +1 for each replacement. */
  version: number;
  serialNumber: string;
  issuerCaId: string;
  /** Mirrors the CA service's status, updated from certificate.status.update events. */
  status: CertificateStatus;
  notBefore: Date;
  notAfter: Date;
  boundAt: Date;
  /** Set when a newer certificate replaced this one; null for the slot's active certificate. */
  supersededAt: Date | null;
  /** The last expiration delta the certificate crossed (certificate.expiring); absent: none. */
  expiryStage?: ExpiryStage;
}

export interface Slot {
  name: string;
  active: SlotCertificate;
  /** Earlier certificates, newest first. */
  archive: SlotCertificate[];
}

export interface DeviceRecord {
  id: string;
  alias: string;
  tags: string[];
  metadata: Record<string, unknown>;
  dmsId: string | null;
  /** Lamassu's console icon (a name) and colours ("#bg-#fg"); '' when none. */
  icon: string;
  iconColor: string;
  status: DeviceStatus;
  createdAt: Date;
  updatedAt: Date;
}

export interface Device extends DeviceRecord {
  slots: Slot[];
}

export const DEVICE_EVENT_TYPES = ['CREATED', 'PROVISIONED', 'RE-PROVISIONED', 'RENEWED', 'STATUS-UPDATED', 'DECOMMISSIONED'] as const;
export type DeviceEventType = (typeof DEVICE_EVENT_TYPES)[number];

/** One entry of a device's timeline. */
export interface DeviceEvent {
  id: string;
  deviceId: string;
  at: Date;
  type: DeviceEventType;
  description: string;
  actor: string;
}

/** Whether any slot's active certificate crossed an expiration delta. */
export const anySlotExpiring = (slots: readonly Slot[]) => slots.some((s) => (s.active.expiryStage ?? 'none') !== 'none');

/**
 * The device status its active slot certificates give: warnings (expired or revoked) outrank "requires
 * action" (about to expire, or past one of its expiration deltas: `expiring`); no certificate at all is
 * pending. DECOMMISSIONED is terminal.
 */
export function deviceStatusOf(current: DeviceStatus, activeStatuses: CertificateStatus[], expiring = false): DeviceStatus {
  if (current === 'DECOMMISSIONED') return current;
  if (activeStatuses.length === 0) return 'PENDING_PROVISIONING';
  if (activeStatuses.some((s) => s === 'EXPIRED' || s === 'REVOKED')) return 'PROVISIONED_WITH_WARNINGS';
  if (activeStatuses.includes('ABOUT_TO_EXPIRE') || expiring) return 'REQUIRES_ACTION';
  return 'FULLY_PROVISIONED';
}

const ID = idPattern(':@');

/** Device ids come from CSR subjects: keep them printable, bounded and free of path separators. */
export function checkDeviceId(id: string): void {
  if (!ID.test(id)) {
    throw invalid('DEVICE_ID_INVALID', 'device id must be 1-128 characters of letters, digits, ".", "_", ":", "@" or "-", starting with a letter or digit', {
      id: id.slice(0, 64),
    });
  }
}

const SLOT = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export function checkSlotName(slot: string): void {
  if (!SLOT.test(slot)) throw invalid('DEVICE_SLOT_INVALID', 'slot names are 1-64 lowercase letters, digits, "_" or "-"');
}
