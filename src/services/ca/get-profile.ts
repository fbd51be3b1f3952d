import type { IssuanceProfile } from '../../domain/ca/issuance-profile.ts';
import { notFound } from '../../domain/errors.ts';
import type { CaServiceDeps } from './ca-service-deps.ts';

export async function getProfile(deps: Pick<CaServiceDeps, 'storage'>, id: string): Promise<IssuanceProfile> {
  const profile = await deps.storage.issuanceProfiles.get(id);
  if (!profile) throw notFound('PROFILE_NOT_FOUND', `no issuance profile "${id}"`, { id });
  return profile;
}

export const listProfiles = (deps: Pick<CaServiceDeps, 'storage'>): Promise<IssuanceProfile[]> => deps.storage.issuanceProfiles.list();
