import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DomainError } from '../errors.ts';
import { checkTransition, parseStatusRequest, statusAt, type StatusState } from './certificate-status.ts';

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof DomainError);
    return `${e.kind}:${e.code}`;
  }
  return 'ok';
};

test('transition rules: hold can be lifted or made final, other revocations and EXPIRED are final', () => {
  const active: StatusState = { status: 'ACTIVE' };
  const soon: StatusState = { status: 'ABOUT_TO_EXPIRE' };
  const held: StatusState = { status: 'REVOKED', revocationReason: 'CertificateHold' };
  const compromised: StatusState = { status: 'REVOKED', revocationReason: 'KeyCompromise' };
  const expired: StatusState = { status: 'EXPIRED' };
  const revoke = (reason: 'KeyCompromise' | 'CertificateHold' | 'RemoveFromCRL') => ({ status: 'REVOKED' as const, reason });
  const release = { status: 'ACTIVE' as const };
  const cases: [StatusState, Parameters<typeof checkTransition>[2], string][] = [
    [active, revoke('KeyCompromise'), 'ok'],
    [soon, revoke('CertificateHold'), 'ok'],
    [held, release, 'ok'],
    [held, revoke('KeyCompromise'), 'ok'],
    [held, revoke('CertificateHold'), 'conflict:CERTIFICATE_ILLEGAL_TRANSITION'],
    [compromised, release, 'conflict:CERTIFICATE_ILLEGAL_TRANSITION'],
    [compromised, revoke('KeyCompromise'), 'conflict:CERTIFICATE_ILLEGAL_TRANSITION'],
    [expired, revoke('KeyCompromise'), 'conflict:CERTIFICATE_ILLEGAL_TRANSITION'],
    [active, release, 'conflict:CERTIFICATE_ILLEGAL_TRANSITION'],
    // removeFromCRL only ever comes from releasing a hold (RFC 5280 5.3.1), also for callers past the API.
    [active, revoke('RemoveFromCRL'), 'invalid:REVOCATION_REASON_NOT_ALLOWED'],
    [held, revoke('RemoveFromCRL'), 'invalid:REVOCATION_REASON_NOT_ALLOWED'],
  ];
  for (const [from, to, want] of cases) {
    assert.equal(code(() => checkTransition('CERTIFICATE', from, to)), want, `${JSON.stringify(from)} -> ${JSON.stringify(to)}`);
  }
  assert.equal(code(() => checkTransition('CA', expired, release)), 'conflict:CA_ILLEGAL_TRANSITION');
});

test('status requests: reasons by Lamassu name, time-driven statuses cannot be set', () => {
  assert.deepEqual(parseStatusRequest('CERTIFICATE', 'REVOKED', 'KeyCompromise'), { status: 'REVOKED', reason: 'KeyCompromise' });
  assert.deepEqual(parseStatusRequest('CERTIFICATE', 'REVOKED', undefined), { status: 'REVOKED', reason: 'Unspecified' });
  assert.equal(code(() => parseStatusRequest('CERTIFICATE', 'REVOKED', 'keyCompromised')), 'invalid:REVOCATION_REASON_INVALID');
  assert.equal(code(() => parseStatusRequest('CA', 'REVOKED', 'RemoveFromCRL')), 'invalid:REVOCATION_REASON_NOT_ALLOWED');
  assert.equal(code(() => parseStatusRequest('CA', 'EXPIRED', undefined)), 'conflict:CA_ILLEGAL_TRANSITION');
  assert.equal(code(() => parseStatusRequest('CA', 'bogus', undefined)), 'invalid:STATUS_INVALID');
});

test('statusAt: notAfter is inclusive, threshold starts ABOUT_TO_EXPIRE', () => {
  const notAfter = new Date('2026-06-01T00:00:00Z');
  const soon = new Date('2026-05-02T00:00:00Z');
  assert.equal(statusAt(new Date('2026-05-01T23:59:59Z'), notAfter, soon), 'ACTIVE');
  assert.equal(statusAt(soon, notAfter, soon), 'ABOUT_TO_EXPIRE');
  assert.equal(statusAt(notAfter, notAfter, soon), 'ABOUT_TO_EXPIRE');
  assert.equal(statusAt(new Date(notAfter.getTime() + 1), notAfter, soon), 'EXPIRED');
});

test('parseStatusRequest: invalidity_date is an RFC 3339 time, in whole seconds, with REVOKED only', () => {
  assert.deepEqual(parseStatusRequest('CERTIFICATE', 'REVOKED', 'KeyCompromise', '2026-03-04T05:06:07.890+01:00'), {
    status: 'REVOKED',
    reason: 'KeyCompromise',
    invalidityDate: new Date('2026-03-04T04:06:07Z'),
  });
  assert.deepEqual(parseStatusRequest('CERTIFICATE', 'REVOKED', undefined, undefined), { status: 'REVOKED', reason: 'Unspecified' });
  for (const bad of ['2026', '2026-03-04', 'Mar 4 2026', '2026-13-45T00:00:00Z', '', 1700000000000, null]) {
    assert.equal(code(() => parseStatusRequest('CERTIFICATE', 'REVOKED', 'KeyCompromise', bad)), 'invalid:INVALIDITY_DATE_INVALID', String(bad));
  }
  assert.equal(code(() => parseStatusRequest('CA', 'ACTIVE', undefined, '2026-03-04T05:06:07Z')), 'invalid:INVALIDITY_DATE_INVALID');
});
