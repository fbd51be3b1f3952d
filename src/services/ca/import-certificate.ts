import type { Certificate } from '../../domain/ca/certificate.ts';
import { caEvent, CaEventType, certificateEventData, publishAfterCommit } from './ca-events.ts';
import type { CaServiceDeps } from './ca-service-deps.ts';
import { certificateFromDer, findIssuerCa, readCertificateInput } from './certificate-from-der.ts';

export interface ImportCertificateInput {
  certificate: string | Uint8Array;
  metadata?: Record<string, unknown>;
  actor: string;
}

/** Tracks a certificate issued elsewhere (type EXTERNAL); linked to one of our CAs when its AKI matches. */
export async function importCertificate(deps: CaServiceDeps, input: ImportCertificateInput): Promise<Certificate> {
  const parsed = readCertificateInput(input.certificate);
  const issuer = await findIssuerCa(deps, parsed);
  const cert = certificateFromDer(deps, parsed, {
    issuerCaId: issuer?.id ?? null,
    caId: null,
    type: 'EXTERNAL',
    engineId: null,
    aboutToExpireMs: issuer?.aboutToExpireMs ?? deps.settings.aboutToExpireMs,
    metadata: input.metadata ?? {},
  });
  // Linked to a CA of ours: it follows that CA's expiration deltas, like what the CA issues.
  const deltas = issuer?.expiryDeltas ?? null;
  if (deltas) cert.expiry = { source: 'ca', deltas, stage: 'none', profileId: null, dmsId: null };
  const events = [caEvent(deps, CaEventType.certificateImport, cert.id, certificateEventData(cert), input.actor)];
  await deps.storage.certificates.insertMany([cert], events);
  await publishAfterCommit(deps, events);
  return cert;
}
