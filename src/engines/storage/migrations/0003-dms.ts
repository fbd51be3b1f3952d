import type { Kysely, Migration } from 'kysely';

/**
 * The DMS manager. Settings, metadata and the authorized CA list are JSON: they are read whole with their
 * DMS and never queried inside. The DMS certificate's serial is a column because the seed's EST flow finds
 * the DMS from the client certificate.
 */
export const dms: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('dms')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('metadata', 'text', (c) => c.notNull())
      .addColumn('authorized_cas', 'text', (c) => c.notNull())
      .addColumn('settings', 'text', (c) => c.notNull())
      .addColumn('certificate_serial', 'text')
      .addColumn('certificate_issuer_ca_id', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('dms_certificate_serial').on('dms').column('certificate_serial').execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropTable('dms').execute();
  },
};
