import type { CertificateAuthority } from '../../domain/ca/ca.ts';
import { forbidden, notFound } from '../../domain/errors.ts';
import { caEvent, caEventData, CaEventType, publishAfterCommit } from './ca-events.ts';
import type { CaServiceDeps } from './ca-service-deps.ts';
import { getCa } from './get-ca.ts';
import type { IssuingCaCache } from './issuing-ca-cache.ts';

/**
 * Lamassu's POST /cas/{id}/profile: the issuance profile the CA applies when a request names none. The
 * profile must exist; certificates issued before keep what they were issued with. Internal CAs keep theirs.
 */
export async function updateCaProfile(deps: CaServiceDeps, cache: IssuingCaCache, input: { id: string; profileId: string; actor: string }): Promise<CertificateAuthority> {
  const ca = await getCa(deps, input.id);
  if (ca.internal) throw forbidden('CA_INTERNAL', `"${ca.id}" is an internal CA; its profile is fixed`, { id: ca.id });
  await cache.profile(input.profileId);
  const events = [caEvent(deps, CaEventType.caUpdate, ca.id, { ...caEventData(ca), profile_id: input.profileId }, input.actor)];
  await deps.storage.transaction(async (tx) => {
    if (!(await tx.cas.setProfileId(ca.id, input.profileId))) throw notFound('CA_NOT_FOUND', `no CA "${ca.id}"`, { id: ca.id });
    await tx.outbox.append(events);
  });
  cache.invalidate([ca.id]);
  const updated = await getCa(deps, ca.id);
  await publishAfterCommit(deps, events);
  return updated;
}
