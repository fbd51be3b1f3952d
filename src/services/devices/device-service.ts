/**
 * The device manager's use-cases: pre-registration, lookups, stats, decommissioning, binding enrolled
 * certificates to slots, and following certificate status events so that device statuses change at once
 * (no periodic scan over all devices).
 */
import type { FieldFilter } from '../../domain/list-filter.ts';
import type { Certificate } from '../../domain/ca/certificate.ts';
import type { CertificateStatus } from '../../domain/ca/certificate-status.ts';
import { EXPIRY_STAGES, type ExpiryStage } from '../../domain/ca/expiry-deltas.ts';
import type { Page } from '../../domain/ca/page.ts';
import type { DeviceCountFilter, DeviceQuery } from '../../domain/devices/device-repository.ts';
import {
  checkDeviceId,
  checkSlotName,
  DEVICE_STATUSES,
  anySlotExpiring,
  deviceStatusOf,
  type Device,
  type DeviceEvent,
  type DeviceEventType,
  type DeviceRecord,
  type DeviceStatus,
  type SlotCertificate,
} from '../../domain/devices/device.ts';
import type { CertificateAuthorityGateway } from '../../domain/dms/certificate-authority-gateway.ts';
import { conflict, invalid, isDomainError, notFound } from '../../domain/errors.ts';
import { newEvent } from '../../domain/events.ts';
import { lamassuSlotStatusOf, type LamassuSlotStatus } from '../../domain/devices/lamassu-slot.ts';
import { DEFAULT_SLOT } from '../../domain/dms/dms.ts';
import { applyMetadataChange, type MetadataChange } from '../../domain/metadata-patch.ts';
import type { Clock } from '../../domain/ports/clock.ts';
import type { CloudEvent, EventBus } from '../../domain/ports/event-bus.ts';
import type { RandomSource } from '../../domain/ports/id-generator.ts';
import type { Logger } from '../../domain/ports/logger.ts';
import type { Repositories, Storage } from '../../domain/ports/storage.ts';
import { GroupCommit } from './group-commit.ts';

export const DEVICE_EVENT_SOURCE = 'lamassu/devices';

export const DeviceCloudEvent = {
  create: 'device.create',
  statusUpdate: 'device.status.update',
  identityUpdate: 'device.identity.update',
  decommission: 'device.decommission',
  delete: 'device.delete',
  metadataUpdate: 'device.metadata.update',
} as const;

export interface DeviceServiceDeps {
  storage: Storage;
  events: EventBus;
  clock: Clock;
  random: RandomSource;
  logger: Logger;
  ca: CertificateAuthorityGateway;
}

export interface CreateDeviceInput {
  id: string;
  alias?: string;
  tags?: string[];
  metadata?: Record<string, unknown>;
  dmsId?: string | null;
  icon?: string;
  iconColor?: string;
}

export interface DeviceStats {
  total: number;
  statusDistribution: Record<DeviceStatus, number>;
}

export interface BindCertificateInput {
  deviceId: string;
  slot: string;
  certificate: Certificate;
  /** PROVISIONED (first identity), RE-PROVISIONED (identity replaced by a new enrollment), RENEWED (re-enrollment). */
  kind: 'PROVISIONED' | 'RE-PROVISIONED' | 'RENEWED';
  actor: string;
  /** JITP: create the device with this record when it does not exist (pass it when the device is expected to be new). */
  createIfMissing?: Omit<CreateDeviceInput, 'id'>;
}

export interface BindCertificateResult {
  device: Device;
  /** The slot's previous active certificate, now archived. */
  superseded: SlotCertificate | undefined;
}

/** Lamassu's PUT /devices/{id}/idslot, as far as a slot that follows its certificates can take it. */
export interface UpdateIdentitySlotInput {
  deviceId: string;
  status?: LamassuSlotStatus;
  activeVersion?: number;
  type?: string;
  /** Version -> certificate serial: the slot's versions, plus at most the next one. */
  versions?: Record<number, string>;
}

export interface BindExistingInput {
  deviceId: string;
  serialNumber: string;
  /** Used when the slot already holds a certificate; a first certificate is PROVISIONED. */
  kind: 'RE-PROVISIONED' | 'RENEWED' | 'PROVISIONED';
  actor: string;
}

const slotUpdateInvalid = (message: string, details?: Record<string, unknown>) => invalid('DEVICE_SLOT_UPDATE_INVALID', message, details);

export class DeviceService {
  /** Orders timeline entries written in the same millisecond by this process (ids sort as written). */
  private sequence = 0;

