import type { FieldFilter } from '../../domain/list-filter.ts';
import { sql, type Expression, type ExpressionBuilder, type Kysely, type SelectQueryBuilder, type Selectable, type SqlBool } from 'kysely';
import type {
  CertificateCount,
  CertificateQuery,
  CertificateRepository,
  CertificateSortKey,
  ExpiryCrossing,
  ExpiryReplanScope,
  ExpirySweepBatch,
  RevokedCertificate,
  StatusChange,
  ThresholdScope,
  TimeStatusChange,
  TimeStatusStep,
} from '../../domain/ca/certificate-repository.ts';
import type { CertificateStatus } from '../../domain/ca/certificate-status.ts';
import type { Certificate, CertificateDetails, CertificateRecord, CertificateType } from '../../domain/ca/certificate.ts';
import { EXPIRY_STAGES, hasDeltas, isPlanWorthKeeping, nextExpiryAlertAt, type ExpiryDeltaSource, type ExpiryDeltas, type ExpiryPlan } from '../../domain/ca/expiry-deltas.ts';
import type { Page } from '../../domain/ca/page.ts';
import type { RevocationReason } from '../../domain/ca/revocation-reason.ts';
import { conflict } from '../../domain/errors.ts';
import type { CloudEvent } from '../../domain/ports/event-bus.ts';
import type { KeyType } from '../../domain/ports/key-engine.ts';
import { afterBookmark, pageSize, toPage, type KeysetSort } from './keyset-page.ts';
import type { CertificatesTable, Database } from './schema.ts';
import { isPostgres } from './migrations/column-types.ts';
import { SqlOutboxRepository } from './outbox-repository.ts';
import { filterConditions, type FilterColumns } from './filter-sql.ts';
import { updateJsonColumn } from './json-column-update.ts';
import { isUniqueViolation } from './unique-violation.ts';

/** Sort keys of the API and the columns they order by. */
export const certificateSortColumns: Record<CertificateSortKey, keyof CertificatesTable> = {
  created_at: 'created_at',
  serial_number: 'serial_number',
  valid_from: 'not_before',
  valid_to: 'not_after',
  common_name: 'subject_cn',
  status: 'status',
};

/** Where each of CERTIFICATE_ROW_FILTER_FIELDS lives on the status row `c` (a CA's own certificate too). */
export const certificateRowFilterColumns: FilterColumns = {
  serial_number: { column: 'c.serial_number', stores: 'text' },
  'subject.common_name': { column: 'c.subject_cn', stores: 'text' },
  subject_key_id: { column: 'c.subject_key_id', stores: 'text' },
  'issuer_meta.id': { column: 'c.issuer_ca_id', stores: 'text' },
  status: { column: 'c.status', stores: 'text' },
  engine_id: { column: 'c.engine_id', stores: 'text' },
  valid_to: { column: 'c.not_after', stores: 'ms' },
  valid_from: { column: 'c.not_before', stores: 'ms' },
  revocation_timestamp: { column: 'c.revoked_at', stores: 'ms' },
  revocation_reason: { column: 'c.revocation_reason', stores: 'text' },
};

/** Where each of CERTIFICATE_FILTER_FIELDS lives on the status row `c`. */
export const certificateFilterColumns: FilterColumns = {
  type: { column: 'c.type', stores: 'text' },
  ...certificateRowFilterColumns,
  is_ca: { column: 'c.is_ca', stores: 'bool' },
  // In the blob's details (the list joins it as `b`): a JSON path, never an index.
  metadata: { column: 'b.details', stores: 'json', prefix: ['metadata'] },
};

export type CertificateRow = Selectable<CertificatesTable> & { der: Uint8Array; details: string };

const date = (ms: number | null) => (ms === null ? null : new Date(ms));

