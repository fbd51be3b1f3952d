import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serialHex } from './serial.ts';

test('serials are spelled without sign pad or leading zeros, so every reader finds the same row', () => {
  assert.equal(serialHex(Uint8Array.of(0x0a, 0xbc)), 'abc');
  assert.equal(serialHex(Uint8Array.of(0x00, 0x80, 0x01)), '8001');
  assert.equal(serialHex(Uint8Array.of(0x00, 0x00, 0x07)), '7');
  assert.equal(serialHex(Uint8Array.of(0)), '0');
});
