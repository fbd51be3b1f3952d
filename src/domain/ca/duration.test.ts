import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DomainError } from '../errors.ts';
import { formatDuration, parseDuration, validityEnd } from './duration.ts';

const DAY = 86_400_000;

test('parseDuration: Lamassu units with y = 365 days', () => {
  assert.equal(parseDuration('10y'), 3650 * DAY);
  assert.equal(parseDuration('1y2w3d4h'), 365 * DAY + 14 * DAY + 3 * DAY + 4 * 3_600_000);
  assert.equal(parseDuration('90m'), 90 * 60_000);
  assert.equal(parseDuration('1500ms'), 1500);
  assert.equal(formatDuration(parseDuration('1y2w3d4h')), '1y2w3d4h');
});

test('parseDuration rejects garbage, zero and unknown units with DURATION_INVALID', () => {
  for (const bad of ['', '10', 'y', '10x', '1y 2d', '0d', '-1d', '1.5y']) {
    assert.throws(() => parseDuration(bad), (e: unknown) => e instanceof DomainError && e.code === 'DURATION_INVALID', bad);
  }
});

test('validityEnd: whole seconds, Time must be in the future', () => {
  const from = new Date('2026-01-01T00:00:00.750Z');
  assert.equal(validityEnd({ type: 'Duration', duration: '1d' }, from).toISOString(), '2026-01-02T00:00:00.000Z');
  assert.equal(validityEnd({ type: 'Time', time: '2030-01-01T00:00:00.5Z' }, from).toISOString(), '2030-01-01T00:00:00.000Z');
  assert.throws(() => validityEnd({ type: 'Time', time: '2020-01-01T00:00:00Z' }, from), /not in the future/);
  assert.throws(() => validityEnd({ type: 'Time', time: 'soon' }, from), /RFC 3339/);
});
