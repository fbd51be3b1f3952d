import { sql } from 'kysely';
import { unavailable } from '../../domain/errors.ts';
import { silentLogger, type Logger } from '../../domain/ports/logger.ts';
import type { LeaseRepository } from '../../domain/ports/lease.ts';
import type { OutboxRepository } from '../../domain/ports/outbox.ts';
import type { Storage } from '../../domain/ports/storage.ts';
import { migrateToLatest } from './migrate.ts';
import { openDatabase } from './open-database.ts';
import { createRepositories } from './repositories.ts';
import { transactionFlushedOffLoop } from './sqlite-flush-off-loop.ts';
import type { StorageConfig } from './storage-config.ts';

export type { StorageConfig } from './storage-config.ts';

export interface CreateStorageOptions {
  logger?: Logger;
  /** Apply pending migrations before returning (default true). */
  migrate?: boolean;
}

export async function createStorage(config: StorageConfig, opts: CreateStorageOptions = {}): Promise<Storage> {
  const logger = opts.logger ?? silentLogger;
  const db = await openDatabase(config, logger);
  try {
    if (opts.migrate !== false) await migrateToLatest(db, logger);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  // Built from `createRepositories`, so a repository registered there appears here and in transactions.
  const repositories = createRepositories(db);
  // SQLite's driver would fsync each commit on the calling thread, stalling the event loop: the flush runs
  // on the threadpool instead, and the promise still resolves only once the commit is durable.
  const sqliteFile = config.kind === 'sqlite' && config.file !== ':memory:';
  const transaction: Storage['transaction'] = sqliteFile
    ? transactionFlushedOffLoop(db, config.file, createRepositories)
    : (fn) => db.transaction().execute((trx) => fn(createRepositories(trx)));
  return {
    ...repositories,
    // Writes made outside any transaction, over and over: the relay's deletions of sent rows, and the leases
    // the relay, the jobs and the connectors renew every few seconds. On SQLite such a statement fsyncs on
    // the event loop (1-2 ms each, measured under EST load), so they go through the off-loop transaction too.
    outbox: sqliteFile ? removingInTransactions(repositories.outbox, transaction) : repositories.outbox,
    leases: sqliteFile ? leasingInTransactions(transaction) : repositories.leases,
    dialect: config.kind,
    transaction,
    async ping() {
      try {
        await sql`select 1`.execute(db);
      } catch (err) {
        throw unavailable('STORAGE_UNAVAILABLE', `database unreachable: ${(err as Error).message}`);
      }
    },
    close: () => db.destroy(),
  };
}

/** Connections of the background pool: the relay, the alerts consumer and its delivery loop hold at most one or two each. */
const BACKGROUND_POOL_SIZE = 4;

/**
 * Storage for background work (the outbox relay, bus consumers, delivery loops). On PostgreSQL a second, small
 * pool on the same database: a burst of API requests fills the main pool's queue, and a consumer's transaction
 * would otherwise wait behind all of it (measured: p50 commit -> webhook 1.5 s at 370 API writes/s on one
 * pool). On SQLite there is one connection whatever the pool: `main` itself.
 */
export async function openBackgroundStorage(config: StorageConfig, main: Storage, logger: Logger = silentLogger): Promise<Storage> {
  if (config.kind !== 'postgres') return main;
  return createStorage({ ...config, poolSize: BACKGROUND_POOL_SIZE }, { logger, migrate: false });
}

/** Leases whose every write runs in a transaction of `transaction`'s kind. */
function leasingInTransactions(transaction: Storage['transaction']): LeaseRepository {
  return {
    tryAcquire: (name, holder, ttlMs, now) => transaction((tx) => tx.leases.tryAcquire(name, holder, ttlMs, now)),
    release: (name, holder) => transaction((tx) => tx.leases.release(name, holder)),
  };
}

/** `outbox` whose `remove` runs in a transaction of `transaction`'s kind. */
function removingInTransactions(outbox: OutboxRepository, transaction: Storage['transaction']): OutboxRepository {
  return {
    append: (events, now) => outbox.append(events, now),
    oldest: (limit, except) => outbox.oldest(limit, except),
    remove: (seqs) => (seqs.length === 0 ? Promise.resolve() : transaction((tx) => tx.outbox.remove(seqs))),
    backlog: () => outbox.backlog(),
  };
}
