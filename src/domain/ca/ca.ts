import type { Certificate } from './certificate.ts';
import type { ExpiryDeltas } from './expiry-deltas.ts';

/** The name of the internal CA that signs DMS certificates, created at first start. */
export const DMS_MANAGER_CA_NAME = 'LAMASSU-DMS-MANAGER';

/**
 * Each rotation of the internal CA adds a generation: LAMASSU-DMS-MANAGER is the first, then
 * LAMASSU-DMS-MANAGER-2, -3 ... The internal CA with the highest generation issues DMS certificates; the
 * older ones stay as they are, so that the DMS certificates they issued keep working until they expire.
 */
export const dmsManagerCaId = (generation: number): string => (generation === 1 ? DMS_MANAGER_CA_NAME : `${DMS_MANAGER_CA_NAME}-${generation}`);

/** The generation an internal CA id names (1 for LAMASSU-DMS-MANAGER), or undefined for any other id. */
export function dmsManagerCaGeneration(id: string): number | undefined {
  if (id === DMS_MANAGER_CA_NAME) return 1;
  const m = /^LAMASSU-DMS-MANAGER-([1-9][0-9]{0,8})$/.exec(id);
  return m && Number(m[1]) >= 2 ? Number(m[1]) : undefined;
}

export type CaType = 'MANAGED' | 'IMPORTED_WITH_KEY' | 'IMPORTED_WITHOUT_KEY';

/** A CA as stored: its own fields; its certificate (and so its status) is a certificate row. */
export interface CaRecord {
  id: string;
  certificateId: string;
  parentId: string | null;
  /** 0 for a root, parent's level + 1 below. */
  level: number;
  type: CaType;
  /** Engine and key id of the signing key; null for a CA imported without its key. */
  engineId: string | null;
  keyId: string | null;
  /** Internal CAs (LAMASSU-DMS-MANAGER) sign for Lamassu itself and cannot enroll devices. */
  internal: boolean;
  /** Default issuance profile; null means the built-in default. */
  profileId: string | null;
  /** Overrides the global about-to-expire threshold for certificates this CA issues. */
  aboutToExpireMs: number | null;
  /** Expiration deltas for its own certificate and those it issues (unless a profile or DMS has some). */
  expiryDeltas?: ExpiryDeltas | null;
  metadata: Record<string, unknown>;
  createdAt: Date;
}

export interface CertificateAuthority extends CaRecord {
  certificate: Certificate;
}

/** A CA signs only while it holds its key and its certificate is valid and not revoked. */
export const canSign = (ca: CertificateAuthority) =>
  ca.keyId !== null && (ca.certificate.status === 'ACTIVE' || ca.certificate.status === 'ABOUT_TO_EXPIRE');
