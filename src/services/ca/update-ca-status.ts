import type { CertificateAuthority } from '../../domain/ca/ca.ts';
import type { StatusRequest } from '../../domain/ca/certificate-status.ts';
import { forbidden } from '../../domain/errors.ts';
import type { Storage } from '../../domain/ports/storage.ts';
import type { CloudEvent } from '../../domain/ports/event-bus.ts';
import { caEvent, caEventData, CaEventType, publishAfterCommit, statusChangeEvent } from './ca-events.ts';
import type { CaServiceDeps } from './ca-service-deps.ts';
import { getCa } from './get-ca.ts';
import type { IssuingCaCache } from './issuing-ca-cache.ts';
import { applyStatusRequest } from './update-certificate-status.ts';

export interface UpdateCaStatusInput {
  id: string;
  request: StatusRequest;
  actor: string;
}

/**
 * Changes a CA's status; internal CAs refuse (403 CA_INTERNAL) and are rotated instead. A final revocation
 * cascades in the same transaction: every CA below it and every certificate any of them issued is revoked
 * with CessationOfOperation, so no reader ever sees half of it.
 * CertificateHold does not cascade: the CA cannot sign while held, and lifting the hold restores it whole.
 * One event per changed row (ca.status.update for CAs, certificate.status.update for the rest), after commit.
 */
export async function updateCaStatus(deps: CaServiceDeps, cache: IssuingCaCache, input: UpdateCaStatusInput): Promise<CertificateAuthority> {
  const ca = await getCa(deps, input.id);
  // Revoked or held, the internal CA could issue no DMS certificate, and would cascade to every one it issued.
  if (ca.internal) {
    throw forbidden('CA_INTERNAL', `CA "${ca.id}" is internal to Lamassu: its status cannot be changed; rotate it instead`, { id: ca.id });
  }
  const cascade = input.request.status === 'REVOKED' && input.request.reason !== 'CertificateHold';
  const { updated, events, touched } = await deps.storage.transaction(async (tx) => {
    const txDeps = { ...deps, storage: tx as Storage };
    const certificate = await applyStatusRequest(txDeps, ca.certificate, input.request, 'CA');
    const updated: CertificateAuthority = { ...ca, certificate };
    const events: CloudEvent[] = [caEvent(deps, CaEventType.caStatusUpdate, ca.id, caEventData(updated, ca.certificate.status), input.actor)];
    const touched = [ca.id];
    if (cascade) {
      const subtree = await tx.cas.subtreeIds(ca.id);
      touched.push(...subtree);
      const revoked = [
        ...(await tx.certificates.revokeIssuedBy(subtree, 'CessationOfOperation', certificate.revokedAt!)),
        // Certificates a reissue replaced carry the same key: they go with the CA.
        ...(await tx.certificates.revokeCaCertificates(subtree, 'CessationOfOperation', certificate.revokedAt!)),
      ];
      for (const r of revoked) events.push(statusChangeEvent(deps, r, 'REVOKED', 'CessationOfOperation', input.actor));
    }
    await tx.outbox.append(events);
    return { updated, events, touched };
  });
  cache.invalidate(touched);
  await publishAfterCommit(deps, events);
  return updated;
}
