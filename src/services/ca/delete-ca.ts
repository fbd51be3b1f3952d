/**
 * Lamassu's DELETE /cas/{id}: a CA that can no longer sign (EXPIRED or REVOKED) or never could (imported
 * without its key) leaves the CA list. Its certificate and those it issued stay in the inventory (CRLs
 * and audits need them). CAs below it must go first: Lamassu's cascade_delete is not offered.
 *
 * Retirement on top of Lamassu's rules:
 * - a CA that still has valid certificates (ACTIVE or ABOUT_TO_EXPIRE, issued by it) is not deleted (409
 *   CA_HAS_ACTIVE_CERTIFICATES), so that nothing valid loses its CA's OCSP and CRLs without being asked;
 * - `revokeCertificates` asks for exactly that: the CA, if it can still sign (or is on hold), is revoked
 *   with CessationOfOperation first (which revokes everything it issued, in one transaction), and whatever
 *   it issued that is still valid or on hold is revoked too, before the CA is deleted;
 * - its key stays in its engine unless `destroyKey` asks (and no other CA uses the same key).
 */
import type { CertificateAuthority } from '../../domain/ca/ca.ts';
import { conflict, forbidden } from '../../domain/errors.ts';
import type { CloudEvent } from '../../domain/ports/event-bus.ts';
import { caEvent, caEventData, CaEventType, changedCertificateEventData, publishAfterCommit } from './ca-events.ts';
import type { CaServiceDeps } from './ca-service-deps.ts';
import { getCa } from './get-ca.ts';
import type { IssuingCaCache } from './issuing-ca-cache.ts';
import { resolveEngine } from './engine-signer.ts';
import { updateCaStatus } from './update-ca-status.ts';

/** A deleted CA's id is never given again: its certificates (and CRL entries) still name it. */
export async function checkCaIdNotRetired(deps: Pick<CaServiceDeps, 'storage'>, id: string): Promise<void> {
  if (await deps.storage.certificates.mentionsCa(id)) {
    // A CA stored under this id since the caller looked (a concurrent create that won) is taken, not retired.
    if (await deps.storage.cas.get(id)) throw conflict('CA_EXISTS', `a CA with id "${id}" already exists`, { id });
    throw conflict('CA_ID_RETIRED', `"${id}" was the id of a deleted CA; its certificates still name it`, { id });
  }
}

export interface DeleteCaInput {
  id: string;
  actor: string;
  /** Revoke (CessationOfOperation) the CA and what it issued that is still valid, then delete. */
  revokeCertificates?: boolean;
  /** Delete the CA's key from its engine once the CA is deleted. */
  destroyKey?: boolean;
}

export interface DeleteCaResult {
  /** Certificates this deletion revoked (the CA's own included). */
  revoked: number;
  keyDestroyed: boolean;
}

export async function deleteCa(deps: CaServiceDeps, cache: IssuingCaCache, input: DeleteCaInput): Promise<DeleteCaResult> {
  let ca = await getCa(deps, input.id);
  if (ca.internal) throw forbidden('CA_INTERNAL', `"${ca.id}" is an internal CA; it cannot be deleted`, { id: ca.id });
  // Checked before anything is revoked: a refusal changes nothing.
  const below = (await deps.storage.cas.subtreeIds(ca.id)).filter((id) => id !== ca.id);
  if (below.length > 0) {
    throw conflict('CA_HAS_SUBORDINATES', `CA "${ca.id}" has subordinate CAs; delete them first`, { id: ca.id, subordinates: below.slice(0, 20) });
  }
  let revoked = 0;
  if (input.revokeCertificates) {
    revoked = await revokeForRetirement(deps, cache, ca, input.actor);
    ca = await getCa(deps, input.id);
  }
  const status = ca.certificate.status;
  if (!(status === 'EXPIRED' || status === 'REVOKED' || ca.type === 'IMPORTED_WITHOUT_KEY')) {
    throw conflict('CA_DELETE_NOT_ALLOWED', `CA "${ca.id}" is ${status}: only EXPIRED or REVOKED CAs (or CAs imported without key) can be deleted`, { id: ca.id, status });
  }
  const valid = await deps.storage.certificates.list({ issuerCaId: ca.id, status: ['ACTIVE', 'ABOUT_TO_EXPIRE'], pageSize: 1 });
  if (valid.list.length > 0) {
    throw conflict('CA_HAS_ACTIVE_CERTIFICATES', `CA "${ca.id}" has certificates that are still valid; revoke them first, or ask for it (revoke_certificates=true)`, { id: ca.id });
  }
  const events = [caEvent(deps, CaEventType.caDelete, ca.id, caEventData(ca), input.actor)];
  await deps.storage.transaction(async (tx) => {
    await tx.cas.delete(ca.id);
    await tx.outbox.append(events);
  });
  cache.invalidate([ca.id]);
  await publishAfterCommit(deps, events);
  return { revoked, keyDestroyed: input.destroyKey ? await destroyKey(deps, ca) : false };
}

/** Revokes the CA (if it can still sign, or is held) and then what it issued that is valid or held; how many rows changed. */
async function revokeForRetirement(deps: CaServiceDeps, cache: IssuingCaCache, ca: CertificateAuthority, actor: string): Promise<number> {
  let revoked = 0;
  const c = ca.certificate;
  const held = c.status === 'REVOKED' && c.revocationReason === 'CertificateHold';
  if (c.status === 'ACTIVE' || c.status === 'ABOUT_TO_EXPIRE' || held) {
    await updateCaStatus(deps, cache, { id: ca.id, request: { status: 'REVOKED', reason: 'CessationOfOperation' }, actor });
    revoked += 1;
  }
  // An expired CA, or one imported without its key, does not cascade by a status change: its certificates are revoked here.
  const events: CloudEvent[] = [];
  await deps.storage.transaction(async (tx) => {
    for (const r of await tx.certificates.revokeIssuedBy([ca.id], 'CessationOfOperation', deps.clock.now())) {
      events.push(caEvent(deps, CaEventType.certificateStatusUpdate, r.id, changedCertificateEventData(r, 'REVOKED', 'CessationOfOperation'), actor));
    }
    await tx.outbox.append(events);
  });
  await publishAfterCommit(deps, events);
  return revoked + events.length;
}

/** Deletes the CA's key unless another CA uses the same key; whether it did. */
async function destroyKey(deps: CaServiceDeps, ca: CertificateAuthority): Promise<boolean> {
  if (ca.keyId === null || ca.engineId === null) return false;
  for (let bookmark: string | undefined, more = true; more; ) {
    const page = await deps.storage.cas.list({ engineId: ca.engineId, pageSize: 1000, ...(bookmark ? { bookmark } : {}) });
    if (page.list.some((other) => other.id !== ca.id && other.keyId === ca.keyId)) {
      deps.logger.warn({ caId: ca.id, keyId: ca.keyId }, 'CA deleted; its key is kept: another CA uses it');
      return false;
    }
    more = page.next !== null;
    bookmark = page.next ?? undefined;
  }
  await resolveEngine(deps, ca.engineId).deleteKey(ca.keyId);
  return true;
}