  /** Slot bindings of concurrent enrollments commit together. */
  private readonly bindings: GroupCommit;

  constructor(private readonly deps: DeviceServiceDeps) {
    // SQLite has one connection; a PostgreSQL pool overlaps the round trips of a few batches.
    this.bindings = new GroupCommit(deps.storage, deps.storage.dialect === 'sqlite' ? 1 : 4);
  }

  async create(input: CreateDeviceInput, actor: string): Promise<Device> {
    checkDeviceId(input.id);
    for (const tag of input.tags ?? []) if (typeof tag !== 'string' || tag === '') throw invalid('DEVICE_TAG_INVALID', 'tags must be non-empty strings');
    const events: CloudEvent[] = [];
    await this.deps.storage.transaction(async (tx) => {
      const record = this.newRecord(input);
      await tx.devices.insert(record);
      await this.timeline(tx, record.id, 'CREATED', `created${record.dmsId ? ` for DMS ${record.dmsId}` : ''}`, actor);
      events.push(this.event(DeviceCloudEvent.create, record.id, deviceData({ ...record, slots: [] }), actor));
      await tx.outbox.append(events);
    });
    await this.publish(events);
    return this.get(input.id);
  }

  async get(id: string): Promise<Device> {
    const device = await this.deps.storage.devices.get(id);
    if (!device) throw notFound('DEVICE_NOT_FOUND', `no device with id "${id}"`, { id });
    return device;
  }

  /** Replace, merge or JSON-patch (Lamassu) the device's metadata; limited in size and depth. */
  async changeMetadata(id: string, change: MetadataChange, actor: string): Promise<Device> {
    const events = await this.deps.storage.transaction(async (tx) => {
      const metadata = await tx.devices.updateMetadata(id, (m) => applyMetadataChange(m, change));
      if (metadata === undefined) throw notFound('DEVICE_NOT_FOUND', `no device with id "${id}"`, { id });
      const events = [this.event(DeviceCloudEvent.metadataUpdate, id, { id, metadata }, actor)];
      await tx.outbox.append(events);
      return events;
    });
    const device = await this.get(id);
    await this.publish(events);
    return device;
  }

  /** Undefined instead of DEVICE_NOT_FOUND, for enrollment decisions. */
  find(id: string): Promise<Device | undefined> {
    return this.deps.storage.devices.get(id);
  }

  list(query: DeviceQuery): Promise<Page<Device>> {
    return this.deps.storage.devices.list(query);
  }

  async stats(filter: DeviceCountFilter = {}): Promise<DeviceStats> {
    const statusDistribution = Object.fromEntries(DEVICE_STATUSES.map((s) => [s, 0])) as Record<DeviceStatus, number>;
    let total = 0;
    for (const { status, count } of await this.deps.storage.devices.countByStatus(filter)) {
      statusDistribution[status] = count;
      total += count;
    }
    return { total, statusDistribution };
  }

  /** The device and its timeline (oldest first), as single-device answers show them. */
  async getWithTimeline(id: string): Promise<{ device: Device; timeline: DeviceEvent[] }> {
    const [device, timeline] = await Promise.all([this.get(id), this.deps.storage.devices.listEvents(id)]);
    return { device, timeline };
  }

  async timelineOf(id: string): Promise<DeviceEvent[]> {
    await this.get(id);
    return this.deps.storage.devices.listEvents(id);
  }

  /**
   * DECOMMISSIONED is terminal: every certificate its slots hold or held that is still valid is revoked
   * (CessationOfOperation) first, then the device is marked. Revoked or expired ones are left as they are.
   */
  async decommission(id: string, actor: string): Promise<Device> {
    const device = await this.get(id);
    if (device.status === 'DECOMMISSIONED') throw conflict('DEVICE_DECOMMISSIONED', `device "${id}" is already decommissioned`, { id });
    // Archived certificates too: a DMS may keep superseded ones valid, but not past the device's end.
    for (const cert of device.slots.flatMap((slot) => [slot.active, ...slot.archive])) {
      if (cert.status === 'REVOKED' || cert.status === 'EXPIRED') continue;
      await this.revokeQuietly(cert, 'CessationOfOperation', actor);
    }
    const events: CloudEvent[] = [];
    await this.deps.storage.transaction(async (tx) => {
      const current = await tx.devices.get(id);
      if (!current || current.status === 'DECOMMISSIONED') return;
      if (!(await tx.devices.updateStatus(id, current.status, 'DECOMMISSIONED', this.deps.clock.now()))) {
        throw conflict('DEVICE_CHANGED', `device "${id}" changed meanwhile; try again`, { id });
      }
      await this.timeline(tx, id, 'DECOMMISSIONED', 'decommissioned; slot certificates revoked', actor);
      events.push(this.event(DeviceCloudEvent.decommission, id, { id, previous_status: current.status }, actor));
      events.push(this.event(DeviceCloudEvent.statusUpdate, id, { id, previous_status: current.status, status: 'DECOMMISSIONED' }, actor));
      await tx.outbox.append(events);
    });
    await this.publish(events);
    return this.get(id);
  }

