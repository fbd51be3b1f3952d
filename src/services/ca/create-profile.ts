import { checkIssuanceSettings, type IssuanceProfile, type IssuanceSettings } from '../../domain/ca/issuance-profile.ts';
import { invalid } from '../../domain/errors.ts';
import { idPattern } from '../../domain/id-limit.ts';
import { caEvent, CaEventType, publishAfterCommit } from './ca-events.ts';
import type { CaServiceDeps } from './ca-service-deps.ts';

export interface CreateProfileInput {
  id?: string;
  name: string;
  description?: string;
  settings: IssuanceSettings;
  actor: string;
}

const PROFILE_ID = idPattern();

export async function createProfile(deps: CaServiceDeps, input: CreateProfileInput): Promise<IssuanceProfile> {
  // Profile ids name routes (/profiles/{id}) like CA ids do.
  if (input.id !== undefined && !PROFILE_ID.test(input.id)) {
    throw invalid('PROFILE_ID_INVALID', 'profile id must be 1-128 characters of letters, digits, ".", "_" or "-", starting with a letter or digit');
  }
  checkIssuanceSettings(input.settings);
  const now = deps.clock.now();
  const profile: IssuanceProfile = {
    ...input.settings,
    id: input.id ?? deps.random.uuid(),
    name: input.name,
    description: input.description ?? '',
    createdAt: now,
    updatedAt: now,
  };
  const events = [caEvent(deps, CaEventType.profileCreate, profile.id, { id: profile.id, name: profile.name }, input.actor)];
  await deps.storage.transaction(async (tx) => {
    await tx.issuanceProfiles.insert(profile);
    await tx.outbox.append(events);
  });
  await publishAfterCommit(deps, events);
  return profile;
}
