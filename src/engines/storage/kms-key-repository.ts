import type { Kysely, Selectable } from 'kysely';
import type { Page } from '../../domain/ca/page.ts';
import { conflict } from '../../domain/errors.ts';
import type { KmsKey, KmsKeyOrigin, KmsKeyQuery, KmsKeyRepository, KmsKeySortKey } from '../../domain/kms/kms-key.ts';
import type { KeyType } from '../../domain/ports/key-engine.ts';
import { filterConditions, type FilterColumns } from './filter-sql.ts';
import { afterBookmark, pageSize, toPage, type KeysetSort } from './keyset-page.ts';
import { isPostgres } from './migrations/column-types.ts';
import type { Database, KmsKeysTable } from './schema.ts';
import { isUniqueViolation } from './unique-violation.ts';

const sortColumns: Record<KmsKeySortKey, 'created_at' | 'id' | 'name'> = { created_at: 'created_at', id: 'id', name: 'name' };

const toKey = (row: Selectable<KmsKeysTable>): KmsKey => ({
  id: row.id,
  engineId: row.engine_id,
  type: row.key_type as KeyType,
  bits: Number(row.key_bits),
  publicKeySpki: new Uint8Array(row.public_key),
  name: row.name,
  aliases: JSON.parse(row.aliases) as string[],
  tags: JSON.parse(row.tags) as string[],
  metadata: JSON.parse(row.metadata) as Record<string, unknown>,
  origin: row.origin as KmsKeyOrigin,
  createdAt: new Date(Number(row.created_at)),
});

const toRow = (k: KmsKey): KmsKeysTable => ({
  id: k.id,
  engine_id: k.engineId,
  key_type: k.type,
  key_bits: k.bits,
  public_key: k.publicKeySpki,
  name: k.name,
  aliases: JSON.stringify(k.aliases),
  tags: JSON.stringify(k.tags),
  metadata: JSON.stringify(k.metadata),
  origin: k.origin,
  has_private_key: 1,
  created_at: k.createdAt.getTime(),
});

/** Where each of KMS_KEY_FILTER_FIELDS lives (metadata: JSONPath filters are refused before SQL). */
export const kmsKeyFilterColumns: FilterColumns = {
  key_id: { column: 'id', stores: 'text' },
  engine_id: { column: 'engine_id', stores: 'text' },
  algorithm: { column: 'key_type', stores: 'text' },
  size: { column: 'key_bits', stores: 'number' },
  name: { column: 'name', stores: 'text' },
  tags: { column: 'tags', stores: 'json_array' },
  has_private_key: { column: 'has_private_key', stores: 'bool' },
  creation_ts: { column: 'created_at', stores: 'ms' },
};

export class SqlKmsKeyRepository implements KmsKeyRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(key: KmsKey): Promise<void> {
    try {
      await this.db.insertInto('kms_keys').values(toRow(key)).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('KMS_KEY_EXISTS', `the KMS already has key ${key.id}`, { id: key.id });
      throw err;
    }
  }

  async get(id: string): Promise<KmsKey | undefined> {
    const row = await this.db.selectFrom('kms_keys').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toKey(row);
  }

  async findByAlias(alias: string): Promise<KmsKey | undefined> {
    const byName = await this.db.selectFrom('kms_keys').selectAll().where('name', '=', alias).orderBy('created_at').limit(1).executeTakeFirst();
    if (byName) return toKey(byName);
    // Aliases are a JSON array: an element is its JSON string form, quotes included.
    const element = JSON.stringify(alias);
    const pg = isPostgres(this.db);
    const rows = await this.db
      .selectFrom('kms_keys')
      .selectAll()
      .where((eb) => (pg ? eb(eb.fn('strpos', ['aliases', eb.val(element)]), '>', 0) : eb(eb.fn('instr', ['aliases', eb.val(element)]), '>', 0)))
      .orderBy('created_at')
      .limit(10)
      .execute();
    return rows.map(toKey).find((k) => k.aliases.includes(alias));
  }

  // Keys number in the hundreds or thousands: the created_at index serves the default order.
  async list(query: KmsKeyQuery): Promise<Page<KmsKey>> {
    const size = pageSize(query.pageSize);
    const key = query.sortBy ?? 'created_at';
    const column = sortColumns[key];
    const sort: KeysetSort = { key, column, idColumn: 'id', mode: query.sortMode ?? 'asc' };
    let q = this.db.selectFrom('kms_keys').selectAll();
    for (const c of filterConditions(query.filters, kmsKeyFilterColumns, isPostgres(this.db))) q = q.where(c);
    if (query.bookmark) q = q.where((eb) => afterBookmark(eb, sort, query.bookmark!));
    const rows = await q.orderBy(column, sort.mode).orderBy('id', sort.mode).limit(size + 1).execute();
    return toPage(rows, size, sort, (r) => [column === 'created_at' ? Number(r.created_at) : r[column], r.id], toKey);
  }

  async update(key: KmsKey): Promise<boolean> {
    const row = toRow(key);
    const res = await this.db
      .updateTable('kms_keys')
      .set({ name: row.name, aliases: row.aliases, tags: row.tags, metadata: row.metadata })
      .where('id', '=', key.id)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async delete(id: string): Promise<boolean> {
    const res = await this.db.deleteFrom('kms_keys').where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  async stats(): Promise<{ total: number; byEngine: Record<string, number>; byAlgorithm: Record<string, number> }> {
    const count = (eb: any) => eb.fn.countAll().as('n');
    const engines = await this.db.selectFrom('kms_keys').select(['engine_id', count]).groupBy('engine_id').execute();
    const algorithms = await this.db.selectFrom('kms_keys').select(['key_type', count]).groupBy('key_type').execute();
    const byEngine = Object.fromEntries(engines.map((r) => [r.engine_id, Number(r.n)]));
    const byAlgorithm = Object.fromEntries(algorithms.map((r) => [r.key_type, Number(r.n)]));
    return { total: Object.values(byEngine).reduce((a, b) => a + b, 0), byEngine, byAlgorithm };
  }
}
