/**
 * RFC 5280 5.3.1 CRLReason, shared by CRL entries and OCSP RevokedInfo. Code 7 is unassigned.
 */
export type CrlReason =
  | 'unspecified'
  | 'keyCompromise'
  | 'cACompromise'
  | 'affiliationChanged'
  | 'superseded'
  | 'cessationOfOperation'
  | 'certificateHold'
  | 'removeFromCRL'
  | 'privilegeWithdrawn'
  | 'aACompromise';

export const crlReasonCodes: Readonly<Record<CrlReason, number>> = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  removeFromCRL: 8,
  privilegeWithdrawn: 9,
  aACompromise: 10,
};

const byCode = new Map(Object.entries(crlReasonCodes).map(([name, code]) => [code, name as CrlReason]));

/** The reason for a code, or undefined for 7 and anything outside 0..10. */
export const crlReasonFromCode = (code: number): CrlReason | undefined => byCode.get(code);

export function crlReasonCode(reason: CrlReason): number {
  const code = crlReasonCodes[reason];
  if (code === undefined) throw new RangeError(`unknown CRL reason ${String(reason)}`);
  return code;
}
