/**
 * The web console stays light: all of its JavaScript under 400 KB gzip, and each screen in a chunk of its
 * own (loaded when first opened). Reads the build `npm install` made (web/dist).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';

const assets = path.resolve(import.meta.dirname, '../../web/dist/assets');
const SCREENS = ['Dashboard', 'Cas', 'Certificates', 'Dmss', 'Devices', 'Profiles'];

test('the console JavaScript is under 400 KB gzip and split per screen', () => {
  assert.ok(existsSync(assets), 'web/dist is missing: `npm install` (or `npm run build:web`) builds it');
  const scripts = readdirSync(assets).filter((f) => f.endsWith('.js'));
  const gzipped = scripts.reduce((sum, f) => sum + gzipSync(readFileSync(path.join(assets, f))).length, 0);
  assert.ok(gzipped < 400 * 1024, `${Math.round(gzipped / 1024)} KB gzip`);
  for (const screen of SCREENS) assert.ok(scripts.some((f) => f.startsWith(`${screen}-`)), `no chunk of its own for ${screen}`);
});
