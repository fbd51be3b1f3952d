import { sameDeltas } from '../../domain/ca/expiry-deltas.ts';
import { checkIssuanceSettings, type IssuanceProfile, type IssuanceSettings } from '../../domain/ca/issuance-profile.ts';
import { caEvent, CaEventType, publishAfterCommit } from './ca-events.ts';
import type { CaServiceDeps } from './ca-service-deps.ts';
import { getProfile } from './get-profile.ts';


export interface UpdateProfileInput {
  id: string;
  name: string;
  description?: string;
  settings: IssuanceSettings;
  actor: string;
}

/**
 * Replaces a profile's settings; certificates already issued keep what they got, except the expiration
 * deltas: a change of those re-plans, in the same transaction, the profile's certificates that follow
 * them. Settings without `expirationDeltas` keep the current deltas.
 */
export async function updateProfile(deps: CaServiceDeps, input: UpdateProfileInput): Promise<IssuanceProfile> {
  checkIssuanceSettings(input.settings);
  const current = await getProfile(deps, input.id);
  const profile: IssuanceProfile = {
    ...input.settings,
    expirationDeltas: input.settings.expirationDeltas === undefined ? (current.expirationDeltas ?? null) : input.settings.expirationDeltas,
    id: current.id,
    name: input.name,
    description: input.description ?? current.description,
    createdAt: current.createdAt,
    updatedAt: deps.clock.now(),
  };
  const replan = !sameDeltas(current.expirationDeltas, profile.expirationDeltas);
  const events = [caEvent(deps, CaEventType.profileUpdate, profile.id, { id: profile.id, name: profile.name }, input.actor)];
  const updated = await deps.storage.transaction(async (tx) => {
    if (!(await tx.issuanceProfiles.update(profile))) return false;
    if (replan) await tx.certificates.replanExpiry({ profileId: profile.id });
    await tx.outbox.append(events);
    return true;
  });
  if (!updated) {
    await getProfile(deps, input.id);
    return profile;
  }
  await publishAfterCommit(deps, events);
  return profile;
}
