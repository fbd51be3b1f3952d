import type { Kysely } from 'kysely';
import type { LeaseRepository } from '../../domain/ports/lease.ts';
import type { Database } from './schema.ts';

export class SqlLeaseRepository implements LeaseRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * One statement, so it is atomic on both dialects: insert the lease, or overwrite the existing row only
   * when it has expired or already belongs to `holder`. A row comes back exactly when we hold the lease.
   * A lease is held until `expires_at`, exclusive.
   */
  async tryAcquire(name: string, holder: string, ttlMs: number, now: Date): Promise<boolean> {
    const nowMs = now.getTime();
    const row = await this.db
      .insertInto('leases')
      .values({ name, holder, expires_at: nowMs + ttlMs })
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet((eb) => ({ holder: eb.ref('excluded.holder'), expires_at: eb.ref('excluded.expires_at') }))
          .where((eb) => eb.or([eb('leases.expires_at', '<=', nowMs), eb('leases.holder', '=', holder)])),
      )
      .returning('name')
      .executeTakeFirst();
    return row !== undefined;
  }

  async release(name: string, holder: string): Promise<void> {
    await this.db.deleteFrom('leases').where('name', '=', name).where('holder', '=', holder).execute();
  }
}
