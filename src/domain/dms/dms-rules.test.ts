import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_REENROLLMENT, DEFAULT_SERVER_KEYGEN, type DmsSettings } from './dms.ts';
import { constantTimeEqual, serverKeyAllowed } from './dms-rules.ts';

test('constant-time comparison is plain equality in result', () => {
  assert.equal(constantTimeEqual('factory', 'factory'), true);
  for (const other of ['factorY', 'factor', 'factory1', '', 'ｆactory']) assert.equal(constantTimeEqual('factory', other), false, other);
  assert.equal(constantTimeEqual('', ''), true);
});

test('server keygen: disabled refuses all; an empty allow-list accepts any', () => {
  const base = { serverKeygen: DEFAULT_SERVER_KEYGEN, reenrollment: DEFAULT_REENROLLMENT } as DmsSettings;
  assert.equal(serverKeyAllowed(base, { type: 'ECDSA', bits: 256 }), true);
  assert.equal(serverKeyAllowed(base, { type: 'RSA', bits: 4096 }), false);
  assert.equal(serverKeyAllowed({ ...base, serverKeygen: { ...DEFAULT_SERVER_KEYGEN, enabled: false } }, { type: 'ECDSA', bits: 256 }), false);
  assert.equal(serverKeyAllowed({ ...base, serverKeygen: { ...DEFAULT_SERVER_KEYGEN, allowedKeys: [] } }, { type: 'RSA', bits: 4096 }), true);
});
