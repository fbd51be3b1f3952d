/**
 * Status sweep over 1,000,000 certificates (issue target: under 2 s with 1% crossing a threshold, under
 * 100 ms with nothing to change), on SQLite and PostgreSQL. Rows are generated in SQL (one INSERT ... SELECT)
 * with notAfter spread evenly over [T0 - 700d, T0 + 300d] (so 70% already expired, as in a deployment with
 * history: a sweep must not read them), a 30-day threshold, statuses as a sweep at T0 leaves them, every
 * 50th revoked. Moving the clock 5 days then changes 1% of them (0.5% expire, 0.5% turn
 * about-to-expire). Events are built and handed to an in-memory bus, as in production.
 * BENCH_SWEEP_N changes the row count; BENCH_SWEEP_DIALECT=sqlite|postgres runs one dialect only.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import { freshTestDatabase, type StorageKind } from '../test/support/storage.ts';
import { needPostgres } from '../test/support/services.ts';
import { ManualClock } from '../src/domain/ports/clock.ts';
import { createStorage } from '../src/engines/storage/create-storage.ts';
import { testCaService } from '../test/support/ca-service-fixture.ts';

const N = Number(process.env.BENCH_SWEEP_N ?? 1_000_000);
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);
const THRESHOLD = 30 * DAY;
const SPAN = 1000 * DAY;

/** Columns and the SELECT list that fills them from a series `g` = 1..N; `hex(g, w)` per dialect. */
function insertSql(hex: (w: number) => string, series: string): string {
  const na = `(${T0 - 700 * DAY} + g * ${Math.floor(SPAN / N)})`;
  const status = `case when g % 50 = 0 then 'REVOKED' when ${na} < ${T0} then 'EXPIRED' when ${na} - ${THRESHOLD} <= ${T0} then 'ABOUT_TO_EXPIRE' else 'ACTIVE' end`;
  return `insert into certificates (id, serial_number, issuer_ca_id, ca_id, status, not_before, not_after, about_to_expire_at,
      revoked_at, revocation_reason, subject_cn, subject_key_id, authority_key_id, key_type, key_bits, is_ca, type, engine_id, created_at)
    select 'bench-' || g, ${hex(32)}, 'bench-ca', null, ${status}, ${na} - ${365 * DAY}, ${na}, ${na} - ${THRESHOLD},
      case when g % 50 = 0 then ${T0 - 100 * DAY} end, case when g % 50 = 0 then 'KeyCompromise' end,
      'device-' || g, ${hex(40)}, null, 'ECDSA', 256, 0, 'MANAGED', null, ${na} - ${365 * DAY}
    from ${series}`;
}

/** The statements the repository runs, spelt out for EXPLAIN ($1/?1 = now, $2/?2 = limit). */
function sweepSql(kind: StorageKind, p: (i: number) => string) {
  const ids = (candidates: string) =>
    kind === 'postgres'
      ? `id = any(array(with due as materialized (select id from certificates where ${candidates}) select id from due limit ${p(2)}))`
      : `id in (select id from certificates where ${candidates} limit ${p(2)})`;
  const returning = 'returning id, serial_number, issuer_ca_id, ca_id, subject_cn, not_after';
  const expire = `status = 'ACTIVE' and not_after < ${p(1)}`;
  const aboutToExpire = `status = 'ACTIVE' and about_to_expire_at <= ${p(1)} and not_after >= ${p(1)}`;
  return {
    expire: `update certificates set status = 'EXPIRED' where ${ids(expire)} and ${expire} ${returning}`,
    aboutToExpire: `update certificates set status = 'ABOUT_TO_EXPIRE' where ${ids(`status = 'ACTIVE' and about_to_expire_at <= ${p(1)}`)} and ${aboutToExpire} ${returning}`,
  };
}

interface Raw {
  exec(sql: string): Promise<void>;
  explain(sql: string, params: number[]): Promise<string>;
  close(): Promise<void>;
}

async function rawConnection(config: ReturnType<typeof freshTestDatabase>['config']): Promise<Raw> {
  if (config.kind === 'sqlite') {
    const db = new Database(config.file);
    return {
      exec: async (sql) => void db.exec(sql),
      explain: async (sql, params) =>
        (db.prepare(`explain query plan ${sql.replaceAll('?1', '?').replaceAll('?2', '?')}`).all(...expandSqliteParams(sql, params)) as { detail: string }[])
          .map((r) => r.detail)
          .join('\n    '),
      close: async () => void db.close(),
    };
  }
  const client = new pg.Client({ connectionString: config.url });
  await client.connect();
  await client.query(`set search_path to ${config.schema}`);
  return {
    exec: async (sql) => void (await client.query(sql)),
    explain: async (sql, params) =>
      (await client.query(`explain (analyze false) ${sql}`, params)).rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n    '),
    close: () => client.end(),
  };
}

