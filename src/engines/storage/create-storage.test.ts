import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DomainError } from '../../domain/errors.ts';
import { createStorage } from './create-storage.ts';
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
});

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
