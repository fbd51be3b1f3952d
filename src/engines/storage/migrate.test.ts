import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { createStorage } from './create-storage.ts';
import { runMigrations } from './migrate.ts';
import { migrations } from './migrations/index.ts';
import { needPostgres, postgresUrl } from '../../../test/support/services.ts';
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

// Kysely's migration set-up reads the tables of every schema; another tenant dropping its schema at that
// moment made it fail with "schema <theirs> does not exist" (seen in CI with test files running together).
test('migrations on PostgreSQL go through while other schemas are created and dropped', async (t) => {
  if (!(await needPostgres(t))) return;
  const admin = new pg.Client({ connectionString: postgresUrl() });
  await admin.connect();
  let churning = true;
  const churn = (async () => {
    for (let i = 0; churning; i++) {
      const other = `test_churn_${process.pid}_${i}`;
      await admin.query(`create schema ${other}`);
      await admin.query(`create table ${other}.t (id serial primary key, a int, b int, c int)`);
      await admin.query(`drop schema ${other} cascade`);
      // Gently: other test files migrate on this database at the same time.
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  try {
    for (let round = 0; round < 8; round++) {
      const database = freshTestDatabase('postgres');
      try {
        assert.deepEqual(await runMigrations(database.config), { applied: Object.keys(migrations).sort() });
      } finally {
        await database.drop();
      }
    }
  } finally {
    churning = false;
    await churn;
    await admin.end();
  }
});
