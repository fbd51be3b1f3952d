import { Migrator, sql, type Kysely, type MigrationProvider } from 'kysely';
import { DomainError } from '../../domain/errors.ts';
import { silentLogger, type Logger } from '../../domain/ports/logger.ts';
import { isPostgres } from './migrations/column-types.ts';
import { migrations } from './migrations/index.ts';
import { openDatabase } from './open-database.ts';
import type { StorageConfig } from './storage-config.ts';

const provider: MigrationProvider = { getMigrations: async () => migrations };

/**
 * Applies every pending migration, in one transaction on both dialects (so a failed or killed run leaves
 * the schema as it was), under Kysely's migration lock (so replicas starting together apply each once).
 */
export async function migrateToLatest(db: Kysely<any>, logger: Logger = silentLogger): Promise<{ applied: string[] }> {
  const migrationTableSchema = await bookkeepingSchema(db);
  const migrator = new Migrator({ db, provider, migrationTableSchema });
  let { error, results = [] } = await migrator.migrateToLatest();
  // Kysely's set-up introspects the tables of every schema in the database; a schema another tenant (or a
  // concurrent test) drops meanwhile fails that read with "schema <theirs> does not exist". Nothing of ours
  // was applied then (results is empty): read again.
  for (let retry = 0; retry < 20 && error && results.length === 0 && otherSchemaVanished(error, migrationTableSchema); retry++) {
    ({ error, results = [] } = await migrator.migrateToLatest());
  }
  if (error) {
    const failed = results.find((r) => r.status === 'Error')?.migrationName;
    const reason = error instanceof Error ? error.message : String(error);
    throw new DomainError('STORAGE_MIGRATION_FAILED', 'unavailable', `database migration failed: ${reason}`, {
      migration: failed,
    });
  }
  const applied = results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
  if (applied.length > 0) logger.info({ applied }, 'database migrated');
  return { applied };
}

function otherSchemaVanished(error: unknown, ours: string | undefined): boolean {
  const m = error instanceof Error ? /^schema "([^"]+)" does not exist$/.exec(error.message) : null;
  return m !== null && m[1] !== ours;
}

/**
 * On PostgreSQL, Kysely looks for its bookkeeping tables in every schema unless told which one; another
 * schema's tables (other tenants, concurrent tests) would then hide ours. Ours is the current schema.
 */
async function bookkeepingSchema(db: Kysely<any>): Promise<string | undefined> {
  if (!isPostgres(db)) return undefined;
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
  return rows[0]?.schema ?? undefined;
}

/** `lamassu migrate`: brings the configured database up to date and reports what it applied. */
export async function runMigrations(config: StorageConfig, logger: Logger = silentLogger): Promise<{ applied: string[] }> {
  const db = await openDatabase(config, logger);
  try {
    return await migrateToLatest(db, logger);
  } finally {
    await db.destroy();
  }
}
