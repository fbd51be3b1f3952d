import type { CaRecord, CertificateAuthority } from '../../domain/ca/ca.ts';
import type { Certificate } from '../../domain/ca/certificate.ts';
import { caEvent, caEventData, publishAfterCommit } from './ca-events.ts';
import type { CaServiceDeps } from './ca-service-deps.ts';

/**
 * Stores a new CA (its certificate row and its CA row) in one transaction, then announces it with
 * `eventType` (`ca.create` or `ca.import`). Shared by creation and import so both commit and publish alike.
 */
export async function storeNewCa(
  deps: CaServiceDeps,
  cert: Certificate,
  record: CaRecord,
  eventType: string,
  actor: string,
): Promise<CertificateAuthority> {
  const ca: CertificateAuthority = { ...record, certificate: cert };
  const events = [caEvent(deps, eventType, record.id, caEventData(ca), actor)];
  await deps.storage.transaction(async (tx) => {
    await tx.certificates.insert(cert);
    await tx.cas.insert(record);
    await tx.outbox.append(events);
  });
  await publishAfterCommit(deps, events);
  return ca;
}
