/**
 * `npm run bench [-- name ...]`: runs bench/<name>.bench.ts in turn (all of them when none is named).
 * Each benchmark prints its own table; BENCHMARKS.md records the figures and this command.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import { MissingToolsError, requireTools, type ToolsOf } from './required-tools.ts';

const dir = path.dirname(fileURLToPath(import.meta.url));
const all = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.slice(0, -'.bench.ts'.length))
  .sort();
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !all.includes(w));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; available: ${all.join(', ')}`);
  process.exit(2);
}
type BenchModule = { run?: () => Promise<void>; tools?: ToolsOf };
const selected: { name: string; mod: BenchModule }[] = [];
for (const name of wanted.length > 0 ? wanted : all) {
  const mod = (await import(pathToFileURL(path.join(dir, `${name}.bench.ts`)).href)) as BenchModule;
  if (typeof mod.run !== 'function') throw new Error(`bench/${name}.bench.ts must export run()`);
  selected.push({ name, mod });
}
// All tools checked before the first benchmark starts: a long run should not die half-way for want of one.
try {
  requireTools(selected.map(({ name, mod }) => ({ benchmark: name, tools: mod.tools })));
} catch (e) {
  if (!(e instanceof MissingToolsError)) throw e;
  console.error(e.message);
  process.exit(1);
}
for (const { name, mod } of selected) {
  console.log(`\n=== ${name} ===`);
  await mod.run!();
}