  /**
   * Lamassu's DELETE /devices/{id}: only a decommissioned device goes (its certificates were revoked
   * then and stay in the CA inventory); its slots and timeline go with it.
   */
  async delete(id: string, actor: string): Promise<void> {
    const device = await this.get(id);
    if (device.status !== 'DECOMMISSIONED') throw conflict('DEVICE_NOT_DECOMMISSIONED', `device "${id}" is ${device.status}; decommission it first`, { id, status: device.status });
    const events = [this.event(DeviceCloudEvent.delete, id, deviceData(device), actor)];
    await this.deps.storage.transaction(async (tx) => {
      if (!(await tx.devices.delete(id, 'DECOMMISSIONED'))) throw notFound('DEVICE_NOT_FOUND', `no device with id "${id}"`, { id });
      await tx.outbox.append(events);
    });
    await this.publish(events);
  }

  /**
   * Makes `certificate` the slot's active one (archiving the previous) and recomputes the device status.
   * Bindings arriving together share one transaction (group commit); each reads the device once inside it
   * and writes only what changes: a JITP device is inserted with the status its first certificate gives.
   */
  async bindCertificate(input: BindCertificateInput): Promise<BindCertificateResult> {
    checkSlotName(input.slot);
    const { result, events } = await this.bindings.run((tx) => this.bindIn(tx, input));
    await this.publish(events);
    return result;
  }

  private async bindIn(tx: Repositories, input: BindCertificateInput): Promise<{ result: BindCertificateResult; events: CloudEvent[] }> {
    const events: CloudEvent[] = [];
    const timeline: DeviceEvent[] = [];
    const now = this.deps.clock.now();
    const c = input.certificate;
    let created: DeviceRecord | undefined;
    let device: Device | undefined;
    if (input.createIfMissing) {
      // Expected new (JITP): inserted with the status its first certificate gives, no read first.
      const record = this.newRecord({ ...input.createIfMissing, id: input.deviceId });
      if (await tx.devices.insertIfAbsent({ ...record, status: deviceStatusOf(record.status, [c.status]) })) {
        created = record;
        timeline.push(this.timelineEntry(record.id, 'CREATED', `created by JITP enrollment through DMS ${record.dmsId}`, input.actor));
        events.push(this.event(DeviceCloudEvent.create, record.id, deviceData({ ...record, slots: [] }), input.actor));
        device = { ...record, slots: [] };
      }
    }
    device ??= await tx.devices.get(input.deviceId);
    if (!device) throw notFound('DEVICE_NOT_FOUND', `no device with id "${input.deviceId}"`, { id: input.deviceId });
    if (device.status === 'DECOMMISSIONED') {
      throw conflict('DEVICE_DECOMMISSIONED', `device "${device.id}" is decommissioned`, { id: device.id });
    }
    const previous = device.slots.find((s) => s.name === input.slot);
    const bound: SlotCertificate = {
      deviceId: device.id,
      slot: input.slot,
      version: previous ? Math.max(previous.active.version, ...previous.archive.map((a) => a.version)) + 1 : 1,
      serialNumber: c.serialNumber,
      issuerCaId: c.issuerCaId ?? '',
      status: c.status,
      notBefore: c.notBefore,
      notAfter: c.notAfter,
      boundAt: now,
      supersededAt: null,
    };
    const slots = [
      ...device.slots.filter((s) => s !== previous),
      { name: input.slot, active: bound, archive: previous ? [{ ...previous.active, supersededAt: now }, ...previous.archive] : [] },
    ].sort((a, b) => a.name.localeCompare(b.name));
    const status = deviceStatusOf(device.status, slots.map((s) => s.active.status), anySlotExpiring(slots));
    timeline.push(this.timelineEntry(device.id, input.kind, `slot ${input.slot}: certificate ${c.serialNumber} from CA ${c.issuerCaId}`, input.actor));
    events.push(
      this.event(DeviceCloudEvent.identityUpdate, device.id, { id: device.id, slot: input.slot, serial_number: c.serialNumber, issuer_ca_id: c.issuerCaId, kind: input.kind }, input.actor),
    );
    if (status !== device.status) {
      timeline.push(this.timelineEntry(device.id, 'STATUS-UPDATED', `${device.status} -> ${status}`, input.actor));
      events.push(this.event(DeviceCloudEvent.statusUpdate, device.id, { id: device.id, previous_status: device.status, status }, input.actor));
    }
    await tx.devices.bindCertificate(bound, previous !== undefined);
    if (!created && status !== device.status && !(await tx.devices.updateStatus(device.id, device.status, status, now))) {
      throw conflict('DEVICE_CHANGED', `device "${device.id}" changed meanwhile; try again`, { id: device.id });
    }
    await tx.devices.addEvents(timeline);
    await tx.outbox.append(events);
    const updated: Device = { ...device, status, updatedAt: status !== device.status ? now : device.updatedAt, slots };
    return { result: { device: updated, superseded: previous?.active }, events };
  }

