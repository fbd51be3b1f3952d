import type { Kysely, Migration } from 'kysely';

/**
 * Lamassu's device icon and colours (`icon`, `icon_color` "#bg-#fg"), shown by its console; set on
 * pre-registration or from the DMS's provisioning profile at JITP. Existing devices get none ('').
 */
export const deviceIcon: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('devices').addColumn('icon', 'text', (c) => c.notNull().defaultTo('')).execute();
    await db.schema.alterTable('devices').addColumn('icon_color', 'text', (c) => c.notNull().defaultTo('')).execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.alterTable('devices').dropColumn('icon_color').execute();
    await db.schema.alterTable('devices').dropColumn('icon').execute();
  },
};
