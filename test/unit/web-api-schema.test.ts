/**
 * The web console's API client cannot drift from the server: web/openapi.json must be the document the
 * server serves now, and web/src/api/schema.d.ts what openapi-typescript makes of it.
 * After an API change: `npm run openapi` (writes both), then rebuild the console.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { openApiDocument } from '../../scripts/openapi-document.ts';

const root = path.resolve(import.meta.dirname, '../..');
const web = path.join(root, 'web');
const run = promisify(execFile);

test('web/openapi.json is the OpenAPI document the server serves', { timeout: 60_000 }, async () => {
  const served = await openApiDocument();
  const committed = readFileSync(path.join(web, 'openapi.json'), 'utf8');
  assert.ok(served === committed, 'web/openapi.json is stale: run `npm run openapi` and rebuild the console (npm run build:web)');
});

test('web/src/api/schema.d.ts is generated from web/openapi.json', { timeout: 60_000 }, async () => {
  const generator = path.join(web, 'node_modules', 'openapi-typescript', 'bin', 'cli.js');
  assert.ok(existsSync(generator), 'web/ dependencies are missing: `npm install` at the root installs them');
  const dir = mkdtempSync(path.join(tmpdir(), 'lamassu-schema-'));
  try {
    await run(process.execPath, [generator, path.join(web, 'openapi.json'), '-o', path.join(dir, 'schema.d.ts')], { cwd: web });
    const fresh = readFileSync(path.join(dir, 'schema.d.ts'), 'utf8');
    const committed = readFileSync(path.join(web, 'src', 'api', 'schema.d.ts'), 'utf8');
    assert.ok(fresh === committed, 'web/src/api/schema.d.ts is stale: run `npm run openapi`');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