  /**
   * Binds a certificate the CA service already holds (issued elsewhere, imported) as the device's identity
   * (default slot): Lamassu's bind-identity and idslot update. A certificate another slot holds or held is
   * refused, so one certificate never stands for two identities.
   */
  async bindExisting(input: BindExistingInput): Promise<{ device: Device; certificate: Certificate }> {
    const serial = input.serialNumber.toLowerCase();
    const certificate = await this.deps.ca.getCertificate(serial);
    if (!certificate) throw notFound('CERTIFICATE_NOT_FOUND', `no certificate with serial ${serial.slice(0, 64)}`, { serial_number: serial.slice(0, 64) });
    const held = await this.deps.storage.devices.findSlotCertificates(certificate.serialNumber, certificate.issuerCaId ?? undefined);
    if (held.length > 0) {
      const h = held[0]!;
      throw conflict('DEVICE_CERTIFICATE_BOUND', `certificate ${certificate.serialNumber} is already the identity of device "${h.deviceId}" (slot ${h.slot}, version ${h.version})`, {
        device_id: h.deviceId,
      });
    }
    const current = await this.get(input.deviceId);
    const first = !current.slots.some((s) => s.name === DEFAULT_SLOT);
    const { device } = await this.bindCertificate({ deviceId: input.deviceId, slot: DEFAULT_SLOT, certificate, kind: first ? 'PROVISIONED' : input.kind, actor: input.actor });
    return { device, certificate };
  }

