import type { Certificate } from './certificate.ts';

/** The name of the internal CA that signs DMS certificates, created at first start. */
export const DMS_MANAGER_CA_NAME = 'LAMASSU-DMS-MANAGER';

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
  metadata: Record<string, unknown>;
  createdAt: Date;
}

export interface CertificateAuthority extends CaRecord {
  certificate: Certificate;
}

/** A CA signs only while it holds its key and its certificate is valid and not revoked. */
export const canSign = (ca: CertificateAuthority) =>
  ca.keyId !== null && (ca.certificate.status === 'ACTIVE' || ca.certificate.status === 'ABOUT_TO_EXPIRE');
