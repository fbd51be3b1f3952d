import type { CertificateAuthority } from '../../domain/ca/ca.ts';
import { invalid } from '../../domain/errors.ts';
import { caEvent, caEventData, CaEventType, publishAfterCommit } from './ca-events.ts';
import type { CaServiceDeps } from './ca-service-deps.ts';
import { getCa } from './get-ca.ts';
import type { IssuingCaCache } from './issuing-ca-cache.ts';

export interface UpdateAboutToExpireInput {
  id: string;
  /** The CA's own threshold, or null to follow the global one. */
  aboutToExpireMs: number | null;
  actor: string;
}

const checkThreshold = (ms: number) => {
  if (!Number.isSafeInteger(ms) || ms <= 0) {
    throw invalid('ABOUT_TO_EXPIRE_INVALID', 'the about-to-expire threshold must be a positive duration', { about_to_expire_ms: ms });
  }
};

/**
 * Sets a CA's about-to-expire threshold and, in the same transaction, recomputes the stored
 * about_to_expire_at of the ACTIVE certificates it governs (those the CA issued and the CA's own), so the
 * next sweep marks them by the new threshold. ABOUT_TO_EXPIRE certificates keep their status and the time
 * they turned: a warning given is not taken back.
 */
export async function updateAboutToExpire(deps: CaServiceDeps, cache: IssuingCaCache, input: UpdateAboutToExpireInput): Promise<CertificateAuthority> {
  if (input.aboutToExpireMs !== null) checkThreshold(input.aboutToExpireMs);
  const ca = await getCa(deps, input.id);
  const effective = input.aboutToExpireMs ?? deps.settings.aboutToExpireMs;
  const events = await deps.storage.transaction(async (tx) => {
    await tx.cas.setAboutToExpireMs(ca.id, input.aboutToExpireMs);
    const recomputed = await tx.certificates.recomputeAboutToExpire({ caId: ca.id }, effective);
    const data = { ...caEventData({ ...ca, aboutToExpireMs: input.aboutToExpireMs }), about_to_expire_ms: input.aboutToExpireMs, recomputed };
    const events = [caEvent(deps, CaEventType.caUpdate, ca.id, data, input.actor)];
    await tx.outbox.append(events);
    return events;
  });
  cache.invalidate([ca.id]);
  const updated = await getCa(deps, ca.id);
  await publishAfterCommit(deps, events);
  return updated;
}

/**
 * Brings the stored about_to_expire_at of ACTIVE certificates that follow the global threshold in line with
 * the configured one (after a configuration change). Touches only rows that differ, but has to look at every
 * ACTIVE certificate to find them: run once at start, not on every sweep.
 */
export async function applyGlobalAboutToExpire(deps: Pick<CaServiceDeps, 'storage' | 'settings' | 'logger'>): Promise<number> {
  checkThreshold(deps.settings.aboutToExpireMs);
  const changed = await deps.storage.certificates.recomputeAboutToExpire({ global: true }, deps.settings.aboutToExpireMs);
  if (changed > 0) deps.logger.info({ changed, aboutToExpireMs: deps.settings.aboutToExpireMs }, 'about-to-expire times recomputed for the global threshold');
  return changed;
}
