import type { Kysely, Selectable } from 'kysely';
import type { Page } from '../../domain/ca/page.ts';
import type { Dms, DmsSettings } from '../../domain/dms/dms.ts';
import type { DmsQuery, DmsRepository, DmsSortKey } from '../../domain/dms/dms-repository.ts';
import type { FieldFilter } from '../../domain/list-filter.ts';
import { conflict } from '../../domain/errors.ts';
import { filterConditions, type FilterColumns } from './filter-sql.ts';
import { isPostgres } from './migrations/column-types.ts';
import { afterBookmark, pageSize, toPage, type KeysetSort } from './keyset-page.ts';
import type { Database, DmsTable } from './schema.ts';
import { isUniqueViolation } from './unique-violation.ts';

const sortColumns: Record<DmsSortKey, 'created_at' | 'id' | 'name'> = { created_at: 'created_at', id: 'id', name: 'name' };

const toDms = (row: Selectable<DmsTable>): Dms => ({
  id: row.id,
  name: row.name,
  metadata: JSON.parse(row.metadata) as Record<string, unknown>,
  authorizedCaIds: JSON.parse(row.authorized_cas) as string[],
  settings: JSON.parse(row.settings) as DmsSettings,
  certificate:
    row.certificate_serial === null || row.certificate_issuer_ca_id === null
      ? null
      : { serialNumber: row.certificate_serial, issuerCaId: row.certificate_issuer_ca_id },
  createdAt: new Date(row.created_at),
  updatedAt: new Date(row.updated_at),
});

const toRow = (d: Dms): DmsTable => ({
  id: d.id,
  name: d.name,
  metadata: JSON.stringify(d.metadata),
  authorized_cas: JSON.stringify(d.authorizedCaIds),
  settings: JSON.stringify(d.settings),
  certificate_serial: d.certificate?.serialNumber ?? null,
  certificate_issuer_ca_id: d.certificate?.issuerCaId ?? null,
  created_at: d.createdAt.getTime(),
  updated_at: d.updatedAt.getTime(),
});

/** Where each of DMS_FILTER_FIELDS lives on the dms row. */
export const dmsFilterColumns: FilterColumns = {
  id: { column: 'id', stores: 'text' },
  name: { column: 'name', stores: 'text' },
  creation_date: { column: 'created_at', stores: 'ms' },
  metadata: { column: 'metadata', stores: 'json' },
};

export class SqlDmsRepository implements DmsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(dms: Dms): Promise<void> {
    try {
      await this.db.insertInto('dms').values(toRow(dms)).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('DMS_EXISTS', `a DMS with id "${dms.id}" already exists`, { id: dms.id });
      throw err;
    }
  }

  async get(id: string): Promise<Dms | undefined> {
    const row = await this.db.selectFrom('dms').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toDms(row);
  }

  async findByCertificateSerial(serialNumber: string): Promise<Dms | undefined> {
    const row = await this.db.selectFrom('dms').selectAll().where('certificate_serial', '=', serialNumber).executeTakeFirst();
    return row && toDms(row);
  }

  // DMSs number in the tens or thousands, so no index backs the sorts: each page sorts the table.
  async list(query: DmsQuery): Promise<Page<Dms>> {
    const size = pageSize(query.pageSize);
    const key = query.sortBy ?? 'created_at';
    const column = sortColumns[key];
    const sort: KeysetSort = { key, column, idColumn: 'id', mode: query.sortMode ?? 'asc' };
    let q = this.db.selectFrom('dms').selectAll();
    for (const c of filterConditions(query.filters, dmsFilterColumns, isPostgres(this.db))) q = q.where(c);
    if (query.bookmark) q = q.where((eb) => afterBookmark(eb, sort, query.bookmark!));
    const rows = await q.orderBy(column, sort.mode).orderBy('id', sort.mode).limit(size + 1).execute();
    return toPage(rows, size, sort, (r) => [r[column], r.id], toDms);
  }

  async update(dms: Dms): Promise<boolean> {
    const { id, created_at: _created, ...rest } = toRow(dms);
    const res = await this.db.updateTable('dms').set(rest).where('id', '=', id).executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async delete(id: string): Promise<boolean> {
    const res = await this.db.deleteFrom('dms').where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  async count(filters?: FieldFilter[]): Promise<number> {
    let q = this.db.selectFrom('dms').select((eb) => eb.fn.countAll<number>().as('n'));
    for (const c of filterConditions(filters, dmsFilterColumns, isPostgres(this.db))) q = q.where(c);
    const row = await q.executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
