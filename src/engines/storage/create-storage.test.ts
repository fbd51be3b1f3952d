import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DomainError } from '../../domain/errors.ts';
import type { Storage } from '../../domain/ports/storage.ts';
import { createStorage, openBackgroundStorage } from './create-storage.ts';
import { openSqliteFile } from './sqlite-dialect.ts';
import { forEachStorage } from '../../../test/support/storage.ts';

const record = (id: string) => ({
  id,
  tokenHash: id.padStart(64, '0'),
  subject: id,
  role: 'pki-admin' as const,
  createdAt: new Date(0),
});

forEachStorage('storage', (ctx) => {
  test('reports its dialect and answers ping', async () => {
    assert.equal(ctx.storage.dialect, ctx.kind);
    await ctx.storage.ping();
  });

  test('a transaction commits all of its writes together', async () => {
    await ctx.storage.transaction(async (tx) => {
      await tx.adminTokens.insert(record('c1'));
      await tx.leases.tryAcquire('tx-commit', 'a', 60_000, new Date(0));
    });
    assert.ok(await ctx.storage.adminTokens.findByHash(record('c1').tokenHash));
    assert.equal(await ctx.storage.leases.tryAcquire('tx-commit', 'b', 60_000, new Date(1)), false);
  });

  test('a throw inside a transaction rolls back every write and reaches the caller', async () => {
    const boom = new Error('boom');
    await assert.rejects(
      ctx.storage.transaction(async (tx) => {
        await tx.adminTokens.insert(record('r1'));
        await tx.adminTokens.insert(record('r2'));
        await tx.leases.tryAcquire('tx-rollback', 'a', 60_000, new Date(0));
        throw boom;
      }),
      (e) => e === boom,
    );
    assert.equal(await ctx.storage.adminTokens.findByHash(record('r1').tokenHash), undefined);
    assert.equal(await ctx.storage.adminTokens.findByHash(record('r2').tokenHash), undefined);
    assert.equal(await ctx.storage.leases.tryAcquire('tx-rollback', 'b', 60_000, new Date(1)), true);
  });

  test('a failed write inside a transaction rolls back the earlier ones', async () => {
    await ctx.storage.adminTokens.insert(record('d1'));
    await assert.rejects(
      ctx.storage.transaction(async (tx) => {
        await tx.adminTokens.insert(record('d2'));
        await tx.adminTokens.insert(record('d1'));
      }),
      (e) => e instanceof DomainError && e.code === 'ADMIN_TOKEN_EXISTS',
    );
    assert.equal(await ctx.storage.adminTokens.findByHash(record('d2').tokenHash), undefined);
  });

  test('background storage: on PostgreSQL a pool of its own that answers while every main connection is held; on SQLite the same storage', async () => {
    const background = await openBackgroundStorage(ctx.config, ctx.storage);
    if (ctx.kind === 'sqlite') {
      assert.equal(background, ctx.storage);
      return;
    }
    assert.notEqual(background, ctx.storage);
    const poolSize = ctx.config.kind === 'postgres' ? (ctx.config.poolSize ?? 10) : 0;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let holding = 0;
    // Every connection of the main pool inside a transaction that waits.
    const holders = Array.from({ length: poolSize }, () =>
      ctx.storage.transaction(async () => {
        holding++;
        await held;
      }),
    );
    try {
      while (holding < poolSize) await new Promise((r) => setTimeout(r, 5));
      const queued = ctx.storage.outbox.backlog();
      // The main pool has nothing free: its next query waits; the background pool answers.
      const answered = await Promise.race([background.outbox.backlog().then(() => 'background'), new Promise((r) => setTimeout(() => r('timed out'), 5000))]);
      assert.equal(answered, 'background');
      release();
      await queued;
    } finally {
      release();
      await Promise.all(holders);
      await background.close();
    }
  });
});

/** Writes the server repeats outside transactions (the relay's deletions, lease renewals), each a fresh call. */
const repeatedWrites: [what: string, prepare: (storage: Storage) => Promise<() => Promise<unknown>>][] = [
  [
    "the relay's deletion",
    async (storage) => {
      await storage.outbox.append([{ specversion: '1.0', id: 'e1', source: 'test', type: 'x', time: new Date(0).toISOString(), data: {} }]);
      const [row] = await storage.outbox.oldest(1);
      return async () => {
        await storage.outbox.remove([row!.seq]);
        assert.equal((await storage.outbox.backlog()).count, 0);
      };
    },
  ],
  ['a lease renewal', async (storage) => async () => assert.equal(await storage.leases.tryAcquire('relay', 'me', 10_000, new Date()), true)],
  [
    'a lease release',
    async (storage) => {
      await storage.leases.tryAcquire('relay', 'me', 10_000, new Date());
      return async () => {
        await storage.leases.release('relay', 'me');
        assert.equal(await storage.leases.tryAcquire('relay', 'someone else', 10_000, new Date()), true);
      };
    },
  ],
];

for (const [what, prepare] of repeatedWrites) {
  test(`SQLite: ${what} waits for another connection's write lock on timers, not blocking the event loop`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lamassu-sqlite-'));
    const file = join(dir, 'lamassu.db');
    const storage = await createStorage({ kind: 'sqlite', file });
    const other = openSqliteFile(file);
    let ticks = 0;
    let ticker: NodeJS.Timeout | undefined;
    try {
      const write = await prepare(storage);
      other.exec('begin immediate');
      ticker = setInterval(() => ticks++, 10);
      const written = write();
      await new Promise((r) => setTimeout(r, 300));
      other.exec('commit');
      await written;
      // An autocommit statement would wait in SQLite's busy handler on this thread: no tick for 300 ms.
      assert.ok(ticks >= 15, `the event loop ticked ${ticks} times in 300 ms`);
    } finally {
      clearInterval(ticker);
      other.close();
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('SQLite files are opened with WAL, synchronous FULL, foreign keys and a busy timeout', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lamassu-sqlite-'));
  try {
    const db = openSqliteFile(join(dir, 'nested', 'lamassu.db'));
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('synchronous', { simple: true }), 2);
    assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
    assert.ok(Number(db.pragma('busy_timeout', { simple: true })) >= 1000);
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a PostgreSQL schema name that is not a plain identifier is refused', async () => {
  await assert.rejects(
    createStorage({ kind: 'postgres', url: 'postgres://nobody@127.0.0.1:1/x', schema: 'x; drop table y' }),
    (e) => e instanceof DomainError && e.code === 'STORAGE_CONFIG_INVALID' && e.kind === 'invalid',
  );
});

test('ping on an unreachable database is STORAGE_UNAVAILABLE', async () => {
  const storage = await createStorage({ kind: 'postgres', url: 'postgres://nobody@127.0.0.1:1/x' }, { migrate: false });
  try {
    await assert.rejects(storage.ping(), (e) => e instanceof DomainError && e.code === 'STORAGE_UNAVAILABLE');
  } finally {
    await storage.close();
  }
});