  /**
   * Lamassu's PUT /devices/{id}/idslot. The slot follows its certificates, so the body may only say what
   * they allow: the versions it has (unchanged) plus the next one with a known certificate (bound now);
   * `active_version` the newest; status REVOKED (the active certificate is revoked) or the status the
   * certificate gives. Everything is checked before anything changes.
   */
  async updateIdentitySlot(input: UpdateIdentitySlotInput, actor: string): Promise<Device> {
    if (input.type !== undefined && input.type.toLowerCase() !== 'x509') throw slotUpdateInvalid('the identity slot type is x509', { type: input.type.slice(0, 16) });
    const device = await this.get(input.deviceId);
    if (device.status === 'DECOMMISSIONED') throw conflict('DEVICE_DECOMMISSIONED', `device "${device.id}" is decommissioned`, { id: device.id });
    const slot = device.slots.find((s) => s.name === DEFAULT_SLOT);
    const known = new Map((slot ? [slot.active, ...slot.archive] : []).map((c) => [c.version, c.serialNumber]));
    let added: { version: number; serial: string } | undefined;
    if (input.versions) {
      for (const [v, serial] of Object.entries(input.versions)) {
        const version = Number(v);
        const have = known.get(version);
        if (have !== undefined) {
          if (have !== serial.toLowerCase()) throw slotUpdateInvalid(`version ${version} holds certificate ${have}; versions cannot change`, { version });
          continue;
        }
        if (added) throw slotUpdateInvalid('at most one new version per update');
        added = { version, serial };
      }
      const missing = [...known.keys()].filter((v) => !Object.hasOwn(input.versions!, String(v)));
      if (missing.length > 0) throw slotUpdateInvalid(`versions cannot be removed (missing: ${missing.join(', ')})`);
      // Our versions count from 1; a Lamassu client numbers a first identity 0.
      const next = slot ? slot.active.version + 1 : 1;
      if (added && added.version !== next && !(slot === undefined && added.version === 0)) {
        throw slotUpdateInvalid(`the next version of this slot is ${next}`, { version: added.version });
      }
    }
    if (!slot && !added) throw conflict('DEVICE_SLOT_EMPTY', `device "${device.id}" has no identity yet; give versions with the serial of its certificate`, { id: device.id });
    const newest = added ? added.version : slot!.active.version;
    if (input.activeVersion !== undefined && input.activeVersion !== newest) {
      throw slotUpdateInvalid(`active_version must be the newest version (${newest}): a slot does not go back to an earlier certificate`, { active_version: input.activeVersion });
    }
    if (input.status !== undefined && input.status !== 'REVOKED' && !added && input.status !== lamassuSlotStatusOf(slot!.active)) {
      throw slotUpdateInvalid(`the slot status follows its certificate (${lamassuSlotStatusOf(slot!.active)}); only REVOKED can be set`, { status: input.status });
    }
    let updated = device;
    if (added) updated = (await this.bindExisting({ deviceId: device.id, serialNumber: added.serial, kind: 'RE-PROVISIONED', actor })).device;
    const active = updated.slots.find((s) => s.name === DEFAULT_SLOT)!.active;
    if (input.status === 'REVOKED' && active.status !== 'REVOKED') {
      await this.deps.ca.revoke({ serialNumber: active.serialNumber, issuerCaId: active.issuerCaId, reason: 'Unspecified', actor });
      await this.syncCertificateStatus(active.serialNumber, active.issuerCaId, actor);
    } else if (added && input.status !== undefined && input.status !== 'REVOKED' && input.status !== lamassuSlotStatusOf(active)) {
      throw slotUpdateInvalid(`the slot status follows its certificate (${lamassuSlotStatusOf(active)}); the certificate was bound`, { status: input.status });
    }
    return this.get(device.id);
  }

  /**
   * Handler of `certificate.status.update`: updates the slots holding the certificate and the status of
   * their devices. The status is read back from the CA service, so late or repeated events do no harm.
   */
  async onCertificateStatusEvent(event: CloudEvent): Promise<void> {
    const data = event.data as { serial_number?: unknown; issuer_ca_id?: unknown; status?: unknown } | undefined;
    if (typeof data?.serial_number !== 'string') return;
    const issuer = typeof data.issuer_ca_id === 'string' ? data.issuer_ca_id : undefined;
    await this.syncCertificateStatus(data.serial_number, issuer, event.actor ?? 'system', data.status as CertificateStatus | undefined);
  }

  /** The slots holding the certificate take the CA service's status of it, and their devices follow. */
  private async syncCertificateStatus(serialNumber: string, issuer: string | undefined, actor: string, announced?: CertificateStatus): Promise<void> {
    const slots = await this.deps.storage.devices.findSlotCertificates(serialNumber, issuer);
    if (slots.length === 0) return;
    const cert = await this.deps.ca.getCertificate(serialNumber, issuer);
    const status = cert?.status ?? announced;
    if (status === undefined) return;
    const events: CloudEvent[] = [];
    await this.deps.storage.transaction(async (tx) => {
      for (const s of slots) {
        if (s.status === status) continue;
        await tx.devices.updateSlotCertificateStatus(s.deviceId, s.slot, s.version, status);
        if (s.supersededAt === null) events.push(...(await this.refreshStatus(tx, s.deviceId, actor)));
      }
      await tx.outbox.append(events);
    });
    await this.publish(events);
  }

  /**
   * Handler of `certificate.expiring`: the slots holding the certificate record the delta it crossed, and
   * their devices turn REQUIRES_ACTION (unless a warning outranks it). Repeated or late events do no harm:
   * a stage only moves forward.
   */
  async onCertificateExpiringEvent(event: CloudEvent): Promise<void> {
    const data = event.data as { serial_number?: unknown; issuer_ca_id?: unknown; delta?: unknown } | undefined;
    if (typeof data?.serial_number !== 'string' || (data.delta !== 'preventive' && data.delta !== 'critical')) return;
    const stage = data.delta;
    const issuer = typeof data.issuer_ca_id === 'string' ? data.issuer_ca_id : undefined;
    const slots = await this.deps.storage.devices.findSlotCertificates(data.serial_number, issuer);
    const rank = (s: ExpiryStage | undefined) => EXPIRY_STAGES.indexOf(s ?? 'none');
    const behind = slots.filter((s) => rank(s.expiryStage) < rank(stage));
    if (behind.length === 0) return;
    const events: CloudEvent[] = [];
    await this.deps.storage.transaction(async (tx) => {
      for (const s of behind) {
        await tx.devices.updateSlotCertificateExpiryStage(s.deviceId, s.slot, s.version, stage);
        if (s.supersededAt === null) events.push(...(await this.refreshStatus(tx, s.deviceId, event.actor ?? 'system')));
      }
    });
    await this.publish(events);
  }

