/**
 * A named lease in the database, so that exactly one replica runs each scheduled job.
 * A holder keeps the lease by renewing it before `ttlMs` runs out.
 */
export interface LeaseRepository {
  /** True when `holder` now holds `name` until `now + ttlMs` (newly taken, renewed, or expired and taken over). */
  tryAcquire(name: string, holder: string, ttlMs: number, now: Date): Promise<boolean>;
  release(name: string, holder: string): Promise<void>;
}
