#!/usr/bin/env -S node --max-semi-space-size=8
// The flag is src/server-node-flags.ts's (an idle server stays under 150 MB RSS); `npm start` gives it too.
// The `lamassu` program. It runs the compiled build in dist/ (fast start, small footprint), and compiles
// src/ first when dist/ is missing or older than the sources, so a fresh clone or an edited tree never runs
// stale code. `npm install` already builds once (the "prepare" script).
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const entry = path.join(root, 'dist', 'main.js');
const stamp = path.join(root, 'dist', '.tsbuildinfo');

/** Newest modification time of the sources that go into the build (tests excluded). */
function newestSource(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * Runs tsc as a child; SIGTERM/SIGINT sent to this process (by a service manager, or by npm) stop the
 * compiler too instead of leaving it running, and this process then dies of the same signal.
 */
function compile(tsc) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
    const forward = (signal) => child.kill(signal);
    const signals = ['SIGTERM', 'SIGINT'];
    for (const s of signals) process.on(s, forward);
    child.once('error', () => resolve(1));
    child.once('exit', (code, signal) => {
      for (const s of signals) process.off(s, forward);
      if (signal) process.kill(process.pid, signal);
      else resolve(code ?? 1);
    });
  });
}

const srcDir = path.join(root, 'src');
const stale = !existsSync(entry) || !existsSync(stamp) || (existsSync(srcDir) && newestSource(srcDir) > statSync(stamp).mtimeMs);
if (stale) {
  let tsc;
  try {
    tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  } catch {
    if (!existsSync(entry)) {
      process.stderr.write('lamassu: dist/ is missing and TypeScript is not installed; run `npm install`\n');
      process.exit(1);
    }
  }
  if (tsc) {
    process.stderr.write('lamassu: compiling src/ to dist/ ...\n');
    const status = await compile(tsc);
    if (status !== 0) process.exit(status);
    // An incremental build that had nothing to emit leaves the stamp as it was; mark the tree as built.
    const now = new Date();
    utimesSync(stamp, now, now);
  }
}
await import(pathToFileURL(entry).href);
