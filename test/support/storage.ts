/**
 * Runs repository tests on both dialects the same way, each on a fresh database of its own:
 * SQLite in a temporary file, PostgreSQL in a random schema dropped afterwards (test files run concurrently).
 *
 *   forEachStorage('certificate repository', (ctx) => {
 *     test('finds by serial', async () => { await ctx.storage.certificates.insert(...) });
 *   });
 *
 * Without PostgreSQL the postgres half is skipped loudly (and fails in CI), like every service test.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { Storage } from '../../src/domain/ports/storage.ts';
import { createStorage } from '../../src/engines/storage/create-storage.ts';
import type { StorageConfig } from '../../src/engines/storage/storage-config.ts';
import { needPostgres, postgresUrl } from './services.ts';

export type StorageKind = StorageConfig['kind'];
export const storageKinds: readonly StorageKind[] = ['sqlite', 'postgres'];

/** A fresh, empty database location; `drop()` removes it (close every Storage on it first). */
export interface TestDatabase {
  kind: StorageKind;
  config: StorageConfig;
  drop(): Promise<void>;
}

export function freshTestDatabase(kind: StorageKind): TestDatabase {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'lamassu-storage-'));
    return {
      kind,
      config: { kind, file: join(dir, 'lamassu.db') },
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const schema = `test_${randomBytes(6).toString('hex')}`;
  return {
    kind,
    config: { kind, url: postgresUrl(), schema, poolSize: 5 },
    async drop() {
      const client = new pg.Client({ connectionString: postgresUrl() });
      await client.connect();
      try {
        await client.query(`drop schema if exists ${schema} cascade`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A migrated Storage on a fresh database; `dispose()` closes it and drops the database. */
export async function openTestStorage(kind: StorageKind): Promise<TestDatabase & { storage: Storage; dispose(): Promise<void> }> {
  const database = freshTestDatabase(kind);
  const storage = await createStorage(database.config);
  return {
    ...database,
    storage,
    async dispose() {
      await storage.close();
      await database.drop();
    },
  };
}

export interface StorageTestContext {
  readonly kind: StorageKind;
  /** The Storage of this suite, open from `before` to `after`. */
  readonly storage: Storage;
  /** How to reach the same database again (e.g. a second createStorage or runMigrations). */
  readonly config: StorageConfig;
}

/** Declares `describe('<name> [sqlite]')` and `describe('<name> [postgres]')`, each with its own database. */
export function forEachStorage(name: string, fn: (ctx: StorageTestContext) => void): void {
  for (const kind of storageKinds) {
    describe(`${name} [${kind}]`, async () => {
      if (kind === 'postgres' && !(await needPostgres())) {
        it('runs on PostgreSQL', { skip: 'SERVICE MISSING: PostgreSQL' }, () => {});
        return;
      }
      let opened: Awaited<ReturnType<typeof openTestStorage>> | undefined;
      const ctx: StorageTestContext = {
        kind,
        get storage() {
          if (!opened) throw new Error('storage is open only while the suite runs');
          return opened.storage;
        },
        get config() {
          if (!opened) throw new Error('storage is open only while the suite runs');
          return opened.config;
        },
      };
      before(async () => {
        opened = await openTestStorage(kind);
      });
      after(async () => {
        await opened?.dispose();
      });
      fn(ctx);
    });
  }
}
