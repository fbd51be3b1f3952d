import type { Kysely, Migration } from 'kysely';
import { isPostgres } from './column-types.ts';

/**
 * The cloud proxy's registry and the connectors' work. `cloud_connectors`: one row per connector (it
 * registers itself at start; operators set its config). `cloud_connector_jobs`: what each connector has to do
 * in its cloud, in `seq` order; unique per (connector, event, kind, key), so a redelivered event queues
 * nothing; `progress` records the steps done so a retried job skips them. `cloud_connector_resources`: what a
 * connector made in its cloud (registered CAs, device certificates and their things).
 */
export const cloudConnectors: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('cloud_connectors')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('status_detail', 'text')
      .addColumn('config', 'text', (c) => c.notNull())
      .addColumn('settings', 'text', (c) => c.notNull())
      .addColumn('registered_at', 'bigint', (c) => c.notNull())
      .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
      .addColumn('last_sync_at', 'bigint')
      .addColumn('status_at', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('cloud_connector_jobs')
      .addColumn('seq', isPostgres(db) ? 'bigserial' : 'integer', (c) => (isPostgres(db) ? c.primaryKey() : c.primaryKey().autoIncrement()))
      .addColumn('id', 'text', (c) => c.notNull().unique())
      .addColumn('connector_id', 'text', (c) => c.notNull())
      .addColumn('event_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('device_id', 'text')
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('progress', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
      .addColumn('finished_at', 'bigint')
      .addColumn('last_error', 'text')
      .addUniqueConstraint('cloud_connector_jobs_once', ['connector_id', 'event_id', 'kind', 'key'])
      .execute();
    await db.schema.createIndex('cloud_connector_jobs_queue').on('cloud_connector_jobs').columns(['connector_id', 'status', 'seq']).execute();
    await db.schema.createIndex('cloud_connector_jobs_key').on('cloud_connector_jobs').columns(['connector_id', 'kind', 'key']).execute();
    await db.schema.createIndex('cloud_connector_jobs_device').on('cloud_connector_jobs').columns(['connector_id', 'device_id']).execute();

    await db.schema
      .createTable('cloud_connector_resources')
      .addColumn('connector_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('device_id', 'text')
      .addColumn('cloud_id', 'text', (c) => c.notNull())
      .addColumn('arn', 'text')
      .addColumn('thing_name', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('details', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('cloud_connector_resources_pk', ['connector_id', 'kind', 'key'])
      .execute();
    await db.schema.createIndex('cloud_connector_resources_device').on('cloud_connector_resources').columns(['connector_id', 'device_id']).execute();
  },
  async down(db: Kysely<any>) {
    for (const t of ['cloud_connector_resources', 'cloud_connector_jobs', 'cloud_connectors']) await db.schema.dropTable(t).execute();
  },
};
