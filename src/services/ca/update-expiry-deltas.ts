import type { CertificateAuthority } from '../../domain/ca/ca.ts';
import { checkExpiryDeltas, hasDeltas, type ExpiryDeltas } from '../../domain/ca/expiry-deltas.ts';
import { caEvent, caEventData, CaEventType, publishAfterCommit } from './ca-events.ts';
import type { CaServiceDeps } from './ca-service-deps.ts';
import { getCa } from './get-ca.ts';
import type { IssuingCaCache } from './issuing-ca-cache.ts';

export interface UpdateExpiryDeltasInput {
  id: string;
  /** null: no deltas of the CA's own. */
  deltas: ExpiryDeltas | null;
  actor: string;
}

/**
 * Sets a CA's expiration deltas and, in the same transaction, re-plans the certificates that follow them
 * (its own and those it issued without a profile's or a DMS's deltas), so the next sweep announces by the
 * new deltas. Announcements already made are not taken back.
 */
export async function updateExpiryDeltas(deps: CaServiceDeps, cache: IssuingCaCache, input: UpdateExpiryDeltasInput): Promise<CertificateAuthority> {
  const deltas = hasDeltas(input.deltas) ? input.deltas : null;
  if (deltas) checkExpiryDeltas(deltas);
  const ca = await getCa(deps, input.id);
  const replanned = await deps.storage.transaction(async (tx) => {
    await tx.cas.setExpiryDeltas(ca.id, deltas);
    return tx.certificates.replanExpiry({ caId: ca.id });
  });
  // New certificates read the CA's deltas from the cache.
  cache.invalidate([ca.id]);
  const updated = await getCa(deps, ca.id);
  await publishAfterCommit(deps, [caEvent(deps, CaEventType.caUpdate, ca.id, { ...caEventData(updated), expiration_deltas_replanned: replanned }, input.actor)]);
  return updated;
}

/**
 * A DMS changed its deltas: its certificates follow them (or, with none, their profile's or CA's). The DMS
 * manager calls this through its CA gateway after it stored the change.
 */
export async function replanDmsExpiry(deps: CaServiceDeps, dmsId: string, deltas: ExpiryDeltas | null): Promise<number> {
  if (hasDeltas(deltas)) checkExpiryDeltas(deltas);
  return deps.storage.certificates.replanExpiry({ dmsId, deltas: hasDeltas(deltas) ? deltas : null });
}
