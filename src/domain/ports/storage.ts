import type { AlertRepository } from '../alerts/alert-repository.ts';
import type { ConnectorRepository } from '../cloud/connector.ts';
import type { CaRepository } from '../ca/ca-repository.ts';
import type { CertificateRepository } from '../ca/certificate-repository.ts';
import type { IssuanceProfileRepository } from '../ca/issuance-profile-repository.ts';
import type { RevokedCertificateReader } from '../ca/revoked-certificate-reader.ts';
import type { DeviceGroupRepository } from '../devices/device-group-repository.ts';
import type { DeviceRepository } from '../devices/device-repository.ts';
import type { DmsRepository } from '../dms/dms-repository.ts';
import type { KmsKeyRepository } from '../kms/kms-key.ts';
import type { CrlRepository } from '../va/crl-record.ts';
import type { OcspResponderRepository } from '../va/ocsp-responder-record.ts';
import type { VaRoleRepository } from '../va/va-role-repository.ts';
import type { AdminTokenRepository } from './admin-token.ts';
import type { LeaseRepository } from './lease.ts';
import type { OutboxRepository } from './outbox.ts';

/**
 * Every repository the services use. Each service issue adds its own repositories here; the storage
 * engine builds them for both dialects.
 */
export interface Repositories {
  leases: LeaseRepository;
  adminTokens: AdminTokenRepository;
  cas: CaRepository;
  certificates: CertificateRepository;
  issuanceProfiles: IssuanceProfileRepository;
  dms: DmsRepository;
  devices: DeviceRepository;
  deviceGroups: DeviceGroupRepository;
  revokedCertificates: RevokedCertificateReader;
  vaRoles: VaRoleRepository;
  crls: CrlRepository;
  ocspResponders: OcspResponderRepository;
  /** Events written with their change, for the relay (see ports/outbox.ts). */
  outbox: OutboxRepository;
  alerts: AlertRepository;
  kmsKeys: KmsKeyRepository;
  /** Cloud proxy: connector registry, connector jobs, cloud resources. */
  connectors: ConnectorRepository;
}

export interface Storage extends Repositories {
  readonly dialect: 'sqlite' | 'postgres';
  /** Runs `fn` in one database transaction: all of its writes commit together or none do. */
  transaction<T>(fn: (tx: Repositories) => Promise<T>): Promise<T>;
  /** Cheap round trip for /health. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
