import type { Kysely, Migration } from 'kysely';

/**
 * RFC 5280 5.3.2 invalidity dates: when a revoked certificate's key was (or is suspected to have been)
 * compromised, as the revoker said. On the narrow status row, because CRL generation reads it with the
 * revocation time and reason; nullable, so existing rows need no backfill.
 */
export const invalidityDate: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('certificates').addColumn('invalidity_date', 'bigint').execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.alterTable('certificates').dropColumn('invalidity_date').execute();
  },
};
