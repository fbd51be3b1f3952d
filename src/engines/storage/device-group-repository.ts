import { sql, type Kysely, type Selectable } from 'kysely';
import type { Page } from '../../domain/ca/page.ts';
import type { DeviceGroup, GroupCriterion } from '../../domain/devices/device-group.ts';
import type { DeviceGroupQuery, DeviceGroupRepository, DeviceGroupSortKey } from '../../domain/devices/device-group-repository.ts';
import { conflict } from '../../domain/errors.ts';
import { afterBookmark, pageSize, toPage, type KeysetSort } from './keyset-page.ts';
import { isPostgres } from './migrations/column-types.ts';
import type { Database, DeviceGroupsTable } from './schema.ts';
import { isUniqueViolation } from './unique-violation.ts';

const sortColumns: Record<DeviceGroupSortKey, keyof DeviceGroupsTable> = { created_at: 'created_at', id: 'id', name: 'name' };

const toGroup = (row: Selectable<DeviceGroupsTable>): DeviceGroup => ({
  id: row.id,
  name: row.name,
  description: row.description,
  parentId: row.parent_id,
  criteria: JSON.parse(row.criteria) as GroupCriterion[],
  createdAt: new Date(Number(row.created_at)),
  updatedAt: new Date(Number(row.updated_at)),
});

const toRow = (g: DeviceGroup) => ({
  id: g.id,
  name: g.name,
  description: g.description,
  parent_id: g.parentId,
  criteria: JSON.stringify(g.criteria),
  created_at: g.createdAt.getTime(),
  updated_at: g.updatedAt.getTime(),
});

const nameTaken = (name: string) => conflict('DEVICE_GROUP_NAME_TAKEN', `a device group named "${name.slice(0, 80)}" exists`, { name: name.slice(0, 80) });

export class SqlDeviceGroupRepository implements DeviceGroupRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(g: DeviceGroup): Promise<void> {
    try {
      await this.db.insertInto('device_groups').values(toRow(g)).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw nameTaken(g.name);
      throw err;
    }
  }

  async get(id: string): Promise<DeviceGroup | undefined> {
    const row = await this.db.selectFrom('device_groups').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toGroup(row);
  }

  async list(query: DeviceGroupQuery): Promise<Page<DeviceGroup>> {
    const size = pageSize(query.pageSize);
    const key = query.sortBy ?? 'created_at';
    const column = sortColumns[key];
    const sort: KeysetSort = { key, column: `g.${column}`, idColumn: 'g.id', mode: query.sortMode ?? 'asc' };
    let q = this.db.selectFrom('device_groups as g').selectAll('g');
    if (query.parentId === null) q = q.where('g.parent_id', 'is', null);
    else if (query.parentId !== undefined) q = q.where('g.parent_id', '=', query.parentId);
    if (query.bookmark) q = q.where((eb) => afterBookmark(eb, sort, query.bookmark!));
    const rows = await q.orderBy(`g.${column}`, sort.mode).orderBy('g.id', sort.mode).limit(size + 1).execute();
    return toPage(rows, size, sort, (r) => [r[column] as string | number, r.id], toGroup);
  }

  async update(g: DeviceGroup): Promise<boolean> {
    try {
      const { id, created_at: _created, ...row } = toRow(g);
      const res = await this.db.updateTable('device_groups').set(row).where('id', '=', id).executeTakeFirst();
      return Number(res.numUpdatedRows) > 0;
    } catch (err) {
      if (isUniqueViolation(err)) throw nameTaken(g.name);
      throw err;
    }
  }

  async delete(id: string): Promise<boolean> {
    const child = await this.db.selectFrom('device_groups').select('id').where('parent_id', '=', id).limit(1).executeTakeFirst();
    if (child) throw conflict('DEVICE_GROUP_HAS_CHILDREN', `device group ${id} has child groups; delete or move them first`, { id });
    const res = await this.db.deleteFrom('device_groups').where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  async chain(id: string, limit: number): Promise<DeviceGroup[]> {
    // One recursive query up the parent links; the depth bound also stops a cycle written by other means.
    const rows = await this.db
      .withRecursive('up(id, depth)', (db) =>
        db
          .selectFrom('device_groups')
          .select(['id', sql<number>`1`.as('depth')])
          .where('id', '=', id)
          .unionAll((db) =>
            db
              .selectFrom('device_groups as g')
              .innerJoin('up', 'up.id', 'g.id')
              .innerJoin('device_groups as p', 'p.id', 'g.parent_id')
              .select(['p.id', sql<number>`up.depth + 1`.as('depth')])
              .where('up.depth', '<', limit),
          ),
      )
      .selectFrom('up')
      .innerJoin('device_groups as g', 'g.id', 'up.id')
      .selectAll('g')
      .select('up.depth')
      .orderBy('up.depth')
      .execute();
    return rows.map(toGroup);
  }

  async subtreeHeight(id: string, limit: number): Promise<number> {
    const row = await this.db
      .withRecursive('down(id, depth)', (db) =>
        db
          .selectFrom('device_groups')
          .select(['id', sql<number>`1`.as('depth')])
          .where('id', '=', id)
          .unionAll((db) =>
            db
              .selectFrom('device_groups as g')
              .innerJoin('down', 'down.id', 'g.parent_id')
              .select(['g.id', sql<number>`down.depth + 1`.as('depth')])
              .where('down.depth', '<', limit),
          ),
      )
      .selectFrom('down')
      .select((eb) => eb.fn.max('depth').as('height'))
      .executeTakeFirst();
    return Number(row?.height ?? 0);
  }

  async lockHierarchy(): Promise<void> {
    // SQLite runs one write transaction at a time already; PostgreSQL needs the table lock (group writes are rare).
    if (isPostgres(this.db)) await sql`lock table device_groups in share row exclusive mode`.execute(this.db);
  }
}
