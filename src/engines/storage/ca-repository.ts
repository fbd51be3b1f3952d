import type { FieldFilter } from '../../domain/list-filter.ts';
import type { ExpiryDeltas } from '../../domain/ca/expiry-deltas.ts';
import type { Kysely } from 'kysely';
import type { CaCount, CaQuery, CaRepository, CaSortKey } from '../../domain/ca/ca-repository.ts';
import type { CaRecord, CaType, CertificateAuthority } from '../../domain/ca/ca.ts';
import type { CertificateStatus } from '../../domain/ca/certificate-status.ts';
import type { Page } from '../../domain/ca/page.ts';
import { conflict } from '../../domain/errors.ts';
import { certificateRowFilterColumns, cnCondition, toCertificate, type CertificateRow } from './certificate-repository.ts';
import { updateJsonColumn } from './json-column-update.ts';
import { filterConditions, type FilterColumns } from './filter-sql.ts';
import { isPostgres } from './migrations/column-types.ts';
import { afterBookmark, pageSize, toPage, type KeysetSort } from './keyset-page.ts';
import type { Database } from './schema.ts';
import { isUniqueViolation } from './unique-violation.ts';

const sortColumns: Record<CaSortKey, string> = {
  created_at: 'a.created_at',
  common_name: 'c.subject_cn',
  valid_from: 'c.not_before',
  valid_to: 'c.not_after',
  level: 'a.level',
  status: 'c.status',
};

/** Where each of CA_FILTER_FIELDS lives: the CA row `a` or its certificate's status row `c`. */
export const caFilterColumns: FilterColumns = {
  id: { column: 'a.id', stores: 'text' },
  profile_id: { column: 'a.profile_id', stores: 'text' },
  type: { column: 'a.type', stores: 'text' },
  ...certificateRowFilterColumns,
  engine_id: { column: 'a.engine_id', stores: 'text' },
  level: { column: 'a.level', stores: 'number' },
  metadata: { column: 'a.metadata', stores: 'json' },
};

/** A CA's own columns come prefixed `a_` so they do not clash with its certificate's. */
const selectCas = (db: Kysely<Database>) =>
  db
    .selectFrom('cas as a')
    .innerJoin('certificates as c', 'c.id', 'a.certificate_id')
    .innerJoin('certificate_blobs as b', 'b.id', 'c.id')
    .selectAll('c')
    .select([
      'b.der',
      'b.details',
      'a.id as a_id',
      'a.parent_id as a_parent_id',
      'a.level as a_level',
      'a.type as a_type',
      'a.engine_id as a_engine_id',
      'a.key_id as a_key_id',
      'a.internal as a_internal',
      'a.profile_id as a_profile_id',
      'a.about_to_expire_ms as a_about_to_expire_ms',
      'a.expiry_preventive_ms as a_expiry_preventive_ms',
      'a.expiry_critical_ms as a_expiry_critical_ms',
      'a.metadata as a_metadata',
      'a.created_at as a_created_at',
    ]);

type CaRow = CertificateRow & {
  a_id: string;
  a_parent_id: string | null;
  a_level: number;
  a_type: string;
  a_engine_id: string | null;
  a_key_id: string | null;
  a_internal: number;
  a_profile_id: string | null;
  a_about_to_expire_ms: number | null;
  a_expiry_preventive_ms: number | null;
  a_expiry_critical_ms: number | null;
  a_metadata: string;
  a_created_at: number;
};

/** Two nullable columns as deltas; both null is no deltas. */
export const deltasOf = (preventive: number | string | null, critical: number | string | null): ExpiryDeltas | null =>
  preventive === null && critical === null
    ? null
    : { preventiveMs: preventive === null ? null : Number(preventive), criticalMs: critical === null ? null : Number(critical) };

const toCa = (row: CaRow): CertificateAuthority => ({
  id: row.a_id,
  certificateId: row.id,
  parentId: row.a_parent_id,
  level: row.a_level,
  type: row.a_type as CaType,
  engineId: row.a_engine_id,
  keyId: row.a_key_id,
  internal: row.a_internal === 1,
  profileId: row.a_profile_id,
  aboutToExpireMs: row.a_about_to_expire_ms,
  expiryDeltas: deltasOf(row.a_expiry_preventive_ms, row.a_expiry_critical_ms),
  metadata: JSON.parse(row.a_metadata) as Record<string, unknown>,
  createdAt: new Date(row.a_created_at),
  certificate: toCertificate(row),
});

