import { createRequire } from 'node:module';
import path from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * The URL of a worker module that sits beside the caller, with the caller's own extension: `.ts` when the
 * server runs from source under tsx (tests, `npm run lamassu`), `.js` when it runs the compiled build
 * (`npm start`).
 */
export function siblingModule(baseName: string, callerUrl: string): URL {
  return new URL(`./${baseName}${path.extname(new URL(callerUrl).pathname)}`, callerUrl);
}

/**
 * Starts a worker thread on a module of ours. Under Node 20 a worker does not inherit the TypeScript
 * loader the server runs with, so a .ts module is loaded through a bootstrap that registers tsx first; its
 * CommonJS hook runs in the worker's own thread (the ESM one would add a loader thread per worker, ~15 MB
 * each). Compiled .js modules start directly. Our workers handle small messages, so a small young
 * generation is enough (measured: ~30 MB less RSS for the two issuance workers).
 */
export function spawnWorker(module: URL, workerData?: unknown): Worker {
  const opts: WorkerOptions = { resourceLimits: { maxYoungGenerationSizeMb: 4 }, ...(workerData === undefined ? {} : { workerData }) };
  if (!module.pathname.endsWith('.ts')) return new Worker(module, opts);
  const tsx = createRequire(import.meta.url).resolve('tsx/cjs/api');
  const bootstrap = `require(${JSON.stringify(tsx)}).register(); require(${JSON.stringify(module.pathname)});`;
  return new Worker(bootstrap, { ...opts, eval: true });
}
