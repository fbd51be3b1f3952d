import { revocationReasonCode, type RevocationReason } from '../../domain/ca/revocation-reason.ts';
import { crlReasonFromCode, type CrlReason } from '../../x509/crl-reason.ts';

/** Lamassu's reason name as the CRL/OCSP encoder spells it (same RFC 5280 code). */
export const crlReasonOf = (r: RevocationReason): CrlReason => crlReasonFromCode(revocationReasonCode(r)) ?? 'unspecified';

/** Lowercase hex without leading zeros: the CA service's serial form. */
export function canonicalSerial(hex: string): string {
  const s = hex.toLowerCase().replace(/^0+/, '');
  return s === '' ? '0' : s;
}
