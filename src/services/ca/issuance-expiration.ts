/**
 * Lamassu v2.8's per-CA issuance expiration (`PUT /cas/{id}/issuance-expiration`, `issuance_expiration` on
 * create), mapped onto issuance profiles: the CA gets a profile of its own (`<id>.issuance`), copied from
 * its current default profile (or the server's default issuance) with the new validity, and made its
 * default. A profile other CAs share is never changed by this.
 */
import type { CertificateAuthority } from '../../domain/ca/ca.ts';
import { checkValidity, type Validity } from '../../domain/ca/duration.ts';
import { checkIssuanceSettings, type IssuanceSettings } from '../../domain/ca/issuance-profile.ts';
import { notFound } from '../../domain/errors.ts';
import { caEvent, CaEventType, publishAfterCommit } from './ca-events.ts';
import type { CaServiceDeps } from './ca-service-deps.ts';
import { getCa } from './get-ca.ts';
import type { IssuingCaCache } from './issuing-ca-cache.ts';

/** The id of the profile that carries one CA's own issuance expiration. */
export const ownProfileId = (caId: string) => `${caId}.issuance`;

const settingsOf = (p: IssuanceSettings): IssuanceSettings => {
  const { id: _i, name: _n, description: _d, createdAt: _c, updatedAt: _u, ...settings } = p as IssuanceSettings & Record<string, unknown>;
  return settings as IssuanceSettings;
};

/** The validity certificates issued by the CA get by default (its default profile's, or the server's). */
export async function issuanceExpirationOf(deps: CaServiceDeps, ca: CertificateAuthority): Promise<Validity> {
  if (ca.profileId === null) return deps.settings.defaultIssuance.validity;
  return (await deps.storage.issuanceProfiles.get(ca.profileId))?.validity ?? deps.settings.defaultIssuance.validity;
}

export async function updateIssuanceExpiration(
  deps: CaServiceDeps,
  cache: IssuingCaCache,
  input: { id: string; validity: Validity; actor: string },
): Promise<CertificateAuthority> {
  checkValidity(input.validity);
  const ca = await getCa(deps, input.id);
  const ownId = ownProfileId(ca.id);
  const current = ca.profileId === null ? undefined : await deps.storage.issuanceProfiles.get(ca.profileId);
  const settings: IssuanceSettings = { ...(current ? settingsOf(current) : deps.settings.defaultIssuance), validity: input.validity };
  checkIssuanceSettings(settings);
  const now = deps.clock.now();
  const events = [caEvent(deps, CaEventType.caUpdate, ca.id, { id: ca.id, profile_id: ownId, issuance_expiration: input.validity }, input.actor)];
  await deps.storage.transaction(async (tx) => {
    if (current && current.id === ownId) {
      await tx.issuanceProfiles.update({ ...current, ...settings, updatedAt: now });
    } else {
      const existing = await tx.issuanceProfiles.get(ownId);
      const profile = { ...settings, id: ownId, name: `Issuance of CA ${ca.id}`, description: 'issuance_expiration of this CA (Lamassu)', createdAt: existing?.createdAt ?? now, updatedAt: now };
      if (existing) await tx.issuanceProfiles.update(profile);
      else await tx.issuanceProfiles.insert(profile);
      if (!(await tx.cas.setProfileId(ca.id, ownId))) throw notFound('CA_NOT_FOUND', `no CA "${ca.id}"`, { id: ca.id });
    }
    await tx.outbox.append(events);
  });
  cache.forgetProfile(ownId);
  cache.invalidate([ca.id]);
  const updated = await getCa(deps, ca.id);
  await publishAfterCommit(deps, events);
  return updated;
}
