import type { RevocationReason } from './revocation-reason.ts';

/** One revoked certificate as a CRL lists it. */
export interface RevokedEntry {
  serialNumber: string;
  revokedAt: Date;
  reason: RevocationReason;
  /** RFC 5280 5.3.2, when the revoker gave one. */
  invalidityDate?: Date;
}

/**
 * Reads a CA's revoked certificates in serial order, one bounded page at a time, so that CRL generation
 * streams: memory stays flat however many there are.
 */
export interface RevokedCertificateReader {
  /** Up to `limit` entries of `issuerCaId` with serial > `afterSerial` (all when null); `since` keeps those revoked at or after it. */
  page(issuerCaId: string, afterSerial: string | null, limit: number, since?: Date): Promise<RevokedEntry[]>;
}
