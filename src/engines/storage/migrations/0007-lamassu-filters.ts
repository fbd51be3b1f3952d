import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Indexes for Lamassu's list filters on the certificate inventory, the list that grows large: by engine,
 * by validity start, by revocation time, and case-insensitive common name (`subject.common_name[eq_ic]`
 * compares lower() of both sides). The other certificate filter fields already have theirs (0002-ca).
 */
export const lamassuFilters: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.createIndex('certificates_engine').on('certificates').columns(['engine_id', 'id']).execute();
    await db.schema.createIndex('certificates_not_before').on('certificates').columns(['not_before', 'id']).execute();
    await db.schema.createIndex('certificates_revoked_at').on('certificates').column('revoked_at').execute();
    await db.schema.createIndex('certificates_subject_cn_lower').on('certificates').expression(sql`lower(subject_cn)`).execute();
  },
  async down(db: Kysely<any>) {
    for (const name of ['certificates_subject_cn_lower', 'certificates_revoked_at', 'certificates_not_before', 'certificates_engine']) {
      await db.schema.dropIndex(name).execute();
    }
  },
};
