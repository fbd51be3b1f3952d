import type { FieldFilter } from '../../domain/list-filter.ts';
import { EXPIRY_STAGES, type ExpiryStage } from '../../domain/ca/expiry-deltas.ts';
import { sql, type Kysely, type Selectable } from 'kysely';
import type { CertificateStatus } from '../../domain/ca/certificate-status.ts';
import type { Page } from '../../domain/ca/page.ts';
import type { Device, DeviceEvent, DeviceEventType, DeviceRecord, DeviceStatus, Slot, SlotCertificate } from '../../domain/devices/device.ts';
import type { DeviceCount, DeviceCountFilter, DeviceQuery, DeviceRepository, DeviceSortKey } from '../../domain/devices/device-repository.ts';
import { conflict } from '../../domain/errors.ts';
import { filterConditions, type FilterColumns } from './filter-sql.ts';
import { updateJsonColumn } from './json-column-update.ts';
import { isPostgres } from './migrations/column-types.ts';
import { afterBookmark, pageSize, toPage, type KeysetSort } from './keyset-page.ts';
import type { Database, DeviceCertificatesTable, DevicesTable } from './schema.ts';
import { isUniqueViolation } from './unique-violation.ts';

const sortColumns: Record<DeviceSortKey, keyof DevicesTable> = {
  created_at: 'created_at',
  id: 'id',
  status: 'status',
  updated_at: 'updated_at',
};

/** Where each of DEVICE_FILTER_FIELDS lives on `d` (tags: a JSON text array). */
export const deviceFilterColumns: FilterColumns = {
  id: { column: 'd.id', stores: 'text' },
  dms_owner: { column: 'd.dms_id', stores: 'text' },
  creation_timestamp: { column: 'd.created_at', stores: 'ms' },
  status: { column: 'd.status', stores: 'text' },
  tags: { column: 'd.tags', stores: 'json_array' },
  metadata: { column: 'd.metadata', stores: 'json' },
};

const toRecord = (row: Selectable<DevicesTable>): DeviceRecord => ({
  id: row.id,
  alias: row.alias,
  tags: JSON.parse(row.tags) as string[],
  metadata: JSON.parse(row.metadata) as Record<string, unknown>,
  dmsId: row.dms_id,
  icon: row.icon,
  iconColor: row.icon_color,
  status: row.status as DeviceStatus,
  createdAt: new Date(row.created_at),
  updatedAt: new Date(row.updated_at),
});

const toRow = (d: DeviceRecord) => ({
  id: d.id,
  alias: d.alias,
  tags: JSON.stringify(d.tags),
  metadata: JSON.stringify(d.metadata),
  dms_id: d.dmsId,
  icon: d.icon,
  icon_color: d.iconColor,
  status: d.status,
  created_at: d.createdAt.getTime(),
  updated_at: d.updatedAt.getTime(),
});

const toSlotCertificate = (row: Selectable<DeviceCertificatesTable>): SlotCertificate => ({
  deviceId: row.device_id,
  slot: row.slot,
  version: row.version,
  serialNumber: row.serial_number,
  issuerCaId: row.issuer_ca_id,
  status: row.status as CertificateStatus,
  notBefore: new Date(row.not_before),
  notAfter: new Date(row.not_after),
  boundAt: new Date(row.bound_at),
  supersededAt: row.superseded_at === null ? null : new Date(row.superseded_at),
  expiryStage: EXPIRY_STAGES[Number(row.expiry_stage)] ?? 'none',
});

/** Groups certificate rows (any order) into slots: the active one and the archive newest first. */
function toSlots(rows: SlotCertificate[]): Slot[] {
  const bySlot = new Map<string, SlotCertificate[]>();
  for (const r of rows) bySlot.set(r.slot, [...(bySlot.get(r.slot) ?? []), r]);
  const slots: Slot[] = [];
  for (const [name, certs] of [...bySlot].sort(([a], [b]) => a.localeCompare(b))) {
    const active = certs.find((c) => c.supersededAt === null);
    if (!active) continue;
    const archive = certs.filter((c) => c !== active).sort((a, b) => b.version - a.version);
    slots.push({ name, active, archive });
  }
  return slots;
}

