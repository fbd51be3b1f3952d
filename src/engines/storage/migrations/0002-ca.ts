import type { Kysely, Migration } from 'kysely';
import { bytesType } from './column-types.ts';

/**
 * The CA service: issuance profiles, CAs, and certificates split in two tables. `certificates` holds the
 * narrow status rows that sweeps, lists and lookups read and update; `certificate_blobs` holds the DER
 * and decoded details, written once at insert, so that status changes never rewrite them.
 *
 * The status sweep is two set-based updates over index ranges (see docs in certificate-repository.ts):
 *   status in (ACTIVE, ABOUT_TO_EXPIRE) and not_after < now        -> EXPIRED          [status, not_after]
 *   status = ACTIVE and about_to_expire_at <= now (not expired)     -> ABOUT_TO_EXPIRE  [status, about_to_expire_at]
 * Both touch only rows whose status changes.
 */
export const ca: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('issuance_profiles')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('settings', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('certificates')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('serial_number', 'text', (c) => c.notNull())
      .addColumn('issuer_ca_id', 'text')
      .addColumn('ca_id', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('not_before', 'bigint', (c) => c.notNull())
      .addColumn('not_after', 'bigint', (c) => c.notNull())
      .addColumn('about_to_expire_at', 'bigint', (c) => c.notNull())
      .addColumn('revoked_at', 'bigint')
      .addColumn('revocation_reason', 'text')
      .addColumn('subject_cn', 'text', (c) => c.notNull())
      .addColumn('subject_key_id', 'text', (c) => c.notNull())
      .addColumn('authority_key_id', 'text')
      .addColumn('key_type', 'text', (c) => c.notNull())
      .addColumn('key_bits', 'integer', (c) => c.notNull())
      .addColumn('is_ca', 'integer', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('engine_id', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    const certIndex = (name: string, columns: string[], unique = false) => {
      const b = db.schema.createIndex(name).on('certificates').columns(columns);
      return (unique ? b.unique() : b).execute();
    };
    await certIndex('certificates_issuer_serial', ['issuer_ca_id', 'serial_number'], true);
    await certIndex('certificates_serial', ['serial_number']);
    await certIndex('certificates_status_not_after', ['status', 'not_after']);
    await certIndex('certificates_status_about_to_expire', ['status', 'about_to_expire_at']);
    await certIndex('certificates_issuer_status', ['issuer_ca_id', 'status']);
    await certIndex('certificates_not_after', ['not_after', 'id']);
    await certIndex('certificates_created', ['created_at', 'id']);
    await certIndex('certificates_subject_cn', ['subject_cn', 'id']);
    await certIndex('certificates_ski', ['subject_key_id']);
    await certIndex('certificates_ca', ['ca_id']);

    await db.schema
      .createTable('certificate_blobs')
      .addColumn('id', 'text', (c) => c.primaryKey().references('certificates.id').onDelete('cascade'))
      .addColumn('der', bytesType(db), (c) => c.notNull())
      .addColumn('details', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('cas')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('certificate_id', 'text', (c) => c.notNull().unique().references('certificates.id'))
      .addColumn('parent_id', 'text', (c) => c.references('cas.id'))
      .addColumn('level', 'integer', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('engine_id', 'text')
      .addColumn('key_id', 'text')
      .addColumn('internal', 'integer', (c) => c.notNull())
      .addColumn('profile_id', 'text', (c) => c.references('issuance_profiles.id'))
      .addColumn('about_to_expire_ms', 'bigint')
      .addColumn('metadata', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('cas_parent').on('cas').column('parent_id').execute();
    await db.schema.createIndex('cas_profile').on('cas').column('profile_id').execute();
    await db.schema.createIndex('cas_created').on('cas').columns(['created_at', 'id']).execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropTable('cas').execute();
    await db.schema.dropTable('certificate_blobs').execute();
    await db.schema.dropTable('certificates').execute();
    await db.schema.dropTable('issuance_profiles').execute();
  },
};
