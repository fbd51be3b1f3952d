/**
 * Read-modify-write of a JSON text column, safe against concurrent writers on both dialects: inside a
 * transaction, with the row locked (FOR UPDATE) on PostgreSQL; SQLite runs one write transaction at a
 * time. Two concurrent patches then both land, one after the other, instead of one undoing the other.
 */
import type { Kysely } from 'kysely';
import { isPostgres } from './migrations/column-types.ts';
import type { Database } from './schema.ts';

export async function updateJsonColumn<T>(
  db: Kysely<Database>,
  table: 'cas' | 'devices' | 'certificate_blobs',
  column: 'metadata' | 'details',
  id: string,
  change: (current: T) => T,
): Promise<T | undefined> {
  const run = async (tx: Kysely<any>): Promise<T | undefined> => {
    let read = tx.selectFrom(table).select(column).where('id', '=', id);
    if (isPostgres(tx)) read = read.forUpdate();
    const row = (await read.executeTakeFirst()) as Record<string, string> | undefined;
    if (!row) return undefined;
    const next = change(JSON.parse(row[column]!) as T);
    await tx.updateTable(table).set({ [column]: JSON.stringify(next) }).where('id', '=', id).execute();
    return next;
  };
  return db.isTransaction ? run(db) : db.transaction().execute(run);
}