/** LIKE pattern matching a JSON array's text that contains `tag` as an element. */
const tagPattern = (tag: string) => `%${JSON.stringify(tag).replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export class SqlDeviceRepository implements DeviceRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(d: DeviceRecord): Promise<void> {
    try {
      await this.db.insertInto('devices').values(toRow(d)).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('DEVICE_EXISTS', `a device with id "${d.id}" already exists`, { id: d.id });
      throw err;
    }
  }

  async delete(id: string, status: DeviceStatus): Promise<boolean> {
    const gone = await this.db.deleteFrom('devices').where('id', '=', id).where('status', '=', status).executeTakeFirst();
    if (Number(gone.numDeletedRows) === 0) return false;
    // The foreign keys cascade where they are enforced; these make it so everywhere.
    await this.db.deleteFrom('device_certificates').where('device_id', '=', id).execute();
    await this.db.deleteFrom('device_events').where('device_id', '=', id).execute();
    return true;
  }

  async insertIfAbsent(d: DeviceRecord): Promise<boolean> {
    const res = await this.db
      .insertInto('devices')
      .values(toRow(d))
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async get(id: string): Promise<Device | undefined> {
    const row = await this.db.selectFrom('devices').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return undefined;
    const certs = await this.db.selectFrom('device_certificates').selectAll().where('device_id', '=', id).execute();
    return { ...toRecord(row), slots: toSlots(certs.map(toSlotCertificate)) };
  }

  async list(query: DeviceQuery): Promise<Page<Device>> {
    const size = pageSize(query.pageSize);
    const key = query.sortBy ?? 'created_at';
    const column = sortColumns[key];
    const sort: KeysetSort = { key, column: `d.${column}`, idColumn: 'd.id', mode: query.sortMode ?? 'asc' };
    let q = this.db.selectFrom('devices as d').selectAll('d');
    if (query.status?.length) q = q.where('d.status', 'in', query.status);
    if (query.dmsId !== undefined) q = q.where('d.dms_id', '=', query.dmsId);
    for (const tag of query.tags ?? []) q = q.where(sql<boolean>`d.tags like ${tagPattern(tag)} escape '\\'`);
    if (query.id !== undefined) {
      if (query.id.endsWith('*')) {
        const prefix = query.id.slice(0, -1);
        // Not LIKE (case-insensitive on SQLite) nor a range (collation-dependent on PostgreSQL): exact on both.
        q = q.where(sql<boolean>`substr(d.id, 1, ${prefix.length}) = ${prefix}`);
      } else q = q.where('d.id', '=', query.id);
    }
    if (query.createdAfter) q = q.where('d.created_at', '>=', query.createdAfter.getTime());
    if (query.createdBefore) q = q.where('d.created_at', '<=', query.createdBefore.getTime());
    for (const c of this.conditions(query)) q = q.where(c);
    if (query.bookmark) q = q.where((eb) => afterBookmark(eb, sort, query.bookmark!));
    const rows = await q
      .orderBy(`d.${column}`, sort.mode)
      .orderBy('d.id', sort.mode)
      .limit(size + 1)
      .execute();
    const page = toPage(rows, size, sort, (r) => [r[column] as string | number, r.id], toRecord);
    const ids = page.list.map((d) => d.id);
    const certs =
      ids.length === 0
        ? []
        : await this.db.selectFrom('device_certificates').selectAll().where('device_id', 'in', ids).where('superseded_at', 'is', null).execute();
    const byDevice = new Map<string, SlotCertificate[]>();
    for (const c of certs.map(toSlotCertificate)) byDevice.set(c.deviceId, [...(byDevice.get(c.deviceId) ?? []), c]);
    return { next: page.next, list: page.list.map((d) => ({ ...d, slots: toSlots(byDevice.get(d.id) ?? []) })) };
  }

  async updateStatus(id: string, from: DeviceStatus, to: DeviceStatus, at: Date): Promise<boolean> {
    const res = await this.db
      .updateTable('devices')
      .set({ status: to, updated_at: at.getTime() })
      .where('id', '=', id)
      .where('status', '=', from)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  updateMetadata(id: string, change: (current: Record<string, unknown>) => Record<string, unknown>): Promise<Record<string, unknown> | undefined> {
    return updateJsonColumn(this.db, 'devices', 'metadata', id, change);
  }

  async countByStatus(filter: DeviceCountFilter): Promise<DeviceCount[]> {
    let q = this.db.selectFrom('devices as d').select((eb) => ['d.status', eb.fn.countAll<number>().as('n')]);
    if (filter.dmsId !== undefined) q = q.where('d.dms_id', '=', filter.dmsId);
    for (const c of this.conditions(filter)) q = q.where(c);
    const rows = await q.groupBy('d.status').execute();
    return rows.map((r) => ({ status: r.status as DeviceStatus, count: Number(r.n) }));
  }

  /** Lamassu filters (device groups' criteria among them) on `d`. */
  private conditions(query: { filters?: DeviceQuery['filters'] }) {
    return filterConditions(query.filters, deviceFilterColumns, isPostgres(this.db));
  }

  async bindCertificate(c: SlotCertificate, archivePrevious = true): Promise<void> {
    if (archivePrevious) {
      await this.db
        .updateTable('device_certificates')
        .set({ superseded_at: c.boundAt.getTime() })
        .where('device_id', '=', c.deviceId)
        .where('slot', '=', c.slot)
        .where('superseded_at', 'is', null)
        .execute();
    }
    await this.db
      .insertInto('device_certificates')
      .values({
        device_id: c.deviceId,
        slot: c.slot,
        version: c.version,
        serial_number: c.serialNumber,
        issuer_ca_id: c.issuerCaId,
        status: c.status,
        not_before: c.notBefore.getTime(),
        not_after: c.notAfter.getTime(),
        bound_at: c.boundAt.getTime(),
        superseded_at: null,
        expiry_stage: EXPIRY_STAGES.indexOf(c.expiryStage ?? 'none'),
      })
      .execute();
  }

  async findSlotCertificates(serialNumber: string, issuerCaId?: string): Promise<SlotCertificate[]> {
    let q = this.db.selectFrom('device_certificates').selectAll().where('serial_number', '=', serialNumber);
    if (issuerCaId !== undefined) q = q.where('issuer_ca_id', '=', issuerCaId);
    return (await q.execute()).map(toSlotCertificate);
  }

  async updateSlotCertificateStatus(deviceId: string, slot: string, version: number, status: CertificateStatus): Promise<void> {
    await this.db
      .updateTable('device_certificates')
      .set({ status })
      .where('device_id', '=', deviceId)
      .where('slot', '=', slot)
      .where('version', '=', version)
      .execute();
  }

  async updateSlotCertificateExpiryStage(deviceId: string, slot: string, version: number, stage: ExpiryStage): Promise<void> {
    await this.db
      .updateTable('device_certificates')
      .set({ expiry_stage: EXPIRY_STAGES.indexOf(stage) })
      .where('device_id', '=', deviceId)
      .where('slot', '=', slot)
      .where('version', '=', version)
      .execute();
  }

  addEvent(e: DeviceEvent): Promise<void> {
    return this.addEvents([e]);
  }

  async addEvents(events: DeviceEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.db
      .insertInto('device_events')
      .values(events.map((e) => ({ id: e.id, device_id: e.deviceId, at: e.at.getTime(), type: e.type, description: e.description, actor: e.actor })))
      .execute();
  }

  async listEvents(deviceId: string): Promise<DeviceEvent[]> {
    const rows = await this.db.selectFrom('device_events').selectAll().where('device_id', '=', deviceId).orderBy('at').orderBy('id').execute();
    return rows.map((r) => ({
      id: r.id,
      deviceId: r.device_id,
      at: new Date(r.at),
      type: r.type as DeviceEventType,
      description: r.description,
      actor: r.actor,
    }));
  }
}
