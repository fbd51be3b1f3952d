import { sql, type Kysely, type Migration } from 'kysely';

/**
 * The device manager. `device_certificates` holds every certificate a slot held: the active one has
 * superseded_at null (at most one per slot, a partial unique index), earlier ones form the archive.
 * Certificate status events find their rows by serial; the timeline is append-only.
 */
export const devices: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('devices')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('alias', 'text', (c) => c.notNull())
      .addColumn('tags', 'text', (c) => c.notNull())
      .addColumn('metadata', 'text', (c) => c.notNull())
      .addColumn('dms_id', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    const deviceIndex = (name: string, columns: string[]) => db.schema.createIndex(name).on('devices').columns(columns).execute();
    await deviceIndex('devices_created', ['created_at', 'id']);
    await deviceIndex('devices_updated', ['updated_at', 'id']);
    await deviceIndex('devices_status', ['status', 'id']);
    await deviceIndex('devices_dms', ['dms_id', 'id']);

    await db.schema
      .createTable('device_certificates')
      .addColumn('device_id', 'text', (c) => c.notNull().references('devices.id').onDelete('cascade'))
      .addColumn('slot', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('serial_number', 'text', (c) => c.notNull())
      .addColumn('issuer_ca_id', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('not_before', 'bigint', (c) => c.notNull())
      .addColumn('not_after', 'bigint', (c) => c.notNull())
      .addColumn('bound_at', 'bigint', (c) => c.notNull())
      .addColumn('superseded_at', 'bigint')
      .addPrimaryKeyConstraint('device_certificates_pk', ['device_id', 'slot', 'version'])
      .execute();
    await db.schema.createIndex('device_certificates_serial').on('device_certificates').column('serial_number').execute();
    await db.schema
      .createIndex('device_certificates_active')
      .on('device_certificates')
      .columns(['device_id', 'slot'])
      .unique()
      .where(sql.ref('superseded_at'), 'is', null)
      .execute();

    await db.schema
      .createTable('device_events')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('device_id', 'text', (c) => c.notNull().references('devices.id').onDelete('cascade'))
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('actor', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('device_events_device').on('device_events').columns(['device_id', 'at']).execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropTable('device_events').execute();
    await db.schema.dropTable('device_certificates').execute();
    await db.schema.dropTable('devices').execute();
  },
};
