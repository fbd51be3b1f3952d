/**
 * Lamassu v3's view of an identity slot and of a device's timeline (core/pkg/models/device.go): the slot
 * status its clients read, `versions` (version -> certificate serial) and `events` maps keyed by RFC 3339
 * times. Derived from our slot certificates and timeline, never stored.
 */
import type { DeviceEvent, Slot, SlotCertificate } from './device.ts';

export const LAMASSU_SLOT_STATUSES = ['ACTIVE', 'RENEWAL_PENDING', 'EXPIRING_SOON', 'EXPIRED', 'REVOKED'] as const;
export type LamassuSlotStatus = (typeof LAMASSU_SLOT_STATUSES)[number];

/** The event types that bind a certificate to a slot (the timeline entry says which slot). */
const BINDING_EVENTS = new Set(['PROVISIONED', 'RE-PROVISIONED', 'RENEWED']);

/**
 * Lamassu's slot status of the active certificate: revoked and expired as they are; past the critical
 * delta (or our about-to-expire) EXPIRING_SOON, past the preventive one RENEWAL_PENDING; else ACTIVE.
 */
export function lamassuSlotStatusOf(active: SlotCertificate): LamassuSlotStatus {
  if (active.status === 'REVOKED') return 'REVOKED';
  if (active.status === 'EXPIRED') return 'EXPIRED';
  if (active.status === 'ABOUT_TO_EXPIRE' || active.expiryStage === 'critical') return 'EXPIRING_SOON';
  if (active.expiryStage === 'preventive') return 'RENEWAL_PENDING';
  return 'ACTIVE';
}

/** Version -> serial of every certificate the slot holds or held (as far as `slot.archive` is loaded). */
export const slotVersions = (slot: Slot): Record<string, string> =>
  Object.fromEntries([slot.active, ...slot.archive].sort((a, b) => a.version - b.version).map((c) => [String(c.version), c.serialNumber]));

/** The timeline entry that bound a certificate to `slotName` (enrollment and bind-identity write them so). */
export const isSlotBinding = (e: DeviceEvent, slotName: string) => BINDING_EVENTS.has(e.type) && e.description.startsWith(`slot ${slotName}:`);

/**
 * Lamassu's `events` map: RFC 3339 time -> {type, description}. Entries of the same millisecond get
 * nanosecond digits so that none hides another.
 */
export function lamassuEventsMap(events: readonly DeviceEvent[]): Record<string, { type: string; description: string }> {
  const out: Record<string, { type: string; description: string }> = {};
  for (const e of events) {
    const iso = e.at.toISOString();
    let key = iso;
    for (let n = 1; Object.hasOwn(out, key); n++) key = `${iso.slice(0, -1)}${String(n).padStart(6, '0')}Z`;
    out[key] = { type: e.type, description: e.description };
  }
  return out;
}
