/**
 * The certificate inventory is the list that grows large: filtered by one of its indexed Lamassu fields,
 * the planner of each dialect must read it through an index, not scan the table. Checked with EXPLAIN on
 * the very statement the repository runs (captured by a Kysely plugin), after 4000 rows and ANALYZE.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { CompiledQuery, sql, type Kysely, type KyselyPlugin, type RootOperationNode } from 'kysely';
import { forEachStorage } from '../../../test/support/storage.ts';
import type { Certificate } from '../../domain/ca/certificate.ts';
import { CERTIFICATE_FILTER_FIELDS } from '../../domain/ca/certificate-repository.ts';
import { parseFilter } from '../../domain/list-filter.ts';
import { SqlCertificateRepository } from './certificate-repository.ts';
import { openDatabase } from './open-database.ts';
import type { Database } from './schema.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);
const ROWS = 4000;

const row = (i: number): Certificate => ({
  id: randomUUID(),
  serialNumber: i.toString(16).padStart(8, '0'),
  issuerCaId: `ca-${i % 4}`,
  caId: null,
  status: i % 10 === 0 ? 'REVOKED' : 'ACTIVE',
  notBefore: new Date(T0 + i * 60_000),
  notAfter: new Date(T0 + 365 * DAY + i * 60_000),
  aboutToExpireAt: new Date(T0 + 335 * DAY),
  revokedAt: i % 10 === 0 ? new Date(T0 + i * 1000) : null,
  revocationReason: i % 10 === 0 ? 'KeyCompromise' : null,
  subjectCommonName: `Device-${i}`,
  subjectKeyId: i.toString(16).padStart(40, '0'),
  authorityKeyId: null,
  keyType: 'ECDSA',
  keyBits: 256,
  isCa: false,
  type: 'MANAGED',
  engineId: `engine-${i % 200}`,
  createdAt: new Date(T0 + i * 1000),
  der: Uint8Array.of(0x30, 0x00),
  details: { subject: { common_name: `Device-${i}` }, issuer: { common_name: 'ca' }, keyUsage: [], extendedKeyUsage: [], metadata: {} },
});

/** Records each statement's tree so it can be compiled again and explained. */
class Capture implements KyselyPlugin {
  last: RootOperationNode | undefined;
  transformQuery(args: { node: RootOperationNode }) {
    this.last = args.node;
    return args.node;
  }
  async transformResult(args: { result: any }) {
    return args.result;
  }
}

forEachStorage('certificate list filters use an index (EXPLAIN)', (ctx) => {
  let db: Kysely<Database>;
  const capture = new Capture();
  let repo: SqlCertificateRepository;
  before(async () => {
    db = await openDatabase(ctx.config);
    repo = new SqlCertificateRepository(db.withPlugin(capture));
    await repo.insertMany(Array.from({ length: ROWS }, (_, i) => row(i)));
    await sql`analyze`.execute(db);
  });
  after(async () => db?.destroy());

  async function plan(filter: string): Promise<string> {
    const page = await repo.list({ filters: [parseFilter(filter, CERTIFICATE_FILTER_FIELDS)], pageSize: 100 });
    assert.ok(page.list.length > 0, `${filter} finds rows`);
    const compiled = db.getExecutor().compileQuery(capture.last!, { queryId: 'explain' });
    const prefix = ctx.kind === 'postgres' ? 'explain ' : 'explain query plan ';
    const result = await db.executeQuery<Record<string, unknown>>(CompiledQuery.raw(prefix + compiled.sql, [...compiled.parameters]));
    return result.rows.map((r) => String(r['QUERY PLAN'] ?? r.detail)).join('\n');
  }

  for (const [filter, index] of [
    ['subject.common_name[eq]Device-1234', 'certificates_subject_cn'],
    ['subject.common_name[eq_ic]device-1234', 'certificates_subject_cn_lower'],
    ['serial_number[eq]000004d2', 'certificates_serial'],
    ['subject_key_id[eq]00000000000000000000000000000000000004d2', 'certificates_ski'],
    ['engine_id[eq]engine-7', 'certificates_engine'],
    ['valid_from[af]' + new Date(T0 + (ROWS - 5) * 60_000).toISOString(), 'certificates_not_before'],
    ['valid_to[bf]' + new Date(T0 + 365 * DAY + 5 * 60_000).toISOString(), 'certificates_not_after'],
    ['revocation_timestamp[af]' + new Date(T0 + (ROWS - 50) * 1000).toISOString(), 'certificates_revoked_at'],
  ] as const) {
    test(`${filter.replace(/\].*/, ']')} reads ${index}`, async () => {
      const p = await plan(filter);
      assert.match(p, new RegExp(`\\b${index}\\b`), p);
      assert.doesNotMatch(p, ctx.kind === 'postgres' ? /Seq Scan on certificates/ : /SCAN c\b(?! USING)/, p);
    });
  }
});
