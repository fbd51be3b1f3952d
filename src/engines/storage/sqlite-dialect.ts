import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  SqliteAdapter,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  type SqliteDatabase,
  type SqliteDialectConfig,
  type SqliteStatement,
} from 'kysely';

const BUSY_TIMEOUT_MS = 5000;
const STATEMENT_CACHE_SIZE = 200;

/**
 * Opens the SQLite file with the settings durability depends on: WAL, `synchronous = FULL` (a commit
 * fsyncs the WAL, so a committed row survives power loss), foreign keys enforced, and a busy timeout so a
 * second process (e.g. `lamassu migrate`) waits for the lock instead of failing at once.
 */
export function openSqliteFile(file: string): BetterSqlite3.Database {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  return db;
}

/**
 * Kysely prepares every query anew and better-sqlite3 does not cache statements; reusing them saves the
 * SQL parse on the issuance hot path. Safe because Kysely runs one query at a time on the single connection.
 */
function withStatementCache(db: BetterSqlite3.Database): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    prepare(sql: string) {
      let stmt = cache.get(sql);
      if (!stmt) {
        stmt = db.prepare(sql) as unknown as SqliteStatement;
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
        cache.set(sql, stmt);
      }
      return stmt;
    },
    close: () => db.close(),
  };
}

const isBusy = (err: unknown) => (err as { code?: unknown }).code === 'SQLITE_BUSY';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `BEGIN IMMEDIATE` takes the write lock up front, so two processes cannot deadlock upgrading read locks.
 * While another connection holds the lock (the certificate writer's thread, another process), SQLite's busy
 * handler would sleep on the calling thread, and on the main thread that stalls every request and TLS
 * handshake for the length of the other commit. So the lock is asked for without the busy handler and
 * waited for on timers, up to the same busy timeout; the connection stays reserved meanwhile.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    const deadline = Date.now() + BUSY_TIMEOUT_MS;
    await connection.executeQuery(CompiledQuery.raw('pragma busy_timeout = 0'));
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          await connection.executeQuery(CompiledQuery.raw('begin immediate'));
          return;
        } catch (err) {
          if (!isBusy(err) || Date.now() >= deadline) throw err;
        }
        await sleep(Math.min(1 + attempt, 20));
      }
    } finally {
      await connection.executeQuery(CompiledQuery.raw(`pragma busy_timeout = ${BUSY_TIMEOUT_MS}`));
    }
  }
}

/** SQLite runs DDL inside transactions; telling Kysely so makes a failed or killed migration leave nothing. */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

/** The only place where SQLite differs from Kysely's stock dialect. */
export class DurableSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;

  constructor(db: BetterSqlite3.Database) {
    const config: SqliteDialectConfig = { database: withStatementCache(db) };
    super(config);
    this.#config = config;
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }

  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}
