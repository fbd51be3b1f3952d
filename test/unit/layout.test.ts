/**
 * The layering of docs/architecture.md, checked over every product file in src/: src holds the product only
 * (no fixtures, testbeds or stand-in servers), nothing in it reaches into test/, domain imports nothing of
 * ours outside domain, and use-cases (services) see ports, never engines, HTTP or a database driver.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const src = path.join(root, 'src');

function productFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return productFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:^|\s)(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm)].map(
    (m) => m[1] ?? m[2],
  );
}

const files = productFiles(src);
const rel = (f: string) => path.relative(root, f);

test('src holds no test scaffolding', () => {
  const scaffolding = files.filter((f) => /(fixture|testbed|test-token|test-pki|fake-|contract)/.test(path.basename(f)));
  assert.deepEqual(scaffolding.map(rel), []);
});

test('no product module imports from test/', () => {
  const offenders = files.flatMap((f) =>
    importsOf(f)
      .filter((s) => s.startsWith('.') && path.resolve(path.dirname(f), s).startsWith(path.join(root, 'test')))
      .map((s) => `${rel(f)} -> ${s}`),
  );
  assert.deepEqual(offenders, []);
});

test('domain imports nothing of ours outside domain', () => {
  const domain = path.join(src, 'domain');
  const offenders = files
    .filter((f) => f.startsWith(domain))
    .flatMap((f) =>
      importsOf(f)
        .filter((s) => s.startsWith('.') && !path.resolve(path.dirname(f), s).startsWith(domain))
        .map((s) => `${rel(f)} -> ${s}`),
    );
  assert.deepEqual(offenders, []);
});

test('services see ports and x509, never engines, HTTP or drivers', () => {
  const services = path.join(src, 'services');
  const allowed = [path.join(src, 'domain'), path.join(src, 'x509'), services];
  const forbiddenPackages = /^(fastify|kysely|pg|better-sqlite3|amqplib|pkcs11js|node:crypto|node:fs|node:http|node:https)$/;
  const offenders = files
    .filter((f) => f.startsWith(services))
    .flatMap((f) =>
      importsOf(f)
        .filter((s) =>
          s.startsWith('.') ? !allowed.some((a) => path.resolve(path.dirname(f), s).startsWith(a)) : forbiddenPackages.test(s),
        )
        .map((s) => `${rel(f)} -> ${s}`),
    );
  assert.deepEqual(offenders, []);
});
