#!/usr/bin/env node
/**
 * Builds the optional native addons under native/ with node-gyp (the copy npm ships, pointed at Node's own
 * headers by npm's configuration). Runs from `npm install` (prepare). A machine without a C toolchain or
 * without Node's headers still installs: the build failure is reported and the server uses its pure
 * node:crypto routes instead (slower, same answers). An addon newer than its sources is left alone.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const nativeDir = path.join(root, 'native');

function nodeGyp() {
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp)) return process.env.npm_config_node_gyp;
  const bundled = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  return existsSync(bundled) ? bundled : undefined;
}

/** Newest of an addon's own sources and the headers all addons share (native/include). */
function newestSource(dir) {
  const files = (d) => (existsSync(d) ? readdirSync(d).filter((f) => /\.(c|h|gyp)$/.test(f)).map((f) => path.join(d, f)) : []);
  return Math.max(...[...files(dir), ...files(path.join(nativeDir, 'include'))].map((f) => statSync(f).mtimeMs));
}

/** Node's own headers: npm's configuration names them; run outside npm, look beside the node binary. */
function nodeDirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
}

const gyp = nodeGyp();
for (const name of existsSync(nativeDir) ? readdirSync(nativeDir) : []) {
  const dir = path.join(nativeDir, name);
  if (!existsSync(path.join(dir, 'binding.gyp'))) continue;
  const built = path.join(dir, 'build', 'Release', `${name.replace(/-/g, '_')}.node`);
  if (existsSync(built) && statSync(built).mtimeMs > newestSource(dir)) continue;
  if (!gyp) {
    console.warn(`native/${name}: node-gyp not found; not built (the server falls back to node:crypto)`);
    continue;
  }
  const run = spawnSync(process.execPath, [gyp, 'rebuild', ...nodeDirArgs()], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (run.status === 0) console.log(`native/${name}: built`);
  else console.warn(`native/${name}: build failed (the server falls back to node:crypto):\n${(run.stderr || run.stdout).split('\n').slice(-15).join('\n')}`);
}
