/**
 * RFC 5280 CRLReason (5.3.1), named as Lamassu names them in its API. Value 7 is unused by the RFC.
 */
export const REVOCATION_REASONS = {
  Unspecified: 0,
  KeyCompromise: 1,
  CACompromise: 2,
  AffiliationChanged: 3,
  Superseded: 4,
  CessationOfOperation: 5,
  CertificateHold: 6,
  RemoveFromCRL: 8,
  PrivilegeWithdrawn: 9,
  AACompromise: 10,
} as const;

export type RevocationReason = keyof typeof REVOCATION_REASONS;

export const REVOCATION_REASON_NAMES = Object.keys(REVOCATION_REASONS) as RevocationReason[];

/**
 * The reasons an operator can revoke with. removeFromCRL is no reason to revoke (RFC 5280 5.3.1): it only
 * appears in a delta CRL, for a certificate released from hold, and releasing a hold is how it comes about.
 */
export const REVOCATION_REASONS_ACCEPTED = REVOCATION_REASON_NAMES.filter((r) => r !== 'RemoveFromCRL');

export const isRevocationReason = (s: unknown): s is RevocationReason =>
  typeof s === 'string' && Object.hasOwn(REVOCATION_REASONS, s);

/** The CRLReason code, for CRL entries and OCSP responses. */
export const revocationReasonCode = (r: RevocationReason): number => REVOCATION_REASONS[r];