export const toCertificateRecord = (row: Selectable<CertificatesTable>): CertificateRecord => ({
  id: row.id,
  serialNumber: row.serial_number,
  issuerCaId: row.issuer_ca_id,
  caId: row.ca_id,
  status: row.status as CertificateStatus,
  notBefore: new Date(row.not_before),
  notAfter: new Date(row.not_after),
  aboutToExpireAt: new Date(row.about_to_expire_at),
  revokedAt: date(row.revoked_at),
  revocationReason: row.revocation_reason as RevocationReason | null,
  ...(row.invalidity_date === null ? {} : { invalidityDate: new Date(Number(row.invalidity_date)) }),
  ...expiryOf(row),
  subjectCommonName: row.subject_cn,
  subjectKeyId: row.subject_key_id,
  authorityKeyId: row.authority_key_id,
  keyType: row.key_type as KeyType,
  keyBits: row.key_bits,
  isCa: row.is_ca === 1,
  type: row.type as CertificateType,
  engineId: row.engine_id,
  createdAt: new Date(row.created_at),
});

/** The stored plan; rows without deltas nor provenance carry none (every row from before 0009). */
function expiryOf(row: Selectable<CertificatesTable>): { expiry?: ExpiryPlan } {
  const deltas = row.expiry_preventive_ms === null && row.expiry_critical_ms === null
    ? null
    : { preventiveMs: nullableNumber(row.expiry_preventive_ms), criticalMs: nullableNumber(row.expiry_critical_ms) };
  if (!isPlanWorthKeeping({ deltas, profileId: row.profile_id, dmsId: row.dms_id })) return {};
  return {
    expiry: {
      source: row.expiry_source as ExpiryDeltaSource,
      deltas,
      stage: EXPIRY_STAGES[Number(row.expiry_stage)] ?? 'none',
      profileId: row.profile_id,
      dmsId: row.dms_id,
    },
  };
}

const nullableNumber = (v: number | string | null) => (v === null ? null : Number(v));

/** The plan's columns for a new row. */
function expiryColumns(cert: Certificate) {
  const plan = cert.expiry;
  // Every column, every row: a multi-row insert must give each row the same columns.
  if (!plan) return { profile_id: null, dms_id: null, expiry_source: 'ca', expiry_preventive_ms: null, expiry_critical_ms: null, expiry_stage: 0, expiry_next_at: null };
  return {
    profile_id: plan.profileId,
    dms_id: plan.dmsId,
    expiry_source: plan.source,
    expiry_preventive_ms: plan.deltas?.preventiveMs ?? null,
    expiry_critical_ms: plan.deltas?.criticalMs ?? null,
    expiry_stage: EXPIRY_STAGES.indexOf(plan.stage),
    expiry_next_at: nextExpiryAlertAt(cert.notAfter, plan.deltas, plan.stage)?.getTime() ?? null,
  };
}

export const toCertificate = (row: CertificateRow): Certificate => ({
  ...toCertificateRecord(row),
  der: new Uint8Array(row.der),
  details: JSON.parse(row.details) as CertificateDetails,
});

/** Certificates with their bytes: `c` is the status row, `b` the blob. */
export const selectCertificates = (db: Kysely<Database>) =>
  db
    .selectFrom('certificates as c')
    .innerJoin('certificate_blobs as b', 'b.id', 'c.id')
    .selectAll('c')
    .select(['b.der', 'b.details']);

const REVOCABLE = ['ACTIVE', 'ABOUT_TO_EXPIRE'] as const;
const INSERT_CHUNK = 500;

const statusRow = (cert: Certificate) => ({
  id: cert.id,
  serial_number: cert.serialNumber,
  issuer_ca_id: cert.issuerCaId,
  ca_id: cert.caId,
  status: cert.status,
  not_before: cert.notBefore.getTime(),
  not_after: cert.notAfter.getTime(),
  about_to_expire_at: cert.aboutToExpireAt.getTime(),
  revoked_at: cert.revokedAt?.getTime() ?? null,
  revocation_reason: cert.revocationReason,
  invalidity_date: cert.invalidityDate?.getTime() ?? null,
  subject_cn: cert.subjectCommonName,
  subject_key_id: cert.subjectKeyId,
  authority_key_id: cert.authorityKeyId,
  key_type: cert.keyType,
  key_bits: cert.keyBits,
  is_ca: cert.isCa ? 1 : 0,
  type: cert.type,
  engine_id: cert.engineId,
  created_at: cert.createdAt.getTime(),
  ...expiryColumns(cert),
});

