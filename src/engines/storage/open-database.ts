import { Kysely, sql } from 'kysely';
import { silentLogger, type Logger } from '../../domain/ports/logger.ts';
import { checkSchemaName, createPostgresDialect } from './postgres-dialect.ts';
import type { Database } from './schema.ts';
import { DurableSqliteDialect, openSqliteFile } from './sqlite-dialect.ts';
import type { StorageConfig } from './storage-config.ts';
import { isUniqueViolation } from './unique-violation.ts';

/** A Kysely instance for `config`; for PostgreSQL the configured schema exists when this resolves. */
export async function openDatabase(config: StorageConfig, logger: Logger = silentLogger): Promise<Kysely<Database>> {
  if (config.kind === 'sqlite') {
    return new Kysely<Database>({ dialect: new DurableSqliteDialect(openSqliteFile(config.file)) });
  }
  const db = new Kysely<Database>({ dialect: createPostgresDialect(config, logger) });
  if (config.schema) {
    try {
      await sql`create schema if not exists ${sql.id(checkSchemaName(config.schema))}`.execute(db);
    } catch (err) {
      // Two replicas starting together can both try to create it; the loser sees a unique violation.
      if (!isUniqueViolation(err)) {
        await db.destroy();
        throw err;
      }
    }
  }
  return db;
}
