#!/usr/bin/env node
/**
 * Builds the web console (web/, its own npm package) into web/dist, which `lamassu serve` serves at /.
 * Runs from `npm install` (prepare) after the server build. web/'s dependencies are installed with
 * `npm ci` from its lockfile unless they already match it. Any failure fails the install: a server
 * without its console must not pass unnoticed in CI.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';

const web = path.resolve(import.meta.dirname, '..', 'web');
const npm = process.env.npm_execpath;

function run(args) {
  // Inside npm, npm_execpath is npm's own CLI script; run it with this node.
  const [cmd, argv] = npm && npm.endsWith('.js') ? [process.execPath, [npm, ...args]] : ['npm', args];
  const r = spawnSync(cmd, argv, { cwd: web, stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`web console: \`npm ${args.join(' ')}\` in web/ failed (${r.error?.message ?? `exit ${r.status}`})\n`);
    process.exit(r.status || 1);
  }
}

const installed = path.join(web, 'node_modules', '.package-lock.json');
const lock = path.join(web, 'package-lock.json');
if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs) run(['ci', '--no-audit', '--no-fund']);
run(['run', 'build']);
