import { caEvent, CaEventType, publishAfterCommit } from './ca-events.ts';
import type { CaServiceDeps } from './ca-service-deps.ts';
import { getProfile } from './get-profile.ts';

/** Throws PROFILE_NOT_FOUND, or PROFILE_IN_USE while a CA has it as its default. */
export async function deleteProfile(deps: CaServiceDeps, input: { id: string; actor: string }): Promise<void> {
  const events = [caEvent(deps, CaEventType.profileDelete, input.id, { id: input.id }, input.actor)];
  const deleted = await deps.storage.transaction(async (tx) => {
    const done = await tx.issuanceProfiles.delete(input.id);
    if (done) await tx.outbox.append(events);
    return done;
  });
  if (!deleted) {
    await getProfile(deps, input.id);
    return;
  }
  await publishAfterCommit(deps, events);
}
