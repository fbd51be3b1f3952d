import pg from 'pg';
import { PostgresDialect } from 'kysely';
import type { Logger } from '../../domain/ports/logger.ts';
import { invalid } from '../../domain/errors.ts';

const INT8_OID = 20;

/** Schema names go into the connection's startup options unquoted, so only plain identifiers pass. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export interface PostgresOptions {
  url: string;
  schema?: string;
  poolSize?: number;
}

export function checkSchemaName(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) {
    throw invalid('STORAGE_CONFIG_INVALID', `PostgreSQL schema "${schema}" must match ${SCHEMA_NAME}`);
  }
  return schema;
}

/**
 * A pg pool whose int8 columns (epoch milliseconds, counts) come back as numbers like on SQLite, and
 * whose every connection resolves unqualified table names in `schema` first.
 */
export function createPostgresDialect(options: PostgresOptions, logger: Logger): PostgresDialect {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    options: options.schema ? `-c search_path=${checkSchemaName(options.schema)}` : undefined,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client losing its connection emits 'error' on the pool; unhandled, it would end the process.
  pool.on('error', (err) => logger.warn({ err: err.message }, 'postgres idle client error'));
  return new PostgresDialect({ pool });
}
