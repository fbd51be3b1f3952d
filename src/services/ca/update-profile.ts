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

/** Replaces a profile's settings; certificates already issued keep what they got. */
export async function updateProfile(deps: CaServiceDeps, input: UpdateProfileInput): Promise<IssuanceProfile> {
  checkIssuanceSettings(input.settings);
  const current = await getProfile(deps, input.id);
  const profile: IssuanceProfile = {
    ...input.settings,
    id: current.id,
    name: input.name,
    description: input.description ?? current.description,
    createdAt: current.createdAt,
    updatedAt: deps.clock.now(),
  };
  const events = [caEvent(deps, CaEventType.profileUpdate, profile.id, { id: profile.id, name: profile.name }, input.actor)];
  const updated = await deps.storage.transaction(async (tx) => {
    const done = await tx.issuanceProfiles.update(profile);
    if (done) await tx.outbox.append(events);
    return done;
  });
  if (!updated) {
    await getProfile(deps, input.id);
    return profile;
  }
  await publishAfterCommit(deps, events);
  return profile;
}
