import { PostgresAdapter, type Kysely } from 'kysely';

/** Column types whose name differs between the two dialects; everything else uses Kysely's common names. */
export const isPostgres = (db: Kysely<any>): boolean => db.getExecutor().adapter instanceof PostgresAdapter;

/** Byte strings (DER, PKCS#7): `bytea` on PostgreSQL, `blob` on SQLite. */
export const bytesType = (db: Kysely<any>) => (isPostgres(db) ? 'bytea' : 'blob');
