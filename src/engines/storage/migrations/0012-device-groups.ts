import type { Kysely, Migration } from 'kysely';

/**
 * Dynamic device groups (Lamassu v3.7, RFC-004): definitions only, membership is a query over `devices`.
 * `criteria` is a JSON array of `{field, operand, value}`; `parent_id` makes a tree (no cascade: a group
 * with children is not deleted). Names are unique, as in the RFC.
 */
export const deviceGroups: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('device_groups')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('parent_id', 'text', (c) => c.references('device_groups.id'))
      .addColumn('criteria', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('device_groups_parent').on('device_groups').columns(['parent_id', 'id']).execute();
    await db.schema.createIndex('device_groups_created').on('device_groups').columns(['created_at', 'id']).execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropTable('device_groups').execute();
  },
};
