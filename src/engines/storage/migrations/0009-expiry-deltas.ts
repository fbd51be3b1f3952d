import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Expiration deltas (preventive / critical) and the `certificate.expiring` sweep.
 *
 * `cas` and `issuance_profiles` get their deltas as columns (not in the profile's settings JSON) so that a
 * re-plan can read them in SQL on both dialects. Each certificate row carries its plan: where its deltas
 * come from (`expiry_source` ca | profile | dms, with `profile_id` / `dms_id` to find the rows a change
 * re-plans), the deltas, the stage announced so far (0 none, 1 preventive, 2 critical) and
 * `expiry_next_at`, the instant the next announcement is due. The sweep reads the partial index on
 * `expiry_next_at` (rows with nothing left to announce are not in it), so it touches only rows whose
 * stage changes. Existing rows get no plan (nothing to announce) until a CA, profile or DMS sets deltas.
 */
export const expiryDeltas: Migration = {
  async up(db: Kysely<any>) {
    for (const table of ['cas', 'issuance_profiles']) {
      await db.schema.alterTable(table).addColumn('expiry_preventive_ms', 'bigint').execute();
      await db.schema.alterTable(table).addColumn('expiry_critical_ms', 'bigint').execute();
    }
    // One column per statement: SQLite's ALTER TABLE adds one at a time.
    const add = (name: string, type: 'text' | 'bigint' | 'integer', notNullDefault?: string | number) =>
      db.schema
        .alterTable('certificates')
        .addColumn(name, type, (c) => (notNullDefault === undefined ? c : c.notNull().defaultTo(notNullDefault)))
        .execute();
    await add('profile_id', 'text');
    await add('dms_id', 'text');
    await add('expiry_source', 'text', 'ca');
    await add('expiry_preventive_ms', 'bigint');
    await add('expiry_critical_ms', 'bigint');
    await add('expiry_stage', 'integer', 0);
    await add('expiry_next_at', 'bigint');
    const partial = (name: string, column: string) =>
      db.schema.createIndex(name).on('certificates').column(column).where(sql.ref(column), 'is not', null).execute();
    await partial('certificates_expiry_next_at', 'expiry_next_at');
    await partial('certificates_profile', 'profile_id');
    await partial('certificates_dms', 'dms_id');
    // Devices mirror the stage of their slots' certificates (a crossed delta makes a device REQUIRES_ACTION).
    await db.schema.alterTable('device_certificates').addColumn('expiry_stage', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.alterTable('device_certificates').dropColumn('expiry_stage').execute();
    for (const name of ['certificates_expiry_next_at', 'certificates_profile', 'certificates_dms']) await db.schema.dropIndex(name).execute();
    for (const column of ['expiry_next_at', 'expiry_stage', 'expiry_critical_ms', 'expiry_preventive_ms', 'expiry_source', 'dms_id', 'profile_id']) {
      await db.schema.alterTable('certificates').dropColumn(column).execute();
    }
    for (const table of ['issuance_profiles', 'cas']) {
      await db.schema.alterTable(table).dropColumn('expiry_critical_ms').execute();
      await db.schema.alterTable(table).dropColumn('expiry_preventive_ms').execute();
    }
  },
};
