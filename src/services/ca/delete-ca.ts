/**
 * Lamassu's DELETE /cas/{id}: a CA that can no longer sign (EXPIRED or REVOKED) or never could (imported
 * without its key) leaves the CA list. Its certificate and those it issued stay in the inventory (CRLs
 * and audits need them); its key stays in its engine (a key may back another import of the same CA).
 * CAs below it must go first: Lamassu's cascade_delete is not offered.
 */
import { conflict, forbidden } from '../../domain/errors.ts';
import { caEvent, caEventData, CaEventType, publishAfterCommit } from './ca-events.ts';
import type { CaServiceDeps } from './ca-service-deps.ts';
import { getCa } from './get-ca.ts';
import type { IssuingCaCache } from './issuing-ca-cache.ts';

/** A deleted CA's id is never given again: its certificates (and CRL entries) still name it. */
export async function checkCaIdNotRetired(deps: Pick<CaServiceDeps, 'storage'>, id: string): Promise<void> {
  if (await deps.storage.certificates.mentionsCa(id)) {
    // A CA stored under this id since the caller looked (a concurrent create that won) is taken, not retired.
    if (await deps.storage.cas.get(id)) throw conflict('CA_EXISTS', `a CA with id "${id}" already exists`, { id });
    throw conflict('CA_ID_RETIRED', `"${id}" was the id of a deleted CA; its certificates still name it`, { id });
  }
}

export async function deleteCa(deps: CaServiceDeps, cache: IssuingCaCache, input: { id: string; actor: string }): Promise<void> {
  const ca = await getCa(deps, input.id);
  if (ca.internal) throw forbidden('CA_INTERNAL', `"${ca.id}" is an internal CA; it cannot be deleted`, { id: ca.id });
  const status = ca.certificate.status;
  if (!(status === 'EXPIRED' || status === 'REVOKED' || ca.type === 'IMPORTED_WITHOUT_KEY')) {
    throw conflict('CA_DELETE_NOT_ALLOWED', `CA "${ca.id}" is ${status}: only EXPIRED or REVOKED CAs (or CAs imported without key) can be deleted`, { id: ca.id, status });
  }
  const below = (await deps.storage.cas.subtreeIds(ca.id)).filter((id) => id !== ca.id);
  if (below.length > 0) {
    throw conflict('CA_HAS_SUBORDINATES', `CA "${ca.id}" has subordinate CAs; delete them first`, { id: ca.id, subordinates: below.slice(0, 20) });
  }
  const events = [caEvent(deps, CaEventType.caDelete, ca.id, caEventData(ca), input.actor)];
  await deps.storage.transaction(async (tx) => {
    await tx.cas.delete(ca.id);
    await tx.outbox.append(events);
  });
  cache.invalidate([ca.id]);
  await publishAfterCommit(deps, events);
}
