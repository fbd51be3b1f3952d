/**
 * A DMS (Device Manufacturing System) is a local registration authority: it may ask for device
 * certificates from the CAs it is authorized for, under its own enrollment rules.
 */
import type { ExpiryDeltas } from '../ca/expiry-deltas.ts';
import type { KeySpec } from '../ports/key-engine.ts';

export type RegistrationMode = 'JITP' | 'PRE_REGISTRATION';
export const REGISTRATION_MODES: readonly RegistrationMode[] = ['JITP', 'PRE_REGISTRATION'];

export type EnrollmentAuthMode = 'DMS_CERTIFICATE' | 'CLIENT_CERTIFICATE' | 'HTTP_BASIC' | 'EXTERNAL_WEBHOOK' | 'NO_AUTH';
export const ENROLLMENT_AUTH_MODES: readonly EnrollmentAuthMode[] = [
  'DMS_CERTIFICATE',
  'CLIENT_CERTIFICATE',
  'HTTP_BASIC',
  'EXTERNAL_WEBHOOK',
  'NO_AUTH',
];

/** Which subject attribute of the CSR names the device. */
export type DeviceIdSource = 'common_name' | 'serial_number';
export const DEVICE_ID_SOURCES: readonly DeviceIdSource[] = ['common_name', 'serial_number'];

export const DEFAULT_SLOT = 'default';

export interface EnrollmentSettings {
  enrollmentCaId: string;
  registrationMode: RegistrationMode;
  authMode: EnrollmentAuthMode;
  /** CLIENT_CERTIFICATE: bootstrap certificates (e.g. IDevIDs) must chain to one of these CAs. */
  clientCertificate: {
    validationCaIds: string[];
    allowExpired: boolean;
    /** Lamassu's chain_level_validation (-1 when not given): above 0, how many presented certificates (leaf first) may be used to reach a validation CA. */
    chainLevelValidation?: number;
  };
  /** HTTP_BASIC: only the hash of the password is kept. */
  httpBasic: { username: string; passwordHash: string } | null;
  /** EXTERNAL_WEBHOOK: POSTed the request's facts, answers {"authorized": true|false}. */
  webhook: {
    url: string;
    timeoutMs: number;
    /** Lamassu's `external_webhook` name and plain config (auth_mode NoAuth only), kept to be shown back. */
    lamassu?: { name: string; config: Record<string, string | number | boolean> };
  } | null;
  verifyCsrSignature: boolean;
  /** Whether an enrollment may give an already enrolled device a new identity. */
  allowReplacement: boolean;
  deviceIdSource: DeviceIdSource;
  /** Tags, metadata and (Lamassu) console icon and colours given to devices created by JITP. */
  deviceProfile: { tags: string[]; metadata: Record<string, unknown>; icon?: string; iconColor?: string };
}

export interface ReenrollmentSettings {
  /** Re-enrollment is allowed from notAfter - windowMs on. */
  windowMs: number;
  allowExpired: boolean;
  revokeSuperseded: boolean;
  /** CAs besides the enrollment CA whose certificates may re-enroll. */
  additionalValidationCaIds: string[];
  /** reenrollment_delta as the client wrote it ("7d", "168h"), shown back unchanged. */
  windowText?: string;
  /**
   * Lamassu's expiration deltas as the client wrote them (e.g. "31d"), shown back unchanged; what the sweep
   * follows is `DmsSettings.expiryDeltas`, parsed from the same fields.
   */
  preventiveDelta?: string;
  criticalDelta?: string;
}

export interface ServerKeygenSettings {
  enabled: boolean;
  /** Key used when the request does not say; must be among `allowedKeys`. */
  defaultKey: KeySpec;
  allowedKeys: KeySpec[];
}

export interface CaDistributionSettings {
  includeEnrollmentCa: boolean;
  /** Also return the enrollment CA's issuers up to the root. */
  includeChain: boolean;
  /** Lamassu's include_system_ca: EST cacerts also carries the CA of the server's HTTPS certificate. */
  includeSystemCa?: boolean;
  managedCaIds: string[];
}

export interface DmsSettings {
  enrollment: EnrollmentSettings;
  reenrollment: ReenrollmentSettings;
  serverKeygen: ServerKeygenSettings;
  caDistribution: CaDistributionSettings;
  /** Issuance profile of the CA service; null uses the enrollment CA's own. */
  issuanceProfileId: string | null;
  /**
   * Expiration deltas (Lamassu's reenrollment_settings.preventive_delta / critical_delta) for the certificates
   * enrolled through this DMS, over the profile's and the CA's; absent or null: theirs.
   */
  expiryDeltas?: ExpiryDeltas | null;
}

/** The DMS's own certificate, issued by LAMASSU-DMS-MANAGER; the CA service holds its status. */
export interface DmsCertificateRef {
  serialNumber: string;
  issuerCaId: string;
}

export interface Dms {
  id: string;
  name: string;
  metadata: Record<string, unknown>;
  authorizedCaIds: string[];
  settings: DmsSettings;
  certificate: DmsCertificateRef | null;
  createdAt: Date;
  updatedAt: Date;
}

export const DEFAULT_REENROLLMENT: ReenrollmentSettings = {
  windowMs: 30 * 86_400_000,
  allowExpired: false,
  revokeSuperseded: true,
  additionalValidationCaIds: [],
};

export const DEFAULT_SERVER_KEYGEN: ServerKeygenSettings = {
  enabled: true,
  defaultKey: { type: 'ECDSA', bits: 256 },
  allowedKeys: [
    { type: 'ECDSA', bits: 256 },
    { type: 'ECDSA', bits: 384 },
    { type: 'RSA', bits: 2048 },
    { type: 'RSA', bits: 3072 },
  ],
};
