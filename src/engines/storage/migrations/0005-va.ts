import type { Kysely, Migration } from 'kysely';
import { bytesType } from './column-types.ts';

/**
 * The VA: per-CA settings (va_roles), the latest full and delta CRL of each CA with a shared CRL number
 * counter, released holds for delta CRLs, and delegated OCSP responders.
 *
 * `certificates_revoked` serves the CA service's revoked-certificate reader: CRL generation walks one
 * CA's revoked rows in serial order, page by page, without touching the rest of its certificates.
 */
export const va: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('va_roles')
      .addColumn('ca_id', 'text', (c) => c.primaryKey())
      .addColumn('settings', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('va_crl_numbers')
      .addColumn('ca_id', 'text', (c) => c.primaryKey())
      .addColumn('last_number', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('va_crls')
      .addColumn('ca_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('crl_number', 'bigint', (c) => c.notNull())
      .addColumn('base_number', 'bigint')
      .addColumn('this_update', 'bigint', (c) => c.notNull())
      .addColumn('next_update', 'bigint', (c) => c.notNull())
      .addColumn('generated_at', 'bigint', (c) => c.notNull())
      .addColumn('der', bytesType(db), (c) => c.notNull())
      .addPrimaryKeyConstraint('va_crls_pk', ['ca_id', 'kind'])
      .execute();

    await db.schema
      .createTable('va_crl_removals')
      .addColumn('ca_id', 'text', (c) => c.notNull())
      .addColumn('serial_number', 'text', (c) => c.notNull())
      .addColumn('removed_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('va_crl_removals_ca').on('va_crl_removals').columns(['ca_id', 'removed_at']).execute();

    await db.schema
      .createTable('va_ocsp_responders')
      .addColumn('ca_id', 'text', (c) => c.primaryKey())
      .addColumn('der', bytesType(db), (c) => c.notNull())
      .addColumn('serial_number', 'text', (c) => c.notNull())
      .addColumn('engine_id', 'text', (c) => c.notNull())
      .addColumn('key_id', 'text', (c) => c.notNull())
      .addColumn('not_after', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createIndex('certificates_revoked')
      .on('certificates')
      .columns(['issuer_ca_id', 'status', 'serial_number'])
      .execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropIndex('certificates_revoked').execute();
    for (const t of ['va_ocsp_responders', 'va_crl_removals', 'va_crls', 'va_crl_numbers', 'va_roles']) await db.schema.dropTable(t).execute();
  },
};
