/**
 * SQLite's `Storage.transaction`: a transaction whose commit is flushed to disk off the event loop. better-sqlite3 is synchronous and
 * the database runs `synchronous = FULL`, so an ordinary commit on the main thread stalls the event loop for
 * the WAL fsync (milliseconds on a busy disk). Here the connection commits with `synchronous = NORMAL` (the
 * WAL frames are written, not yet synced), the setting goes back to FULL before the connection is released,
 * and the WAL file is then fsynced on the libuv threadpool; the promise resolves only after that fsync, so
 * a caller sees exactly what a FULL commit gives: its writes survive power loss once it resolves. It is the
 * same system call SQLite itself makes for a FULL commit in WAL mode, made by another thread after the
 * write. A checkpoint in between syncs the WAL first in either mode, so no commit can skip its fsync.
 *
 * The one difference from a FULL commit: between the commit and its fsync (the fsync's duration), another
 * request can already read the rows; the writer's own caller is answered only after the fsync.
 * Statements outside a transaction (autocommit) still run with FULL.
 */
import { open } from 'node:fs/promises';
import { sql, type Kysely } from 'kysely';
import type { Repositories } from '../../domain/ports/storage.ts';
import type { Database } from './schema.ts';

export type RepositoriesOf = (db: Kysely<Database>) => Repositories;

/** fsync of the WAL file (a new descriptor each time: the file can be recreated when the last connection closes). */
export async function syncWal(file: string): Promise<void> {
  const handle = await open(`${file}-wal`, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** `sync` is the WAL fsync (replaceable in tests); a failed fsync rejects: the caller never sees a commit it cannot count on. */
export function transactionFlushedOffLoop(db: Kysely<Database>, file: string, repositories: RepositoriesOf, sync: (file: string) => Promise<void> = syncWal) {
  return async <T>(fn: (tx: Repositories) => Promise<T>): Promise<T> => {
    // One reserved connection: nothing else runs on it while synchronous is NORMAL.
    const result = await db.connection().execute(async (conn) => {
      await sql`pragma synchronous = NORMAL`.execute(conn);
      try {
        return await conn.transaction().execute((trx) => fn(repositories(trx)));
      } finally {
        await sql`pragma synchronous = FULL`.execute(conn);
      }
    });
    await sync(file);
    return result;
  };
}
