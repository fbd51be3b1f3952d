import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { createStorage } from './create-storage.ts';
import { ROWS_PER_TRANSACTION } from '../../../test/support/crash-writer.fixture.ts';
import { openDatabase } from './open-database.ts';
import type { StorageConfig } from './storage-config.ts';
import { needPostgres } from '../../../test/support/services.ts';
import { freshTestDatabase, storageKinds } from '../../../test/support/storage.ts';

const writer = fileURLToPath(new URL('../../../test/support/crash-writer.fixture.ts', import.meta.url));
const KILL_AFTER_COMMITS = 30;

/** Starts the writer, SIGKILLs it mid-burst, and returns the transactions it reported as committed. */
async function burstAndKill(config: StorageConfig): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', writer, JSON.stringify(config)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  let reported = -1;
  let buffered = '';
  await new Promise<void>((resolve, reject) => {
    const guard = setTimeout(() => reject(new Error(`writer reported only ${reported + 1} commits`)), 30_000);
    child.once('exit', (code) => reject(new Error(`writer exited early with ${code}`)));
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      if (lines.length > 0) reported = Number(lines.at(-1));
      if (reported + 1 >= KILL_AFTER_COMMITS) {
        clearTimeout(guard);
        child.kill('SIGKILL');
        resolve();
      }
    });
  });
  const [code, signal] = await exited;
  assert.equal(signal, 'SIGKILL', `writer ended by ${signal ?? `exit ${code}`} before the kill`);
  return reported;
}

for (const kind of storageKinds) {
  test(`[${kind}] after SIGKILL mid-burst every transaction is wholly present or wholly absent`, async (t) => {
    if (kind === 'postgres' && !(await needPostgres(t))) return;
    const database = freshTestDatabase(kind);
    try {
      const lastReported = await burstAndKill(database.config);

      const reopened = await createStorage(database.config);
      await reopened.ping();
      await reopened.close();

      const db = await openDatabase(database.config);
      try {
        const leases = await db.selectFrom('leases').select('name').where('name', 'like', 'burst-%').execute();
        const tokens = await db.selectFrom('admin_tokens').select('id').execute();
        const committed = new Set(leases.map((l) => Number(l.name.slice('burst-'.length))));
        const rowsPerTx = new Map<number, number>();
        for (const { id } of tokens) {
          const k = Number(id.split('-')[0]);
          rowsPerTx.set(k, (rowsPerTx.get(k) ?? 0) + 1);
        }
        for (const [k, rows] of rowsPerTx) {
          assert.ok(committed.has(k), `transaction ${k} left ${rows} token rows without its lease`);
          assert.equal(rows, ROWS_PER_TRANSACTION, `transaction ${k} is partial`);
        }
        for (const k of committed) assert.ok(rowsPerTx.has(k), `transaction ${k} left its lease without tokens`);
        for (let k = 0; k <= lastReported; k++) assert.ok(committed.has(k), `reported transaction ${k} is lost`);
        assert.deepEqual([...committed].sort((a, b) => a - b), [...committed.keys()].map((_, i) => i), 'gaps');
      } finally {
        await db.destroy();
      }
    } finally {
      await database.drop();
    }
  });
}
