import { conflict, invalid } from '../errors.ts';
import { wholeSeconds } from './duration.ts';
import { isRevocationReason, REVOCATION_REASONS_ACCEPTED, type RevocationReason } from './revocation-reason.ts';

/** The seed's four statuses, for CA certificates and issued certificates alike. */
export const CERTIFICATE_STATUSES = ['ACTIVE', 'ABOUT_TO_EXPIRE', 'EXPIRED', 'REVOKED'] as const;
export type CertificateStatus = (typeof CERTIFICATE_STATUSES)[number];

export const isCertificateStatus = (s: unknown): s is CertificateStatus =>
  typeof s === 'string' && (CERTIFICATE_STATUSES as readonly string[]).includes(s);

/**
 * The status that time alone gives a certificate that is not revoked. notAfter is inclusive (RFC 5280
 * 4.1.2.5: valid through notAfter), so a certificate expires once `now` passes it.
 */
export function statusAt(now: Date, notAfter: Date, aboutToExpireAt: Date): 'ACTIVE' | 'ABOUT_TO_EXPIRE' | 'EXPIRED' {
  const t = now.getTime();
  if (t > notAfter.getTime()) return 'EXPIRED';
  if (t >= aboutToExpireAt.getTime()) return 'ABOUT_TO_EXPIRE';
  return 'ACTIVE';
}

/** Where a certificate stands, as far as status changes go. */
export interface StatusState {
  status: CertificateStatus;
  revocationReason?: RevocationReason;
}

/**
 * What an operator asks for: revoke (with a reason and, optionally, the RFC 5280 5.3.2 invalidity date:
 * when the key was, or is suspected to have been, compromised) or lift a hold (ACTIVE).
 */
export type StatusRequest = { status: 'REVOKED'; reason: RevocationReason; invalidityDate?: Date } | { status: 'ACTIVE' };

// RFC 3339 date-time (section 5.6); Date.parse alone would also take "2026" or "Nov 29 2026".
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** An RFC 3339 time in whole seconds (what a CRL entry carries), or a 400 INVALIDITY_DATE_INVALID. */
function parseInvalidityDate(value: unknown): Date {
  const t = typeof value === 'string' && RFC3339.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(t)) throw invalid('INVALIDITY_DATE_INVALID', `invalidity_date must be an RFC 3339 time, got ${JSON.stringify(value)}`);
  return wholeSeconds(new Date(t));
}

/**
 * Throws a 400 INVALIDITY_DATE_AFTER_REVOCATION when the invalidity date is later than the revocation time
 * (which is the Clock's now, so this also rejects a date in the future).
 */
export function checkInvalidityDate(invalidityDate: Date, revokedAt: Date): void {
  if (invalidityDate.getTime() > revokedAt.getTime()) {
    throw invalid(
      'INVALIDITY_DATE_AFTER_REVOCATION',
      `invalidity_date ${invalidityDate.toISOString()} is after the revocation time ${revokedAt.toISOString()}`,
      { invalidity_date: invalidityDate.toISOString(), revocation_timestamp: revokedAt.toISOString() },
    );
  }
}

export type TransitionSubject = 'CERTIFICATE' | 'CA';

const illegal = (subject: TransitionSubject, from: StatusState, to: string, why: string) =>
  conflict(`${subject}_ILLEGAL_TRANSITION`, `cannot change status from ${from.status} to ${to}: ${why}`, {
    from: from.status,
    to,
  });

/**
 * Turns the operator's requested status into a checked request, or throws. EXPIRED and ABOUT_TO_EXPIRE
 * follow from time only, so nobody can set them.
 */
export function parseStatusRequest(subject: TransitionSubject, status: unknown, reason: unknown, invalidityDate?: unknown): StatusRequest {
  if (status === 'ACTIVE') {
    if (invalidityDate !== undefined) throw invalid('INVALIDITY_DATE_INVALID', 'invalidity_date goes only with status REVOKED');
    return { status: 'ACTIVE' };
  }
  if (status === 'REVOKED') {
    if (reason !== undefined && !isRevocationReason(reason)) {
      throw invalid(
        'REVOCATION_REASON_INVALID',
        `revocation_reason must be one of ${REVOCATION_REASONS_ACCEPTED.join(', ')}, got ${JSON.stringify(reason)}`,
      );
    }
    if (reason !== undefined) checkRevocationReason(reason);
    return {
      status: 'REVOKED',
      reason: reason ?? 'Unspecified',
      ...(invalidityDate === undefined ? {} : { invalidityDate: parseInvalidityDate(invalidityDate) }),
    };
  }
  if (status === 'EXPIRED' || status === 'ABOUT_TO_EXPIRE') {
    throw conflict(`${subject}_ILLEGAL_TRANSITION`, `${status} follows from the validity period and cannot be set`, {
      to: status,
    });
  }
  throw invalid('STATUS_INVALID', `status must be ACTIVE or REVOKED, got ${JSON.stringify(status)}`);
}

/** RemoveFromCRL names a released hold in a delta CRL (RFC 5280 5.3.1); nobody revokes with it. */
function checkRevocationReason(reason: RevocationReason): void {
  if (reason === 'RemoveFromCRL') {
    throw invalid(
      'REVOCATION_REASON_NOT_ALLOWED',
      `${reason} is not a reason to revoke: RFC 5280 keeps removeFromCRL for delta CRLs, where a released hold shows; release the hold with status ACTIVE instead`,
      { revocation_reason: reason },
    );
  }
}

/**
 * The transition rules: EXPIRED is terminal; REVOKED is final unless the reason is CertificateHold, which
 * can be lifted (back to ACTIVE) or made final with another reason. Throws a 409 DomainError
 * (CERTIFICATE_ILLEGAL_TRANSITION / CA_ILLEGAL_TRANSITION) for anything else, and a 400
 * REVOCATION_REASON_NOT_ALLOWED for RemoveFromCRL, whatever the caller (API or DMS manager).
 */
export function checkTransition(subject: TransitionSubject, from: StatusState, to: StatusRequest): void {
  if (to.status === 'REVOKED') checkRevocationReason(to.reason);
  if (from.status === 'EXPIRED') throw illegal(subject, from, to.status, 'EXPIRED is terminal');
  const held = from.status === 'REVOKED' && from.revocationReason === 'CertificateHold';
  if (to.status === 'ACTIVE') {
    if (!held) throw illegal(subject, from, to.status, 'only a CertificateHold can be lifted');
    return;
  }
  if (from.status === 'REVOKED') {
    if (!held) throw illegal(subject, from, to.status, 'the revocation is final');
    if (to.reason === 'CertificateHold') throw illegal(subject, from, to.status, 'already on hold');
  }
}
