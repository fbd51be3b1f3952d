import type { IssuanceProfile } from './issuance-profile.ts';

export interface IssuanceProfileRepository {
  /** Throws PROFILE_EXISTS (409) for a taken id. */
  insert(profile: IssuanceProfile): Promise<void>;
  get(id: string): Promise<IssuanceProfile | undefined>;
  list(): Promise<IssuanceProfile[]>;
  /** False when there is no such profile. */
  update(profile: IssuanceProfile): Promise<boolean>;
  /** False when there is no such profile; throws PROFILE_IN_USE (409) while a CA uses it. */
  delete(id: string): Promise<boolean>;
}
