import type { TimeStatusChange, TimeStatusStep } from '../../domain/ca/certificate-repository.ts';
import { publishAfterCommit, statusChangeEvent } from './ca-events.ts';
import type { CaServiceDeps } from './ca-service-deps.ts';
import { expiringEvent } from './expiring-events.ts';
import type { IssuingCaCache } from './issuing-ca-cache.ts';

/** Rows per transaction: a million changes become a hundred short transactions, not one giant one. */
export const SWEEP_BATCH_SIZE = 10_000;

/**
 * Expiry first: a certificate that passed both its threshold and notAfter since the last sweep goes
 * straight to EXPIRED, with one event, rather than through ABOUT_TO_EXPIRE.
 */
const STEPS: readonly TimeStatusStep[] = [
  { from: 'ACTIVE', to: 'EXPIRED' },
  { from: 'ABOUT_TO_EXPIRE', to: 'EXPIRED' },
  { from: 'ACTIVE', to: 'ABOUT_TO_EXPIRE' },
];

export interface SweepResult {
  expired: number;
  aboutToExpire: number;
  /** certificate.expiring events: certificates that crossed a preventive or critical delta. */
  expiring: number;
}

/**
 * Gives every certificate the status time gives it now: set-based updates over index ranges that touch
 * only rows whose status changes, in batches of `batchSize` rows, each its own transaction followed by
 * one event per changed row. REVOKED rows (holds included) are left alone: a revocation outranks expiry
 * (RFC 5280 keeps a revoked certificate on the CRL past its notAfter), and lifting a hold gives the status
 * time gives then.
 *
 * A row changed in a committed batch no longer matches, so a sweep that dies between batches resumes where
 * it stopped and no row changes twice. Each batch's events are written to the outbox in its transaction
 * (one multi-row insert), so they are relayed at least once even if the process dies right after a commit.
 */
export async function sweepStatuses(
  deps: CaServiceDeps,
  cache: IssuingCaCache,
  opts: { batchSize?: number } = {},
): Promise<SweepResult> {
  const batchSize = opts.batchSize ?? SWEEP_BATCH_SIZE;
  // One instant for the whole sweep, so the steps agree with each other.
  const now = deps.clock.now();
  const result: SweepResult = { expired: 0, aboutToExpire: 0, expiring: 0 };
  for (const step of STEPS) {
    for (;;) {
      // The batch's events commit with its status changes (outbox).
      const { changed, events } = await deps.storage.transaction(async (tx) => {
        const changed = await tx.certificates.sweepStatus(step, now, batchSize);
        const events = changed.map((c) => statusChangeEvent(deps, c, c.status, null, 'system'));
        await tx.outbox.append(events);
        return { changed, events };
      });
      if (changed.length === 0) break;
      const caIds = changed.flatMap((c) => (c.caId ? [c.caId] : []));
      // An expired CA must stop signing at once on this replica.
      if (caIds.length > 0) cache.invalidate(caIds);
      await publishAfterCommit(deps, events);
      if (step.to === 'EXPIRED') result.expired += changed.length;
      else result.aboutToExpire += changed.length;
      if (changed.length < batchSize) break;
    }
  }
  // Expiration deltas after the expiry steps, with the same instant: rows that expired meanwhile are
  // dropped from the due index without an announcement.
  // Each batch's stage change and its certificate.expiring events commit together (outbox): exactly once.
  for (;;) {
    const { batch, events } = await deps.storage.transaction(async (tx) => {
      const batch = await tx.certificates.sweepExpiry(now, batchSize);
      const events = batch.crossings.map((c) => expiringEvent(deps, c));
      await tx.outbox.append(events);
      return { batch, events };
    });
    await publishAfterCommit(deps, events);
    result.expiring += batch.crossings.length;
    if (batch.touched < batchSize) break;
  }
  if (result.expired + result.aboutToExpire + result.expiring > 0) deps.logger.info({ ...result }, 'status sweep changed certificates');
  return result;
}
