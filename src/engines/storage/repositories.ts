import type { Kysely } from 'kysely';
import type { Repositories } from '../../domain/ports/storage.ts';
import { SqlAdminTokenRepository } from './admin-token-repository.ts';
import { SqlAlertRepository } from './alert-repository.ts';
import { SqlCaRepository } from './ca-repository.ts';
import { SqlConnectorRepository } from './cloud-connector-repository.ts';
import { SqlCertificateRepository } from './certificate-repository.ts';
import { SqlDeviceGroupRepository } from './device-group-repository.ts';
import { SqlDeviceRepository } from './device-repository.ts';
import { SqlDmsRepository } from './dms-repository.ts';
import { SqlKmsKeyRepository } from './kms-key-repository.ts';
import { SqlIssuanceProfileRepository } from './issuance-profile-repository.ts';
import { SqlLeaseRepository } from './lease-repository.ts';
import { SqlOutboxRepository } from './outbox-repository.ts';
import { SqlRevokedCertificateReader } from './revoked-certificate-reader.ts';
import type { Database } from './schema.ts';
import { SqlCrlRepository, SqlOcspResponderRepository, SqlVaRoleRepository } from './va-repositories.ts';

/**
 * Builds every repository over `db`, which is the pool or one open transaction. To add a repository:
 * add its port to `Repositories` (src/domain/ports/storage.ts) and one line here.
 */
export function createRepositories(db: Kysely<Database>): Repositories {
  return {
    leases: new SqlLeaseRepository(db),
    adminTokens: new SqlAdminTokenRepository(db),
    cas: new SqlCaRepository(db),
    certificates: new SqlCertificateRepository(db),
    issuanceProfiles: new SqlIssuanceProfileRepository(db),
    dms: new SqlDmsRepository(db),
    devices: new SqlDeviceRepository(db),
    deviceGroups: new SqlDeviceGroupRepository(db),
    revokedCertificates: new SqlRevokedCertificateReader(db),
    vaRoles: new SqlVaRoleRepository(db),
    crls: new SqlCrlRepository(db),
    ocspResponders: new SqlOcspResponderRepository(db),
    outbox: new SqlOutboxRepository(db),
    alerts: new SqlAlertRepository(db),
    kmsKeys: new SqlKmsKeyRepository(db),
    connectors: new SqlConnectorRepository(db),
  };
}
