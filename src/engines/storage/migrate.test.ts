import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createStorage } from './create-storage.ts';
import { runMigrations } from './migrate.ts';
import { migrations } from './migrations/index.ts';
import { forEachStorage, freshTestDatabase } from '../../../test/support/storage.ts';

forEachStorage('migrations', (ctx) => {
  test('a fresh database gets every migration, in order', async () => {
    const database = freshTestDatabase(ctx.kind);
    try {
      assert.deepEqual(await runMigrations(database.config), { applied: Object.keys(migrations).sort() });
    } finally {
      await database.drop();
    }
  });

  test('running them again applies nothing and keeps the data', async () => {
    await ctx.storage.leases.tryAcquire('kept', 'a', 60_000, new Date(0));
    assert.deepEqual(await runMigrations(ctx.config), { applied: [] });
    const again = await createStorage(ctx.config);
    try {
      assert.equal(await again.leases.tryAcquire('kept', 'b', 60_000, new Date(1)), false);
    } finally {
      await again.close();
    }
  });

  test('migrations are named NNNN-name and registered in order', () => {
    const names = Object.keys(migrations);
    assert.ok(names.every((n) => /^\d{4}-[a-z0-9-]+$/.test(n)), names.join(', '));
    assert.deepEqual(names, [...names].sort());
  });
});
