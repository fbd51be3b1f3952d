/** The alerts service's storage: subscriptions, events seen once, latest event per type, deliveries. */
import { sql, type Kysely, type Selectable } from 'kysely';
import type { AlertRepository, AttemptOutcome, LatestEvent, NewDelivery } from '../../domain/alerts/alert-repository.ts';
import type { Delivery, DeliveryStatus } from '../../domain/alerts/delivery.ts';
import type { Channel, Condition, ConditionMode, Subscription } from '../../domain/alerts/subscription.ts';
import type { CloudEvent } from '../../domain/ports/event-bus.ts';
import type { AlertDeliveriesTable, AlertSubscriptionsTable, Database } from './schema.ts';

const toSubscription = (r: Selectable<AlertSubscriptionsTable>): Subscription => ({
  id: r.id,
  userId: r.user_id,
  eventType: r.event_type,
  conditions: JSON.parse(r.conditions) as Condition[],
  conditionMode: r.condition_mode as ConditionMode,
  channel: JSON.parse(r.channel) as Channel,
  secret: r.secret,
  createdAt: new Date(Number(r.created_at)),
});

const toDelivery = (r: Selectable<AlertDeliveriesTable>): Delivery => ({
  id: r.id,
  subscriptionId: r.subscription_id,
  eventId: r.event_id,
  eventType: r.event_type,
  channelType: r.channel_type as Delivery['channelType'],
  status: r.status as DeliveryStatus,
  attempts: Number(r.attempts),
  createdAt: new Date(Number(r.created_at)),
  nextAttemptAt: new Date(Number(r.next_attempt_at)),
  lastAttemptAt: r.last_attempt_at === null ? null : new Date(Number(r.last_attempt_at)),
  lastError: r.last_error,
});

/** Rows per statement: 12 bound parameters each at most, well under SQLite's 32766. */
const ROW_CHUNK = 1000;
/** Outcomes per statement: 7 bound parameters each. */
const OUTCOME_CHUNK = 500;