export class SqlCaRepository implements CaRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(ca: CaRecord): Promise<void> {
    try {
      await this.db
        .insertInto('cas')
        .values({
          id: ca.id,
          certificate_id: ca.certificateId,
          parent_id: ca.parentId,
          level: ca.level,
          type: ca.type,
          engine_id: ca.engineId,
          key_id: ca.keyId,
          internal: ca.internal ? 1 : 0,
          profile_id: ca.profileId,
          about_to_expire_ms: ca.aboutToExpireMs,
          expiry_preventive_ms: ca.expiryDeltas?.preventiveMs ?? null,
          expiry_critical_ms: ca.expiryDeltas?.criticalMs ?? null,
          metadata: JSON.stringify(ca.metadata),
          created_at: ca.createdAt.getTime(),
        })
        .execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('CA_EXISTS', `a CA with id "${ca.id}" already exists`, { id: ca.id });
      throw err;
    }
  }

  async get(id: string): Promise<CertificateAuthority | undefined> {
    const row = await selectCas(this.db).where('a.id', '=', id).executeTakeFirst();
    return row && toCa(row);
  }

  async list(query: CaQuery): Promise<Page<CertificateAuthority>> {
    const size = pageSize(query.pageSize);
    const key = query.sortBy ?? 'created_at';
    const column = sortColumns[key];
    const sort: KeysetSort = { key, column, idColumn: 'a.id', mode: query.sortMode ?? 'asc' };
    let q = selectCas(this.db);
    if (query.status?.length) q = q.where('c.status', 'in', query.status);
    if (query.commonName !== undefined) q = q.where(cnCondition('c.subject_cn', query.commonName));
    if (query.subjectKeyId !== undefined) q = q.where('c.subject_key_id', '=', query.subjectKeyId.toLowerCase());
    if (query.engineId !== undefined) q = q.where('a.engine_id', '=', query.engineId);
    if (query.keyId !== undefined) q = q.where('a.key_id', '=', query.keyId);
    if (query.parentId !== undefined) q = q.where('a.parent_id', '=', query.parentId);
    if (query.internal !== undefined) q = q.where('a.internal', '=', query.internal ? 1 : 0);
    if (query.validToAfter) q = q.where('c.not_after', '>=', query.validToAfter.getTime());
    if (query.validToBefore) q = q.where('c.not_after', '<=', query.validToBefore.getTime());
    if (query.validFromAfter) q = q.where('c.not_before', '>=', query.validFromAfter.getTime());
    if (query.validFromBefore) q = q.where('c.not_before', '<=', query.validFromBefore.getTime());
    for (const c of filterConditions(query.filters, caFilterColumns, isPostgres(this.db))) q = q.where(c);
    if (query.bookmark) q = q.where((eb) => afterBookmark(eb, sort, query.bookmark!));
    const rows = await q
      .orderBy(column as 'a.created_at', sort.mode)
      .orderBy('a.id', sort.mode)
      .limit(size + 1)
      .execute();
    const field = column.replace(/^a\./, 'a_').replace(/^c\./, '') as keyof CaRow;
    return toPage(rows, size, sort, (r) => [r[field] as string | number, r.a_id], toCa);
  }

  updateMetadata(id: string, change: (current: Record<string, unknown>) => Record<string, unknown>): Promise<Record<string, unknown> | undefined> {
    return updateJsonColumn(this.db, 'cas', 'metadata', id, change);
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('cas').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  async replaceCertificate(id: string, expected: string, certificateId: string): Promise<boolean> {
    const result = await this.db
      .updateTable('cas')
      .set({ certificate_id: certificateId })
      .where('id', '=', id)
      .where('certificate_id', '=', expected)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async setProfileId(id: string, profileId: string | null): Promise<boolean> {
    const result = await this.db.updateTable('cas').set({ profile_id: profileId }).where('id', '=', id).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async setAboutToExpireMs(id: string, ms: number | null): Promise<boolean> {
    const result = await this.db.updateTable('cas').set({ about_to_expire_ms: ms }).where('id', '=', id).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async setExpiryDeltas(id: string, deltas: ExpiryDeltas | null): Promise<boolean> {
    const result = await this.db
      .updateTable('cas')
      .set({ expiry_preventive_ms: deltas?.preventiveMs ?? null, expiry_critical_ms: deltas?.criticalMs ?? null })
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async subtreeIds(id: string): Promise<string[]> {
    // Breadth-first over the parent index: hierarchies are shallow, so a few round trips at most.
    const ids = [id];
    for (let level = [id]; level.length > 0; ) {
      const rows = await this.db.selectFrom('cas').select('id').where('parent_id', 'in', level).execute();
      level = rows.map((r) => r.id);
      ids.push(...level);
    }
    return ids;
  }

  async countByEngineAndStatus(scope: { filters?: FieldFilter[]; ids?: string[] } = {}): Promise<CaCount[]> {
    if (scope.ids?.length === 0) return [];
    let q = this.db
      .selectFrom('cas as a')
      .innerJoin('certificates as c', 'c.id', 'a.certificate_id')
      .select((eb) => ['a.engine_id', 'c.status', eb.fn.countAll<number>().as('n')]);
    if (scope.ids) q = q.where('a.id', 'in', scope.ids);
    for (const c of filterConditions(scope.filters, caFilterColumns, isPostgres(this.db))) q = q.where(c);
    const rows = await q
      .groupBy(['a.engine_id', 'c.status'])
      .execute();
    return rows.map((r) => ({ engineId: r.engine_id, status: r.status as CertificateStatus, count: Number(r.n) }));
  }
}
