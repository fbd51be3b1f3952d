import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DomainError } from '../../domain/errors.ts';
import type { AdminTokenRecord } from '../../domain/ports/admin-token.ts';
import { forEachStorage } from '../../../test/support/storage.ts';

const token = (n: number, over: Partial<AdminTokenRecord> = {}): AdminTokenRecord => ({
  id: `tok-${n}`,
  tokenHash: n.toString(16).padStart(64, '0'),
  subject: `admin-${n}`,
  role: 'pki-admin',
  createdAt: new Date(Date.UTC(2026, 0, 1, 12, 0, 0, 123) + n),
  ...over,
});

forEachStorage('admin token repository', (ctx) => {
  test('finds an inserted token by its hash, with every field intact', async () => {
    const record = token(1, { role: 'pki-viewer' });
    await ctx.storage.adminTokens.insert(record);
    assert.deepEqual(await ctx.storage.adminTokens.findByHash(record.tokenHash), record);
  });

  test('an unknown hash finds nothing', async () => {
    assert.equal(await ctx.storage.adminTokens.findByHash('ab'.repeat(32)), undefined);
  });

  test('a second token with the same hash is a conflict and is not stored', async () => {
    const { adminTokens } = ctx.storage;
    await adminTokens.insert(token(2));
    const before = await adminTokens.count();
    await assert.rejects(
      adminTokens.insert(token(2, { id: 'tok-other', subject: 'intruder' })),
      (e) => e instanceof DomainError && e.code === 'ADMIN_TOKEN_EXISTS' && e.kind === 'conflict',
    );
    assert.equal(await adminTokens.count(), before);
    assert.equal((await adminTokens.findByHash(token(2).tokenHash))?.subject, 'admin-2');
  });

  test('count is a number that follows inserts', async () => {
    const { adminTokens } = ctx.storage;
    const before = await adminTokens.count();
    assert.equal(typeof before, 'number');
    await adminTokens.insert(token(3));
    await adminTokens.insert(token(4));
    assert.equal(await adminTokens.count(), before + 2);
  });
});
