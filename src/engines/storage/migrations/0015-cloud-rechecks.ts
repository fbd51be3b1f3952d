import type { Kysely, Migration } from 'kysely';

/**
 * Two additions to the cloud connectors' tables (0014). `cloud_connector_resources.recheck_at`: when the
 * connector looks at a resource again; set on a superseded device certificate while it waits for its device to
 * use the new one (or for the grace period to end), null otherwise. `cloud_connector_jobs.result`: what a job
 * found and did, as JSON (a synchronization's counts); null for jobs that report nothing.
 */
export const cloudRechecks: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('cloud_connector_resources').addColumn('recheck_at', 'bigint').execute();
    await db.schema.createIndex('cloud_connector_resources_recheck').on('cloud_connector_resources').columns(['connector_id', 'recheck_at']).execute();
    await db.schema.alterTable('cloud_connector_jobs').addColumn('result', 'text').execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.alterTable('cloud_connector_jobs').dropColumn('result').execute();
    await db.schema.dropIndex('cloud_connector_resources_recheck').execute();
    await db.schema.alterTable('cloud_connector_resources').dropColumn('recheck_at').execute();
  },
};
