import type { CertificateAuthority } from '../../domain/ca/ca.ts';
import type { Certificate } from '../../domain/ca/certificate.ts';
import { notFound } from '../../domain/errors.ts';
import { applyMetadataChange, type MetadataChange } from '../../domain/metadata-patch.ts';
import { caEvent, CaEventType, publishAfterCommit } from './ca-events.ts';
import type { CaServiceDeps } from './ca-service-deps.ts';
import { getCa } from './get-ca.ts';
import { getCertificate } from './get-certificate.ts';

export interface UpdateMetadataInput {
  change: MetadataChange;
  actor: string;
}

/** Replace, merge or JSON-patch a CA's metadata (Lamassu's PUT/PATCH /cas/{id}/metadata). */
export async function updateCaMetadata(deps: CaServiceDeps, input: UpdateMetadataInput & { id: string }): Promise<CertificateAuthority> {
  // The change and its event commit together (outbox).
  const events = await deps.storage.transaction(async (tx) => {
    const metadata = await tx.cas.updateMetadata(input.id, (m) => applyMetadataChange(m, input.change));
    if (metadata === undefined) throw notFound('CA_NOT_FOUND', `no CA "${input.id}"`, { id: input.id });
    const events = [caEvent(deps, CaEventType.caMetadataUpdate, input.id, { id: input.id, metadata }, input.actor)];
    await tx.outbox.append(events);
    return events;
  });
  const ca = await getCa(deps, input.id);
  await publishAfterCommit(deps, events);
  return ca;
}

/** The same for a certificate, found by serial (and issuer when several CAs used the serial). */
export async function updateCertificateMetadata(
  deps: CaServiceDeps,
  input: UpdateMetadataInput & { serialNumber: string; issuerCaId?: string },
): Promise<Certificate> {
  const cert = await getCertificate(deps, input.serialNumber, input.issuerCaId);
  const { metadata, events } = await deps.storage.transaction(async (tx) => {
    const metadata = await tx.certificates.updateMetadata(cert.id, (m) => applyMetadataChange(m, input.change));
    if (metadata === undefined) throw notFound('CERTIFICATE_NOT_FOUND', `no certificate with serial ${input.serialNumber}`, { serial_number: input.serialNumber });
    const data = { id: cert.id, serial_number: cert.serialNumber, issuer_ca_id: cert.issuerCaId, metadata };
    const events = [caEvent(deps, CaEventType.certificateMetadataUpdate, cert.serialNumber, data, input.actor)];
    await tx.outbox.append(events);
    return { metadata, events };
  });
  await publishAfterCommit(deps, events);
  return { ...cert, details: { ...cert.details, metadata } };
}
