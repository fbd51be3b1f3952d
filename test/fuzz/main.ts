/**
 * `npm run fuzz`: malformed requests against the real server on SQLite and PostgreSQL.
 *   npm run fuzz -- [--count N per database, default 10000] [--seed S] [--storage sqlite,postgres]
 *                   [--minutes M per database, default 10] [--index i,j (replay)] [--concurrency C]
 * Exits 1 when any answer is >= 500 or not in our error shape, the process died, stayed over 200 MB RSS,
 * or logged at error level.
 */
import { parseArgs } from 'node:util';
import type { StorageKind } from '../support/storage.ts';
import { problemsOf, runFuzz } from './run.ts';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '20261203' },
    storage: { type: 'string', default: 'sqlite,postgres' },
    minutes: { type: 'string', default: '10' },
    index: { type: 'string' },
    concurrency: { type: 'string', default: '8' },
  },
});

let failed = false;
let total = 0;
for (const storage of values.storage!.split(',') as StorageKind[]) {
  const report = await runFuzz({
    storage,
    count: Number(values.count),
    seed: Number(values.seed),
    deadlineMs: Number(values.minutes) * 60_000,
    concurrency: Number(values.concurrency),
    ...(values.index ? { only: values.index.split(',').map(Number) } : {}),
    progress: (line) => console.log(line),
  });
  total += report.sent;
  const problems = problemsOf(report);
  console.log(
    `[${storage}] seed ${report.seed}: ${report.sent} requests (${report.unsendable} unsendable) in ${(report.durationMs / 1000).toFixed(0)} s, ` +
      `statuses ${JSON.stringify(report.statuses)} (501: ${JSON.stringify(report.notOffered)}), RSS ${report.rssStartMb.toFixed(0)} MB before, ${report.rssMb.toFixed(0)} MB after: ${problems.length ? 'FAILED' : 'clean'}`,
  );
  for (const p of problems) console.log(p);
  failed ||= problems.length > 0;
}
console.log(`${total} requests in all: ${failed ? 'FAILED' : 'clean'}`);
process.exitCode = failed ? 1 : 0;