  /** Subscribes the status followers (status changes and expiration deltas) to the bus; returns the unsubscribe function. */
  async followCertificateStatus(): Promise<() => Promise<void>> {
    const statuses = await this.deps.events.subscribe('certificate.status.update', 'devices', (e) => this.onCertificateStatusEvent(e));
    // A group of its own: on RabbitMQ a group is one queue, and its consumers share whatever it is bound to.
    const expiring = await this.deps.events.subscribe('certificate.expiring', 'devices.expiring', (e) => this.onCertificateExpiringEvent(e));
    return async () => {
      await statuses();
      await expiring();
    };
  }

  private async refreshStatus(tx: Repositories, deviceId: string, actor: string): Promise<CloudEvent[]> {
    const device = await tx.devices.get(deviceId);
    if (!device) return [];
    const next = deviceStatusOf(
      device.status,
      device.slots.map((s) => s.active.status),
      anySlotExpiring(device.slots),
    );
    if (next === device.status) return [];
    if (!(await tx.devices.updateStatus(deviceId, device.status, next, this.deps.clock.now()))) {
      throw conflict('DEVICE_CHANGED', `device "${deviceId}" changed meanwhile; try again`, { id: deviceId });
    }
    await this.timeline(tx, deviceId, 'STATUS-UPDATED', `${device.status} -> ${next}`, actor);
    return [this.event(DeviceCloudEvent.statusUpdate, deviceId, { id: deviceId, previous_status: device.status, status: next }, actor)];
  }

  private async revokeQuietly(cert: SlotCertificate, reason: 'CessationOfOperation', actor: string): Promise<void> {
    try {
      await this.deps.ca.revoke({ serialNumber: cert.serialNumber, issuerCaId: cert.issuerCaId, reason, actor });
    } catch (err) {
      // Revoked or expired meanwhile: the goal (no usable certificate) holds.
      if (isDomainError(err) && err.kind === 'conflict') return;
      throw err;
    }
  }

  private newRecord(input: CreateDeviceInput): DeviceRecord {
    const now = this.deps.clock.now();
    return {
      id: input.id,
      alias: input.alias ?? '',
      tags: input.tags ?? [],
      metadata: input.metadata ?? {},
      dmsId: input.dmsId ?? null,
      icon: input.icon ?? '',
      iconColor: input.iconColor ?? '',
      status: 'PENDING_PROVISIONING',
      createdAt: now,
      updatedAt: now,
    };
  }

  private timeline(tx: Repositories, deviceId: string, type: DeviceEventType, description: string, actor: string): Promise<void> {
    return tx.devices.addEvent(this.timelineEntry(deviceId, type, description, actor));
  }

  private timelineEntry(deviceId: string, type: DeviceEventType, description: string, actor: string): DeviceEvent {
    const at = this.deps.clock.now();
    const id = `${String(at.getTime()).padStart(15, '0')}-${String(this.sequence++ % 1e9).padStart(9, '0')}-${this.deps.random.uuid()}`;
    return { id, deviceId, at, type, description, actor };
  }

  private event<T>(type: string, subject: string, data: T, actor: string): CloudEvent<T> {
    return newEvent(type, DEVICE_EVENT_SOURCE, subject, data, actor, this.deps.clock, this.deps.random);
  }

  /**
   * Announces events after the commit that wrote them to the outbox (`tx.outbox.append`); the relay sends
   * them to the bus. The change is durable, so a failure here is logged, not returned to the caller.
   */
  private async publish(events: CloudEvent[]): Promise<void> {
    if (events.length === 0) return;
    try {
      await this.deps.events.publish(events);
    } catch (err) {
      this.deps.logger.error({ err, types: events.map((e) => e.type) }, 'publishing device events failed');
    }
  }
}

/** What device events carry. */
export const deviceData = (d: Device) => ({
  id: d.id,
  alias: d.alias,
  tags: d.tags,
  dms_id: d.dmsId,
  status: d.status,
});
