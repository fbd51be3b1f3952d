import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql, type Kysely } from 'kysely';
import { createStorage } from './create-storage.ts';
import { openDatabase } from './open-database.ts';
import { createRepositories } from './repositories.ts';
import type { Database } from './schema.ts';
import { syncWal, transactionFlushedOffLoop } from './sqlite-flush-off-loop.ts';

const event = () => ({ specversion: '1.0' as const, id: randomUUID(), source: 'test', type: 'device.create', time: new Date(0).toISOString(), subject: 'd', data: {} });

describe('transactionFlushedOffLoop (SQLite)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lamassu-flush-'));
  const file = path.join(dir, 'lamassu.db');
  let db: Kysely<Database>;

  before(async () => {
    await (await createStorage({ kind: 'sqlite', file })).close();
    db = await openDatabase({ kind: 'sqlite', file });
  });
  after(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const synchronous = async () => (await sql<{ synchronous: number }>`pragma synchronous`.execute(db)).rows[0]!.synchronous;
  const backlog = () => createRepositories(db).outbox.backlog().then((b) => b.count);

  it('resolves only after the WAL fsync, with the writes committed, and leaves the connection at synchronous = FULL', async () => {
    let release!: () => void;
    const synced: string[] = [];
    const tx = transactionFlushedOffLoop(db, file, createRepositories, (f) => {
      synced.push(f);
      return new Promise((r) => (release = r));
    });
    const before = await backlog();
    let settled = false;
    const done = tx(async (r) => {
      await r.outbox.append([event()]);
      return 'ok';
    }).then((v) => ((settled = true), v));
    while (synced.length === 0) await new Promise((r) => setImmediate(r));
    assert.deepEqual(synced, [file]);
    assert.equal(settled, false, 'resolved before its fsync');
    // Committed (readable on the same file) and the connection is back to FULL for everyone else.
    assert.equal(await backlog(), before + 1);
    assert.equal(await synchronous(), 2);
    release();
    assert.equal(await done, 'ok');
  });

  it('rolls back a failed unit, skips the fsync and restores synchronous = FULL', async () => {
    let syncs = 0;
    const tx = transactionFlushedOffLoop(db, file, createRepositories, async () => void syncs++);
    const before = await backlog();
    await assert.rejects(
      tx(async (r) => {
        await r.outbox.append([event()]);
        throw new Error('refused');
      }),
      /refused/,
    );
    assert.equal(syncs, 0);
    assert.equal(await backlog(), before);
    assert.equal(await synchronous(), 2);
  });

  it('rejects when the fsync fails, so no caller counts on an unflushed commit', async () => {
    const tx = transactionFlushedOffLoop(db, file, createRepositories, async () => {
      throw new Error('EIO');
    });
    await assert.rejects(tx(async (r) => r.outbox.append([event()])), /EIO/);
  });

  it('syncs the real WAL file', async () => {
    await transactionFlushedOffLoop(db, file, createRepositories)(async (r) => r.outbox.append([event()]));
    await syncWal(file);
  });

  it("is createStorage's transaction on a SQLite file: commits durably, rolls back on error, synchronous back to FULL", async () => {
    const s = await createStorage({ kind: 'sqlite', file });
    try {
      const before = (await s.outbox.backlog()).count;
      await s.transaction(async (r) => r.outbox.append([event()]));
      assert.equal((await s.outbox.backlog()).count, before + 1);
      await assert.rejects(
        s.transaction(async (r) => {
          await r.outbox.append([event()]);
          throw new Error('no');
        }),
        /no/,
      );
      assert.equal((await s.outbox.backlog()).count, before + 1);
      assert.equal(await backlog(), before + 1);
    } finally {
      await s.close();
    }
  });

  it('waits for a write lock held by another connection on timers, not by blocking the event loop', async () => {
    const s = await createStorage({ kind: 'sqlite', file });
    const other = await openDatabase({ kind: 'sqlite', file });
    try {
      // The other connection (the certificate writer's thread, another process) holds the write lock 300 ms.
      await other.connection().execute(async (conn) => {
        await sql`begin immediate`.execute(conn);
        let ticks = 0;
        const ticker = setInterval(() => ticks++, 10);
        const started = Date.now();
        const done = s.transaction(async (r) => r.outbox.append([event()]));
        await new Promise((r) => setTimeout(r, 300));
        await sql`commit`.execute(conn);
        await done;
        clearInterval(ticker);
        assert.ok(Date.now() - started >= 290, 'the transaction did not wait for the lock');
        // Blocked in SQLite's busy handler, the loop would not have ticked until the lock was free.
        assert.ok(ticks >= 15, `the event loop ticked ${ticks} times in 300 ms`);
      });
    } finally {
      await other.destroy();
      await s.close();
    }
  });
});

