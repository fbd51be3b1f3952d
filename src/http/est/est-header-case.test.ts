import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalHeaderName } from './est-header-case.ts';

test('canonical header names: each dash-separated word capitalised, irregular ones as the RFCs spell them', () => {
  const cases: [string, string][] = [
    ['content-type', 'Content-Type'],
    ['CONTENT-LENGTH', 'Content-Length'],
    ['content-transfer-encoding', 'Content-Transfer-Encoding'],
    ['www-authenticate', 'WWW-Authenticate'],
    ['retry-after', 'Retry-After'],
    ['etag', 'ETag'],
    ['x-request-id', 'X-Request-Id'],
  ];
  for (const [given, canonical] of cases) assert.equal(canonicalHeaderName(given), canonical);
});
