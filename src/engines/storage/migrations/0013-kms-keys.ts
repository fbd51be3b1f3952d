import type { Kysely, Migration } from 'kysely';
import { bytesType } from './column-types.ts';

/**
 * The KMS service's key records: public facts and labels of keys kept by the key engines. Never a private
 * key: the engines hold those. `aliases`, `tags` and `metadata` are JSON text.
 */
export const kmsKeys: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('kms_keys')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('engine_id', 'text', (c) => c.notNull())
      .addColumn('key_type', 'text', (c) => c.notNull())
      .addColumn('key_bits', 'integer', (c) => c.notNull())
      .addColumn('public_key', bytesType(db), (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('aliases', 'text', (c) => c.notNull())
      .addColumn('tags', 'text', (c) => c.notNull())
      .addColumn('metadata', 'text', (c) => c.notNull())
      .addColumn('origin', 'text', (c) => c.notNull())
      // Lamassu's has_private_key filter; 1 for every key an engine holds.
      .addColumn('has_private_key', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('kms_keys_created').on('kms_keys').columns(['created_at', 'id']).execute();
    await db.schema.createIndex('kms_keys_name').on('kms_keys').columns(['name']).execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropTable('kms_keys').execute();
  },
};
