import { caEvent, CaEventType, publishAfterCommit } from './ca-events.ts';
import type { CaServiceDeps } from './ca-service-deps.ts';
import { getProfile } from './get-profile.ts';

/** Throws PROFILE_NOT_FOUND, or PROFILE_IN_USE while a CA has it as its default. */
export async function deleteProfile(deps: CaServiceDeps, input: { id: string; actor: string }): Promise<void> {
  if (!(await deps.storage.issuanceProfiles.delete(input.id))) await getProfile(deps, input.id);
  await publishAfterCommit(deps, [caEvent(deps, CaEventType.profileDelete, input.id, { id: input.id }, input.actor)]);
}