/** Rows a cascade revokes: not revoked yet (and not expired), or only on hold. */
const revocable = (eb: ExpressionBuilder<Database, 'certificates'>) =>
  eb.or([
    eb('status', 'in', REVOCABLE),
    eb.and([eb('status', '=', 'REVOKED'), eb('revocation_reason', '=', 'CertificateHold')]),
  ]);

/**
 * Rows whose time has come for `step` at `t` (epoch ms). Each is one index range: (status, not_after) for
 * EXPIRED, (status, about_to_expire_at) for ABOUT_TO_EXPIRE, so nothing else is read.
 */
const dueFor = (step: TimeStatusStep, t: number) => (eb: ExpressionBuilder<Database, 'certificates'>) =>
  step.to === 'EXPIRED'
    ? eb.and([eb('status', '=', step.from), eb('not_after', '<', t)])
    : eb.and([eb('status', '=', 'ACTIVE'), eb('about_to_expire_at', '<=', t), eb('not_after', '>=', t)]);

/** Rows with `status` and notAfter in [from, to): a range of the (status, not_after) index. */
const statusRange = (eb: ExpressionBuilder<Database, 'certificates'>, status: string, w: { from: number; to?: number }) =>
  eb.and([eb('status', '=', status), eb('not_after', '>=', w.from), ...(w.to === undefined ? [] : [eb('not_after', '<', w.to)])]);

const RECOMPUTE_BATCH = 10_000;

/** The instant a row's next expiration delta is due, from its stored deltas and stage (null: nothing left). */
const nextDueFromPlan = sql<number | null>`case expiry_stage when 0 then not_after - coalesce(expiry_preventive_ms, expiry_critical_ms) when 1 then not_after - expiry_critical_ms else null end`;

export class SqlCertificateRepository implements CertificateRepository {
  constructor(private readonly db: Kysely<Database>) {}

  insert(cert: Certificate): Promise<void> {
    return this.insertMany([cert]);
  }

