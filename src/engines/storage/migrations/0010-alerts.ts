import type { Kysely, Migration } from 'kysely';

/**
 * The alerts service. `alert_events` holds each event seen once (its id is the CloudEvent id, so a
 * redelivered event is recognised); `alert_latest_events` the last one of each type with a count;
 * `alert_deliveries` one row per (event, subscription), unique, worked by the delivery loop through the
 * (status, next_attempt_at) index. A claimed row has status 'sending' and next_attempt_at = the end of its
 * claim, so a row whose worker died is due again once the claim runs out.
 */
export const alerts: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('alert_subscriptions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('event_type', 'text', (c) => c.notNull())
      .addColumn('conditions', 'text', (c) => c.notNull())
      .addColumn('condition_mode', 'text', (c) => c.notNull())
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('secret', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('alert_subscriptions_user').on('alert_subscriptions').columns(['user_id', 'created_at']).execute();

    await db.schema
      .createTable('alert_events')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('event', 'text', (c) => c.notNull())
      .addColumn('received_at', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('alert_latest_events')
      .addColumn('event_type', 'text', (c) => c.primaryKey())
      .addColumn('event', 'text', (c) => c.notNull())
      .addColumn('seen_at', 'bigint', (c) => c.notNull())
      .addColumn('counter', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('alert_deliveries')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('subscription_id', 'text', (c) => c.notNull().references('alert_subscriptions.id').onDelete('cascade'))
      .addColumn('event_id', 'text', (c) => c.notNull())
      .addColumn('event_type', 'text', (c) => c.notNull())
      .addColumn('channel_type', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
      .addColumn('last_attempt_at', 'bigint')
      .addColumn('last_error', 'text')
      .addColumn('claimed_by', 'text')
      .addUniqueConstraint('alert_deliveries_once', ['event_id', 'subscription_id'])
      .execute();
    await db.schema.createIndex('alert_deliveries_due').on('alert_deliveries').columns(['status', 'next_attempt_at']).execute();
    await db.schema.createIndex('alert_deliveries_log').on('alert_deliveries').columns(['subscription_id', 'created_at']).execute();
  },
  async down(db: Kysely<any>) {
    for (const t of ['alert_deliveries', 'alert_latest_events', 'alert_events', 'alert_subscriptions']) await db.schema.dropTable(t).execute();
  },
};