export class SqlAlertRepository implements AlertRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insertSubscription(s: Subscription): Promise<void> {
    await this.db
      .insertInto('alert_subscriptions')
      .values({
        id: s.id,
        user_id: s.userId,
        event_type: s.eventType,
        conditions: JSON.stringify(s.conditions),
        condition_mode: s.conditionMode,
        channel: JSON.stringify(s.channel),
        secret: s.secret,
        created_at: s.createdAt.getTime(),
      })
      .execute();
  }

  async getSubscription(id: string): Promise<Subscription | undefined> {
    const row = await this.db.selectFrom('alert_subscriptions').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toSubscription(row);
  }

  async listSubscriptions(userId?: string): Promise<Subscription[]> {
    let q = this.db.selectFrom('alert_subscriptions').selectAll();
    if (userId !== undefined) q = q.where('user_id', '=', userId);
    const rows = await q.orderBy('created_at').orderBy('id').execute();
    return rows.map(toSubscription);
  }

  async deleteSubscription(id: string): Promise<boolean> {
    // Deliveries first: SQLite enforces the foreign key only when told to.
    await this.db.deleteFrom('alert_deliveries').where('subscription_id', '=', id).execute();
    const r = await this.db.deleteFrom('alert_subscriptions').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async recordEvent(event: CloudEvent, seenAt: Date): Promise<boolean> {
    return (await this.recordEvents([event], seenAt)).has(event.id);
  }

  async recordEvents(events: readonly CloudEvent[], seenAt: Date): Promise<Set<string>> {
    const at = seenAt.getTime();
    // An id twice in one batch counts once (its first copy), as it would in two batches.
    const unique = new Map<string, { type: string; json: string }>();
    for (const e of events) if (!unique.has(e.id)) unique.set(e.id, { type: e.type, json: JSON.stringify(e) });
    const rows = [...unique].map(([id, e]) => ({ id, type: e.type, event: e.json, received_at: at }));
    const fresh = new Set<string>();
    for (let i = 0; i < rows.length; i += ROW_CHUNK) {
      const inserted = await this.db
        .insertInto('alert_events')
        .values(rows.slice(i, i + ROW_CHUNK))
        .onConflict((oc) => oc.column('id').doNothing())
        .returning('id')
        .execute();
      for (const r of inserted) fresh.add(r.id);
    }
    // The latest event of each type and how many are new: one row per type (a statement may not change a row
    // twice), in type order, so two replicas' batches lock the same rows in the same order (no deadlock).
    const latest = new Map<string, { event: string; count: number }>();
    for (const [id, e] of unique) {
      if (!fresh.has(id)) continue;
      latest.set(e.type, { event: e.json, count: (latest.get(e.type)?.count ?? 0) + 1 });
    }
    if (latest.size > 0) {
      await this.db
        .insertInto('alert_latest_events')
        .values([...latest].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([type, l]) => ({ event_type: type, event: l.event, seen_at: at, counter: l.count })))
        .onConflict((oc) =>
          oc.column('event_type').doUpdateSet((eb) => ({
            event: eb.ref('excluded.event'),
            seen_at: eb.ref('excluded.seen_at'),
            counter: eb('alert_latest_events.counter', '+', eb.ref('excluded.counter')),
          })),
        )
        .execute();
    }
    return fresh;
  }

  async getEvent(id: string): Promise<CloudEvent | undefined> {
    const row = await this.db.selectFrom('alert_events').select('event').where('id', '=', id).executeTakeFirst();
    return row && (JSON.parse(row.event) as CloudEvent);
  }

  async getEvents(ids: readonly string[]): Promise<Map<string, CloudEvent>> {
    const out = new Map<string, CloudEvent>();
    for (let i = 0; i < ids.length; i += ROW_CHUNK) {
      const rows = await this.db.selectFrom('alert_events').select(['id', 'event']).where('id', 'in', [...ids.slice(i, i + ROW_CHUNK)]).execute();
      for (const r of rows) out.set(r.id, JSON.parse(r.event) as CloudEvent);
    }
    return out;
  }

  async latestEvents(): Promise<LatestEvent[]> {
    const rows = await this.db.selectFrom('alert_latest_events').selectAll().orderBy('event_type').execute();
    return rows.map((r) => ({
      eventType: r.event_type,
      event: JSON.parse(r.event) as CloudEvent,
      seenAt: new Date(Number(r.seen_at)),
      count: Number(r.counter),
    }));
  }

  async insertDeliveries(rows: NewDelivery[]): Promise<void> {
    for (let i = 0; i < rows.length; i += ROW_CHUNK) {
      await this.db
        .insertInto('alert_deliveries')
        .values(
          rows.slice(i, i + ROW_CHUNK).map((d) => ({
            id: d.id,
            subscription_id: d.subscriptionId,
            event_id: d.eventId,
            event_type: d.eventType,
            channel_type: d.channelType,
            status: 'pending',
            attempts: 0,
            created_at: d.createdAt.getTime(),
            next_attempt_at: d.createdAt.getTime(),
            last_attempt_at: null,
            last_error: null,
            claimed_by: null,
          })),
        )
        .onConflict((oc) => oc.columns(['event_id', 'subscription_id']).doNothing())
        .execute();
    }
  }

  async dueDeliveries(now: Date, limit: number, skip: { subscriptionIds?: string[]; channelTypes?: string[] } = {}): Promise<Delivery[]> {
    let q = this.db
      .selectFrom('alert_deliveries')
      .selectAll()
      .where('status', 'in', ['pending', 'sending'])
      .where('next_attempt_at', '<=', now.getTime());
    if (skip.subscriptionIds?.length) q = q.where('subscription_id', 'not in', skip.subscriptionIds);
    if (skip.channelTypes?.length) q = q.where('channel_type', 'not in', skip.channelTypes);
    const rows = await q.orderBy('next_attempt_at').limit(limit).execute();
    return rows.map(toDelivery);
  }

  async claimDeliveries(ids: string[], worker: string, now: Date, until: Date): Promise<string[]> {
    if (ids.length === 0) return [];
    // Conditional on each row still being due: of two replicas racing for a row, one updates it, the other none.
    const rows = await this.db
      .updateTable('alert_deliveries')
      .set((eb) => ({ status: 'sending', claimed_by: worker, next_attempt_at: until.getTime(), attempts: eb('attempts', '+', 1) }))
      .where('id', 'in', ids)
      .where('status', 'in', ['pending', 'sending'])
      .where('next_attempt_at', '<=', now.getTime())
      .returning('id')
      .execute();
    return rows.map((r) => r.id);
  }

  async finishAttempt(id: string, worker: string, outcome: AttemptOutcome): Promise<void> {
    await this.finishAttempts(worker, [{ id, outcome }]);
  }

  async finishAttempts(worker: string, outcomes: readonly { id: string; outcome: AttemptOutcome }[]): Promise<void> {
    // One UPDATE joined to a VALUES list (a CTE: SQLite names no VALUES columns otherwise), each row only while
    // this worker's claim holds. Casts: PostgreSQL types bare VALUES parameters as text.
    for (let i = 0; i < outcomes.length; i += OUTCOME_CHUNK) {
      const rows = outcomes.slice(i, i + OUTCOME_CHUNK).map(
        ({ id, outcome: o }) =>
          sql`(cast(${id} as text), cast(${o.status} as text), cast(${o.attempts} as integer), cast(${o.at.getTime()} as bigint), cast(${o.error} as text), cast(${(o.nextAttemptAt ?? o.at).getTime()} as bigint))`,
      );
      await sql`with v(id, status, attempts, at, error, next_at) as (values ${sql.join(rows)})
        update alert_deliveries set status = v.status, attempts = v.attempts, last_attempt_at = v.at, last_error = v.error,
          next_attempt_at = v.next_at, claimed_by = null
        from v where alert_deliveries.id = v.id and alert_deliveries.claimed_by = ${worker} and alert_deliveries.status = 'sending'`.execute(this.db);
    }
  }

  async releaseDeliveries(ids: readonly string[], worker: string, now: Date): Promise<void> {
    for (let i = 0; i < ids.length; i += ROW_CHUNK) {
      await this.db
        .updateTable('alert_deliveries')
        .set((eb) => ({ status: 'pending', claimed_by: null, next_attempt_at: now.getTime(), attempts: eb('attempts', '-', 1) }))
        .where('id', 'in', [...ids.slice(i, i + ROW_CHUNK)])
        .where('claimed_by', '=', worker)
        .where('status', '=', 'sending')
        .execute();
    }
  }

  async prune(cutoff: Date): Promise<{ deliveries: number; events: number }> {
    const d = await this.db
      .deleteFrom('alert_deliveries')
      .where('status', 'in', ['delivered', 'failed'])
      .where('created_at', '<', cutoff.getTime())
      .executeTakeFirst();
    const e = await this.db
      .deleteFrom('alert_events')
      .where('received_at', '<', cutoff.getTime())
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('alert_deliveries').select('alert_deliveries.id').whereRef('alert_deliveries.event_id', '=', 'alert_events.id'))),
      )
      .executeTakeFirst();
    return { deliveries: Number(d.numDeletedRows), events: Number(e.numDeletedRows) };
  }

  async listDeliveries(subscriptionId: string, limit: number): Promise<Delivery[]> {
    const rows = await this.db
      .selectFrom('alert_deliveries')
      .selectAll()
      .where('subscription_id', '=', subscriptionId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toDelivery);
  }
}