  async insertMany(certs: Certificate[], events: readonly CloudEvent[] = []): Promise<void> {
    if (certs.length === 0) return;
    const write = async (db: Kysely<Database>) => {
      // Chunked so one statement stays under SQLite's 32766 bound parameters (20 per row).
      for (let i = 0; i < certs.length; i += INSERT_CHUNK) {
        const chunk = certs.slice(i, i + INSERT_CHUNK);
        await db.insertInto('certificates').values(chunk.map(statusRow)).execute();
        await db
          .insertInto('certificate_blobs')
          .values(chunk.map((c) => ({ id: c.id, der: c.der, details: JSON.stringify(c.details) })))
          .execute();
      }
      await new SqlOutboxRepository(db).append(events);
    };
    try {
      // Rows that only make sense together: inside the caller's transaction, or in one of our own.
      if (this.db.isTransaction) await write(this.db);
      else await this.db.transaction().execute(write);
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw conflict('CERTIFICATE_SERIAL_EXISTS', 'the issuer already has a certificate with this serial number', {
          ...(certs.length === 1 ? { serial_number: certs[0]!.serialNumber } : {}),
        });
      }
      throw err;
    }
  }

  async get(id: string): Promise<Certificate | undefined> {
    const row = await selectCertificates(this.db).where('c.id', '=', id).executeTakeFirst();
    return row && toCertificate(row);
  }

  async findBySerial(serialNumber: string, issuerCaId?: string): Promise<Certificate | undefined> {
    let q = selectCertificates(this.db).where('c.serial_number', '=', serialNumber);
    if (issuerCaId !== undefined) q = q.where('c.issuer_ca_id', '=', issuerCaId);
    const row = await q.orderBy('c.created_at').limit(1).executeTakeFirst();
    return row && toCertificate(row);
  }

  async list(query: CertificateQuery): Promise<Page<Certificate>> {
    const size = pageSize(query.pageSize);
    const key = query.sortBy ?? 'created_at';
    const column = certificateSortColumns[key];
    const sort: KeysetSort = { key, column: `c.${column}`, idColumn: 'c.id', mode: query.sortMode ?? 'asc' };
    let q = filterCertificates(selectCertificates(this.db), query) as ReturnType<typeof selectCertificates>;
    for (const c of filterConditions(query.filters, certificateFilterColumns, isPostgres(this.db))) q = q.where(c);
    if (query.bookmark) q = q.where((eb) => afterBookmark(eb, sort, query.bookmark!));
    const rows = await q.orderBy(`c.${column}`, sort.mode).orderBy('c.id', sort.mode).limit(size + 1).execute();
    return toPage(rows, size, sort, (r) => [r[column] as string | number, r.id], toCertificate);
  }

  async mentionsCa(caId: string): Promise<boolean> {
    const issued = await this.db.selectFrom('certificates').select('id').where('issuer_ca_id', '=', caId).limit(1).executeTakeFirst();
    if (issued) return true;
    return (await this.db.selectFrom('certificates').select('id').where('ca_id', '=', caId).limit(1).executeTakeFirst()) !== undefined;
  }

  async updateMetadata(id: string, change: (current: Record<string, unknown>) => Record<string, unknown>): Promise<Record<string, unknown> | undefined> {
    // Metadata lives in the blob's details: a rare write, never made by sweeps.
    const details = await updateJsonColumn<CertificateDetails>(this.db, 'certificate_blobs', 'details', id, (d) => ({ ...d, metadata: change(d.metadata ?? {}) }));
    return details?.metadata;
  }

  async updateStatus(id: string, from: CertificateStatus, change: StatusChange, fromReason?: RevocationReason | null): Promise<boolean> {
    let q = this.db
      .updateTable('certificates')
      .set({
        status: change.status,
        revoked_at: change.revokedAt?.getTime() ?? null,
        revocation_reason: change.revocationReason,
        invalidity_date: change.invalidityDate?.getTime() ?? null,
        // A released hold: the expiry sweep may have dropped the row from its due index while it was
        // revoked; put it back, so a delta crossed meanwhile is still announced.
        ...(change.status === 'REVOKED' ? {} : { expiry_next_at: nextDueFromPlan }),
      })
      .where('id', '=', id)
      .where('status', '=', from);
    if (fromReason !== undefined) q = fromReason === null ? q.where('revocation_reason', 'is', null) : q.where('revocation_reason', '=', fromReason);
    const result = await q.executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  revokeIssuedBy(issuerCaIds: string[], reason: RevocationReason, at: Date): Promise<RevokedCertificate[]> {
    return this.revokeWhere('issuer_ca_id', issuerCaIds, reason, at);
  }

  revokeCaCertificates(caIds: string[], reason: RevocationReason, at: Date): Promise<RevokedCertificate[]> {
    return this.revokeWhere('ca_id', caIds, reason, at);
  }

  private async revokeWhere(column: 'issuer_ca_id' | 'ca_id', caIds: string[], reason: RevocationReason, at: Date): Promise<RevokedCertificate[]> {
    if (caIds.length === 0) return [];
    const revoke = async (db: Kysely<Database>) => {
      // RETURNING gives new values only; the previous statuses are read first under the same lock.
      const before = await db
        .selectFrom('certificates')
        .select(['id', 'status'])
        .where(column, 'in', caIds)
        .where((eb) => revocable(eb))
        .execute();
      if (before.length === 0) return [];
      const previous = new Map(before.map((r) => [r.id, r.status as CertificateStatus]));
      const rows = await db
        .updateTable('certificates')
        .set({ status: 'REVOKED', revoked_at: at.getTime(), revocation_reason: reason, invalidity_date: null })
        .where(column, 'in', caIds)
        .where((eb) => revocable(eb))
        .returning(['id', 'serial_number', 'issuer_ca_id', 'ca_id', 'subject_cn', 'not_after'])
        .execute();
      return rows.map((r) => ({ ...changedRow(r), previousStatus: previous.get(r.id) ?? 'ACTIVE' }));
    };
    return this.db.isTransaction ? revoke(this.db) : this.db.transaction().execute(revoke);
  }

  async sweepStatus(step: TimeStatusStep, now: Date, limit: number): Promise<TimeStatusChange[]> {
    const t = now.getTime();
    const due = dueFor(step, t);
    // The candidates: for ABOUT_TO_EXPIRE without `not_after >= t` (the expiry steps ran first with the same
    // `t`, so it removes nothing), which leaves the planner the (status, about_to_expire_at) range alone;
    // with it PostgreSQL took the (status, not_after) range over every unexpired certificate.
    const candidates =
      step.to === 'EXPIRED' ? due : (eb: ExpressionBuilder<Database, 'certificates'>) => eb.and([eb('status', '=', 'ACTIVE'), eb('about_to_expire_at', '<=', t)]);
    const select = this.db.selectFrom('certificates').select('id').where(candidates);
    // One statement, so one transaction of at most `limit` rows. The condition is repeated outside the
    // subquery: on PostgreSQL a row revoked meanwhile is re-checked against it and left alone.
    //
    // PostgreSQL: under a LIMIT its planner may walk the (not_after, id) index and filter on status, which
    // reads every certificate that ever expired (measured: 19k pages for no row with 70% expired). A
    // MATERIALIZED CTE is planned without the LIMIT, so it takes the (status, not_after) range, and still runs
    // only as far as the LIMIT reads. The ids go in as one array: primary-key lookups, where `id in (...)`
    // would plan a semi-join over the whole due range again. SQLite plans `id in (... limit)` on the index.
    const postgres = isPostgres(this.db);
    const rows = await this.db
      .updateTable('certificates')
      .set({ status: step.to })
      .where((eb) =>
        postgres
          ? sql<SqlBool>`id = any(array(with due as materialized (${select}) select id from due limit ${limit}))`
          : eb('id', 'in', select.limit(limit)),
      )
      .where(due)
      .returning(['id', 'serial_number', 'issuer_ca_id', 'ca_id', 'subject_cn', 'not_after'])
      .execute();
    return rows.map((r) => ({
      ...changedRow(r),
      previousStatus: step.from,
      status: step.to,
    }));
  }

  async recomputeAboutToExpire(scope: ThresholdScope, thresholdMs: number): Promise<number> {
    // One CA's rows: one statement over its issuer index, in the caller's transaction with the CA's change.
    if ('caId' in scope) return this.recomputeWindow(scope, thresholdMs);
    // Globally: windows of about RECOMPUTE_BATCH ACTIVE rows along (status, not_after), each its own
    // statement, so a changed threshold over a million rows never holds them all locked in one transaction.
    let total = 0;
    for (let from = Number.MIN_SAFE_INTEGER; ; ) {
      const next = await this.db
        .selectFrom('certificates')
        .select('not_after')
        .where((eb) => statusRange(eb, 'ACTIVE', { from }))
        .orderBy('status')
        .orderBy('not_after')
        .limit(1)
        .offset(RECOMPUTE_BATCH)
        .executeTakeFirst();
      // Rows sharing the boundary's notAfter all go to the next window (at least one millisecond wide).
      const to = next === undefined ? undefined : Math.max(Number(next.not_after), from + 1);
      total += await this.recomputeWindow(scope, thresholdMs, to === undefined ? { from } : { from, to });
      if (to === undefined) return total;
      from = to;
    }
  }

  private async recomputeWindow(scope: ThresholdScope, thresholdMs: number, window?: { from: number; to?: number }): Promise<number> {
    const target = sql<number>`not_after - ${thresholdMs}`;
    let q = this.db
      .updateTable('certificates')
      .set({ about_to_expire_at: target })
      .where('status', '=', 'ACTIVE')
      .where('about_to_expire_at', '<>', target);
    if (window) q = q.where((eb) => statusRange(eb, 'ACTIVE', window));
    q =
      'caId' in scope
        ? // A CA's own certificate follows the CA's own threshold, like the certificates it issues.
          q.where((eb) => eb.or([eb.and([eb('issuer_ca_id', '=', scope.caId), eb('ca_id', 'is', null)]), eb('ca_id', '=', scope.caId)]))
        : // Certificates of no CA of ours, or of a CA (itself for a CA certificate) without an override.
          q.where(
            sql<SqlBool>`not exists (select 1 from cas a where a.id = coalesce(certificates.ca_id, certificates.issuer_ca_id) and a.about_to_expire_ms is not null)`,
          );
    const result = await q.executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async sweepExpiry(now: Date, limit: number): Promise<ExpirySweepBatch> {
    const t = now.getTime();
    const live = sql<SqlBool>`status in ('ACTIVE', 'ABOUT_TO_EXPIRE') and not_after >= ${t}`;
    const criticalDue = sql<SqlBool>`expiry_critical_ms is not null and not_after - expiry_critical_ms <= ${t}`;
    const select = this.db.selectFrom('certificates').select('id').where('expiry_next_at', '<=', t);
    const rows = await this.db
      .updateTable('certificates')
      .set({
        // SET reads the old values: the stage reached, then the next instant from the same old row.
        expiry_stage: sql<number>`case when ${live} then (case when ${criticalDue} then 2 else 1 end) else expiry_stage end`,
        expiry_next_at: sql<number | null>`case when ${live} and expiry_critical_ms is not null and not_after - expiry_critical_ms > ${t} then not_after - expiry_critical_ms else null end`,
      })
      .where((eb) =>
        // As in sweepStatus: one array of ids on PostgreSQL (primary-key lookups), `in (... limit)` on SQLite.
        isPostgres(this.db) ? sql<SqlBool>`id = any(array(${select.limit(limit)}))` : eb('id', 'in', select.limit(limit)),
      )
      // Repeated outside the subquery: a row another sweeper changed meanwhile is re-checked and left alone.
      .where('expiry_next_at', '<=', t)
      .returning(['id', 'serial_number', 'issuer_ca_id', 'ca_id', 'subject_cn', 'not_after', 'status', 'expiry_stage', 'expiry_preventive_ms', 'expiry_critical_ms', 'expiry_source'])
      .execute();
    const crossings: ExpiryCrossing[] = [];
    for (const r of rows) {
      const notAfter = Number(r.not_after);
      if (!(r.status === 'ACTIVE' || r.status === 'ABOUT_TO_EXPIRE') || notAfter < t) continue;
      const critical = Number(r.expiry_stage) === 2;
      crossings.push({
        id: r.id,
        serialNumber: r.serial_number,
        issuerCaId: r.issuer_ca_id,
        caId: r.ca_id,
        subjectCommonName: r.subject_cn,
        status: r.status as CertificateStatus,
        notAfter: new Date(notAfter),
        delta: critical ? 'critical' : 'preventive',
        deltaMs: Number(critical ? r.expiry_critical_ms : r.expiry_preventive_ms),
        source: r.expiry_source as ExpiryDeltaSource,
      });
    }
    return { touched: rows.length, crossings };
  }

  async replanExpiry(scope: ExpiryReplanScope): Promise<number> {
    const replan = async (db: Kysely<Database>) => {
      const base = (eb: ExpressionBuilder<Database, 'certificates'>) => {
        const owned =
          'caId' in scope
            ? eb.or([eb.and([eb('issuer_ca_id', '=', scope.caId), eb('ca_id', 'is', null)]), eb('ca_id', '=', scope.caId)])
            : 'profileId' in scope
              ? eb('profile_id', '=', scope.profileId)
              : eb('dms_id', '=', scope.dmsId);
        return eb.and([owned, eb('status', 'in', REVOCABLE), eb('expiry_stage', '<', 2)]);
      };
      // Which rows take new deltas: a CA's change reaches rows that follow the CA; a profile's, rows that
      // follow no DMS; a DMS's, all of its rows (with deltas) or those that followed it (without).
      const dmsDeltas = 'dmsId' in scope && hasDeltas(scope.deltas) ? scope.deltas : null;
      const sourceFilter = 'caId' in scope ? ['ca'] : 'profileId' in scope ? ['ca', 'profile'] : dmsDeltas ? ['ca', 'profile', 'dms'] : ['dms'];
      // The rows whose deltas may have changed, by their source after the first statement.
      const plannedFilter = 'dmsId' in scope ? (dmsDeltas ? ['dms'] : ['ca', 'profile']) : sourceFilter;
      let set;
      if (dmsDeltas) {
        set = { expiry_source: 'dms', expiry_preventive_ms: dmsDeltas.preventiveMs, expiry_critical_ms: dmsDeltas.criticalMs };
      } else {
        // The profile's deltas when it has any, else the CA's (the CA's own for a CA certificate).
        const profileHas = sql<SqlBool>`exists (select 1 from issuance_profiles p where p.id = certificates.profile_id and (p.expiry_preventive_ms is not null or p.expiry_critical_ms is not null))`;
        const pick = (column: 'expiry_preventive_ms' | 'expiry_critical_ms') =>
          sql<number | null>`case when ${profileHas} then (select p.${sql.ref(column)} from issuance_profiles p where p.id = certificates.profile_id) else (select a.${sql.ref(column)} from cas a where a.id = coalesce(certificates.ca_id, certificates.issuer_ca_id)) end`;
        set = {
          expiry_source: sql<string>`case when ${profileHas} then 'profile' else 'ca' end`,
          expiry_preventive_ms: pick('expiry_preventive_ms'),
          expiry_critical_ms: pick('expiry_critical_ms'),
        };
      }
      const result = await db
        .updateTable('certificates')
        .set(set)
        .where((eb) => eb.and([base(eb), eb('expiry_source', 'in', sourceFilter)]))
        .executeTakeFirst();
      // Then the next due instant from the (new) deltas and the stage reached.
      await db
        .updateTable('certificates')
        .set({
          expiry_next_at: nextDueFromPlan,
        })
        .where((eb) => eb.and([base(eb), eb('expiry_source', 'in', plannedFilter)]))
        .execute();
      return Number(result.numUpdatedRows);
    };
    return this.db.isTransaction ? replan(this.db) : this.db.transaction().execute(replan);
  }

  async countByIssuerAndStatus(scope: { filters?: FieldFilter[]; issuerCaIds?: string[] } = {}): Promise<CertificateCount[]> {
    if (scope.issuerCaIds?.length === 0) return [];
    let q = this.db.selectFrom('certificates as c').select((eb) => ['c.issuer_ca_id', 'c.status', eb.fn.countAll<number>().as('n')]);
    if (scope.issuerCaIds) q = q.where('c.issuer_ca_id', 'in', scope.issuerCaIds);
    for (const c of filterConditions(scope.filters, certificateFilterColumns, isPostgres(this.db))) q = q.where(c);
    const rows = await q.groupBy(['c.issuer_ca_id', 'c.status']).execute();
    return rows.map((r) => ({ issuerCaId: r.issuer_ca_id, status: r.status as CertificateStatus, count: Number(r.n) }));
  }

  async countExpiringByIssuer(now: Date, until: Date): Promise<{ issuerCaId: string | null; count: number }[]> {
    const w = { from: now.getTime(), to: until.getTime() + 1 };
    // Two ranges of the (status, not_after) index: only rows expiring in the window are read.
    const rows = await this.db
      .selectFrom('certificates')
      .select((eb) => ['issuer_ca_id', eb.fn.countAll<number>().as('n')])
      .where((eb) => eb.or([statusRange(eb, 'ACTIVE', w), statusRange(eb, 'ABOUT_TO_EXPIRE', w)]))
      .groupBy('issuer_ca_id')
      .execute();
    return rows.map((r) => ({ issuerCaId: r.issuer_ca_id, count: Number(r.n) }));
  }

  async countExpiringPerBucket(q: { from: Date; bucketMs: number; buckets: number; issuerCaId?: string }): Promise<{ bucket: number; count: number }[]> {
    const from = q.from.getTime();
    // Integer division on both dialects; the casts keep SQLite from binding the numbers as REAL. The
    // (status, not_after) index serves the range.
    const bucket = sql<number>`(c.not_after - cast(${from} as bigint)) / cast(${q.bucketMs} as bigint)`;
    let query = this.db
      .selectFrom('certificates as c')
      .select((eb) => [bucket.as('bucket'), eb.fn.countAll<number>().as('n')])
      .where('c.status', 'in', ['ACTIVE', 'ABOUT_TO_EXPIRE'])
      .where('c.not_after', '>=', from)
      .where('c.not_after', '<', from + q.buckets * q.bucketMs);
    if (q.issuerCaId !== undefined) query = query.where('c.issuer_ca_id', '=', q.issuerCaId);
    // By the output name: PostgreSQL would not see two parameterised copies of the expression as the same one.
    const rows = await query.groupBy(sql.ref('bucket')).orderBy(sql.ref('bucket')).execute();
    return rows.map((r) => ({ bucket: Number(r.bucket), count: Number(r.n) }));
  }
}

/**
 * Exact common name, or a prefix match when the value ends with `*`. LIKE metacharacters in the prefix are
 * escaped, with an explicit ESCAPE because SQLite has no default escape character.
 */
export function cnCondition(column: string, value: string): Expression<SqlBool> {
  if (!value.endsWith('*')) return sql<SqlBool>`${sql.ref(column)} = ${value}`;
  const prefix = value.slice(0, -1).replace(/[\\%_]/g, (c) => `\\${c}`);
  return sql<SqlBool>`${sql.ref(column)} like ${`${prefix}%`} escape '\\'`;
}

// Typed loosely: the same filters apply to the certificate listing and, via the CA's own row, to CA listings.
export function filterCertificates<O>(q: SelectQueryBuilder<any, any, O>, f: CertificateQuery): SelectQueryBuilder<any, any, O> {
  if (f.issuerCaId !== undefined) q = q.where('c.issuer_ca_id', '=', f.issuerCaId);
  if (f.status?.length) q = q.where('c.status', 'in', f.status);
  if (f.serialNumber !== undefined) q = q.where('c.serial_number', '=', f.serialNumber.toLowerCase());
  if (f.subjectKeyId !== undefined) q = q.where('c.subject_key_id', '=', f.subjectKeyId.toLowerCase());
  if (f.commonName !== undefined) q = q.where(cnCondition('c.subject_cn', f.commonName));
  if (f.expiresAfter) q = q.where('c.not_after', '>=', f.expiresAfter.getTime());
  if (f.expiresBefore) q = q.where('c.not_after', '<=', f.expiresBefore.getTime());
  if (f.isCa !== undefined) q = q.where('c.is_ca', '=', f.isCa ? 1 : 0);
  return q;
}

/** The columns both set-based status changes return, as the domain spells them. */
function changedRow(r: { id: string; serial_number: string; issuer_ca_id: string | null; ca_id: string | null; subject_cn: string; not_after: number | string }) {
  return {
    id: r.id,
    serialNumber: r.serial_number,
    issuerCaId: r.issuer_ca_id,
    caId: r.ca_id,
    subjectCommonName: r.subject_cn,
    notAfter: new Date(Number(r.not_after)),
  };
}
