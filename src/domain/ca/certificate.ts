import type { KeyType } from '../ports/key-engine.ts';
import type { CertificateStatus } from './certificate-status.ts';
import type { ExpiryPlan } from './expiry-deltas.ts';
import type { RevocationReason } from './revocation-reason.ts';
import type { Subject } from './subject.ts';

/**
 * Where a certificate's key lives: MANAGED (issued here or a CA created here, key in an engine or with the
 * holder), IMPORTED_WITH_KEY / IMPORTED_WITHOUT_KEY (CAs brought in), EXTERNAL (tracked only).
 */
export type CertificateType = 'MANAGED' | 'IMPORTED_WITH_KEY' | 'IMPORTED_WITHOUT_KEY' | 'EXTERNAL';

/**
 * The narrow, indexed part of a certificate: what status sweeps, lists and lookups need. Kept apart from
 * the bytes so that status changes never rewrite them.
 */
export interface CertificateRecord {
  id: string;
  /** Lowercase hex, no colons, no leading zero bytes. */
  serialNumber: string;
  /** The CA that issued it; null when the issuer is not a CA of ours (external certificates). */
  issuerCaId: string | null;
  /** Set when this is the certificate of one of our CAs. */
  caId: string | null;
  status: CertificateStatus;
  notBefore: Date;
  notAfter: Date;
  /** When the status turns ABOUT_TO_EXPIRE: notAfter minus the CA's (or the global) threshold. */
  aboutToExpireAt: Date;
  revokedAt: Date | null;
  revocationReason: RevocationReason | null;
  /** RFC 5280 5.3.2: when the certificate became invalid (key compromise), if the revoker said; only on REVOKED. */
  invalidityDate?: Date;
  subjectCommonName: string;
  /** Lowercase hex. */
  subjectKeyId: string;
  authorityKeyId: string | null;
  keyType: KeyType;
  keyBits: number;
  isCa: boolean;
  type: CertificateType;
  /** Engine holding the private key when we hold it. */
  engineId: string | null;
  createdAt: Date;
  /** Expiration deltas that govern it and how far their announcements went; absent: none. */
  expiry?: ExpiryPlan;
}

/** Decoded facts kept with the bytes, so that listing does not parse every certificate. */
export interface CertificateDetails {
  subject: Subject;
  issuer: Subject;
  keyUsage: string[];
  extendedKeyUsage: string[];
  /** Free-form labels (Lamassu's metadata). */
  metadata: Record<string, unknown>;
}

export interface Certificate extends CertificateRecord {
  der: Uint8Array;
  details: CertificateDetails;
}
