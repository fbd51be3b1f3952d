import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DomainError } from '../errors.ts';
import { formatDelta, nextExpiryAlertAt, parseExpiryDeltas, resolveExpiryDeltas, sameDeltas } from './expiry-deltas.ts';

const DAY = 86_400_000;
const d = (p: number | null, c: number | null) => ({ preventiveMs: p === null ? null : p * DAY, criticalMs: c === null ? null : c * DAY });
const invalidDeltas = (e: unknown) => e instanceof DomainError && e.code === 'EXPIRY_DELTAS_INVALID' && e.kind === 'invalid';

test('parsing: durations, either may be off, critical shorter than preventive', () => {
  assert.deepEqual(parseExpiryDeltas('30d', '7d'), d(30, 7));
  assert.deepEqual(parseExpiryDeltas('30d', null), d(30, null));
  assert.deepEqual(parseExpiryDeltas(undefined, '1w'), d(null, 7));
  assert.deepEqual(parseExpiryDeltas(null, ''), d(null, null));
  for (const [p, c] of [['7d', '7d'], ['7d', '30d'], ['soon', null], [null, '0d'], ['-1d', null]] as const) {
    assert.throws(() => parseExpiryDeltas(p, c), invalidDeltas, `${p} ${c}`);
  }
});

test('the DMS over the profile over the CA; a level with no delta set does not count', () => {
  assert.deepEqual(resolveExpiryDeltas({ dms: d(10, null), profile: d(20, 5), ca: d(30, 7) }), { source: 'dms', deltas: d(10, null) });
  assert.deepEqual(resolveExpiryDeltas({ dms: d(null, null), profile: d(20, 5), ca: d(30, 7) }), { source: 'profile', deltas: d(20, 5) });
  assert.deepEqual(resolveExpiryDeltas({ dms: null, profile: undefined, ca: d(30, 7) }), { source: 'ca', deltas: d(30, 7) });
  assert.deepEqual(resolveExpiryDeltas({}), { source: 'ca', deltas: null });
});

test('the next announcement: preventive (or critical alone), then critical, then none', () => {
  const notAfter = new Date(100 * DAY);
  assert.equal(nextExpiryAlertAt(notAfter, d(30, 7), 'none')?.getTime(), 70 * DAY);
  assert.equal(nextExpiryAlertAt(notAfter, d(30, 7), 'preventive')?.getTime(), 93 * DAY);
  assert.equal(nextExpiryAlertAt(notAfter, d(30, 7), 'critical'), null);
  assert.equal(nextExpiryAlertAt(notAfter, d(null, 7), 'none')?.getTime(), 93 * DAY);
  assert.equal(nextExpiryAlertAt(notAfter, d(30, null), 'preventive'), null);
  assert.equal(nextExpiryAlertAt(notAfter, null, 'none'), null);
});

test('formatting and comparing', () => {
  assert.equal(formatDelta(30 * DAY), '30d');
  assert.equal(formatDelta(36 * 3_600_000), '1d12h');
  assert.ok(sameDeltas(null, d(null, null)));
  assert.ok(sameDeltas(d(30, 7), d(30, 7)));
  assert.ok(!sameDeltas(d(30, 7), d(30, null)));
  assert.ok(!sameDeltas(undefined, d(30, null)));
});
