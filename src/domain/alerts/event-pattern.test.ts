import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDomainError } from '../errors.ts';
import { checkEventPattern, eventPatternMatcher } from './event-pattern.ts';

test('event-type patterns follow AMQP topic semantics', () => {
  const m = (p: string, t: string) => eventPatternMatcher(p)(t);
  assert.equal(m('certificate.status.update', 'certificate.status.update'), true);
  assert.equal(m('certificate.*', 'certificate.create'), true);
  assert.equal(m('certificate.*', 'certificate.status.update'), false);
  assert.equal(m('certificate.#', 'certificate.status.update'), true);
  assert.equal(m('#', 'ca.create'), true);
  assert.equal(m('*.create', 'ca.create'), true);
  assert.equal(m('certificate.*', 'ca.create'), false);
});

test('event-type patterns that no event could match are refused', () => {
  for (const bad of ['', 'certificate..update', 'certificate.st*', 'a b']) {
    assert.throws(() => checkEventPattern(bad), (e) => isDomainError(e) && e.code === 'ALERT_EVENT_TYPE_INVALID', bad);
  }
  checkEventPattern('certificate.*');
  checkEventPattern('device-group.create');
});
