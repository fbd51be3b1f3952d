import type { CaServiceDeps } from './ca-service-deps.ts';
import { getCa } from './get-ca.ts';

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;

export interface ExpiringWeek {
  /** Monday 00:00 UTC. */
  start: Date;
  /** The next Monday 00:00 UTC (exclusive). */
  end: Date;
  count: number;
}

export interface CountExpiringPerWeekInput {
  /** Weeks to count, the current one first. */
  weeks: number;
  /** Only the certificates this CA issued; throws CA_NOT_FOUND for an unknown CA. */
  caId?: string;
}

/** Monday 00:00 UTC of the week `at` is in. */
export function weekStart(at: Date): Date {
  const day = Math.floor(at.getTime() / DAY_MS);
  // 1970-01-01 was a Thursday: day 0 is 3 days after a Monday.
  return new Date((day - ((day + 3) % 7)) * DAY_MS);
}

/**
 * Certificates (not revoked, not yet expired) expiring in each calendar week (Monday to Monday, UTC), from the
 * current week on: a count per week from one aggregate query, never rows. Weeks without any count 0.
 */
export async function countExpiringPerWeek(deps: Pick<CaServiceDeps, 'storage' | 'clock'>, input: CountExpiringPerWeekInput): Promise<ExpiringWeek[]> {
  if (input.caId !== undefined) await getCa(deps, input.caId);
  const from = weekStart(deps.clock.now());
  const counts = await deps.storage.certificates.countExpiringPerBucket({
    from,
    bucketMs: WEEK_MS,
    buckets: input.weeks,
    ...(input.caId === undefined ? {} : { issuerCaId: input.caId }),
  });
  const byBucket = new Map(counts.map((c) => [c.bucket, c.count]));
  return Array.from({ length: input.weeks }, (_, i) => ({
    start: new Date(from.getTime() + i * WEEK_MS),
    end: new Date(from.getTime() + (i + 1) * WEEK_MS),
    count: byBucket.get(i) ?? 0,
  }));
}