/** SQLite numbered placeholders replaced by plain ones need the values in order of appearance. */
function expandSqliteParams(sql: string, params: number[]): number[] {
  return [...sql.matchAll(/\?([12])/g)].map((m) => params[Number(m[1]) - 1]!);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function benchOne(kind: StorageKind): Promise<void> {
  const database = freshTestDatabase(kind);
  const storage = await createStorage(database.config);
  const raw = await rawConnection(database.config);
  try {
    const clock = new ManualClock(T0 - 400 * DAY);
    const { service, events } = testCaService(storage, clock, { settings: { aboutToExpireMs: THRESHOLD } });
    await service.createCa({ id: 'bench-ca', subject: { common_name: 'bench-ca' }, keySpec: { type: 'ECDSA', bits: 256 }, validity: { type: 'Duration', duration: '10y' }, actor: 'bench' });
    clock.set(T0);

    let t = performance.now();
    if (kind === 'sqlite') {
      await raw.exec(insertSql((w) => `printf('%0${w}x', g)`, `(with recursive s(g) as (select 1 union all select g + 1 from s where g < ${N}) select g from s)`));
    } else {
      await raw.exec(insertSql((w) => `lpad(to_hex(g), ${w}, '0')`, `generate_series(cast(1 as bigint), ${N}) as g`));
    }
    await raw.exec('analyze');
    const loadMs = performance.now() - t;

    const sweep = async () => {
      events.published.length = 0;
      const started = performance.now();
      const result = await service.sweepStatuses();
      const ms = performance.now() - started;
      return { ms, changed: result.expired + result.aboutToExpire, events: events.published.length };
    };

    const idle: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await sweep();
      if (r.changed !== 0) throw new Error(`expected no change at T0, got ${r.changed}`);
      idle.push(r.ms);
    }

    clock.set(T0 + 5 * DAY);
    const crossing = await sweep();
    const idleAfter: number[] = [];
    for (let i = 0; i < 5; i++) idleAfter.push((await sweep()).ms);

    // A second crossing sweep on the next 5 days, to see the first was no cold-cache fluke.
    clock.set(T0 + 10 * DAY);
    const crossing2 = await sweep();

    t = performance.now();
    const { service: reconfigured } = testCaService(storage, clock, { settings: { aboutToExpireMs: 45 * DAY } });
    const recomputed = await reconfigured.applyGlobalAboutToExpire();
    const recomputeMs = performance.now() - t;
    t = performance.now();
    await reconfigured.applyGlobalAboutToExpire();
    const recomputeNoneMs = performance.now() - t;

    const p = kind === 'sqlite' ? (i: number) => `?${i}` : (i: number) => `$${i}`;
    const params = [T0 + 10 * DAY, 10_000];
    const plans = sweepSql(kind, p);

    console.log(`\n${kind}: ${N.toLocaleString('en')} certificates loaded in ${(loadMs / 1000).toFixed(1)} s`);
    console.log('| case | changed rows | events | ms |');
    console.log('| --- | ---: | ---: | ---: |');
    console.log(`| nothing to change (median of 5, before) | 0 | 0 | ${median(idle).toFixed(1)} |`);
    console.log(`| 1% crossing (clock +5 d) | ${crossing.changed} | ${crossing.events} | ${crossing.ms.toFixed(0)} |`);
    console.log(`| nothing to change (median of 5, after) | 0 | 0 | ${median(idleAfter).toFixed(1)} |`);
    console.log(`| 1% crossing again (clock +5 d more) | ${crossing2.changed} | ${crossing2.events} | ${crossing2.ms.toFixed(0)} |`);
    console.log(`| global threshold 30d -> 45d recomputed | ${recomputed} | 0 | ${recomputeMs.toFixed(0)} |`);
    console.log(`| global threshold unchanged (start-up check) | 0 | 0 | ${recomputeNoneMs.toFixed(0)} |`);
    console.log(`  plan, expire step:\n    ${await raw.explain(plans.expire, params)}`);
    console.log(`  plan, about-to-expire step:\n    ${await raw.explain(plans.aboutToExpire, params)}`);
  } finally {
    await raw.close();
    await storage.close();
    await database.drop();
  }
}

export async function run(): Promise<void> {
  const only = process.env.BENCH_SWEEP_DIALECT;
  if (only !== 'postgres') await benchOne('sqlite');
  if (only === 'sqlite') return;
  if (await needPostgres()) await benchOne('postgres');
  else console.log('postgres: SERVICE MISSING, skipped');
}
