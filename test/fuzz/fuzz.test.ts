/**
 * A short fuzz run in `npm test` (the long one is `npm run fuzz`): malformed requests of every kind against
 * the real server on SQLite and PostgreSQL; no answer >= 500, every error in our shape with a documented
 * code, the process alive, healthy, under 200 MB RSS, nothing logged at error level.
 * LAMASSU_FUZZ_COUNT / LAMASSU_FUZZ_SEED change the run.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { needPostgres } from '../support/services.ts';
import { storageKinds } from '../support/storage.ts';
import { problemsOf, runFuzz } from './run.ts';

const count = Number(process.env.LAMASSU_FUZZ_COUNT ?? 1200);
const seed = Number(process.env.LAMASSU_FUZZ_SEED ?? 7);

for (const storage of storageKinds) {
  describe(`fuzz [${storage}]`, { timeout: 240_000 }, () => {
    it(`${count} malformed requests: no 5xx, errors in our shape, the server alive and lean`, async (t) => {
      if (storage === 'postgres' && !(await needPostgres(t))) return;
      const report = await runFuzz({ storage, count, seed, deadlineMs: 180_000, concurrency: 4 });
      const problems = problemsOf(report);
      assert.ok(problems.length === 0, problems.slice(0, 30).join('\n'));
      // The deadline must not have cut the run short: every request was sent (or refused by the client library).
      assert.equal(report.sent + report.unsendable, count);
    });
  });
}
