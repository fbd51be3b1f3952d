import type { Kysely } from 'kysely';
import type { CloudEvent } from '../../domain/ports/event-bus.ts';
import type { OutboxBacklog, OutboxEntry, OutboxRepository } from '../../domain/ports/outbox.ts';
import type { Database } from './schema.ts';

/** 2 bound parameters per row: well under SQLite's 32766 and PostgreSQL's 65535. */
const INSERT_CHUNK = 1000;

export class SqlOutboxRepository implements OutboxRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async append(events: readonly CloudEvent[], now = new Date()): Promise<void> {
    const at = now.getTime();
    for (let i = 0; i < events.length; i += INSERT_CHUNK) {
      const rows = events.slice(i, i + INSERT_CHUNK).map((e) => ({ event: JSON.stringify(e), created_at: at }));
      await this.db.insertInto('outbox').values(rows).execute();
    }
  }

  async oldest(limit: number, except: readonly number[] = []): Promise<OutboxEntry[]> {
    let q = this.db.selectFrom('outbox').select(['seq', 'event']);
    if (except.length > 0) q = q.where('seq', 'not in', [...except]);
    const rows = await q.orderBy('seq').limit(limit).execute();
    return rows.map((r) => ({ seq: Number(r.seq), event: JSON.parse(r.event) as CloudEvent }));
  }

  async remove(seqs: readonly number[]): Promise<void> {
    if (seqs.length === 0) return;
    await this.db.deleteFrom('outbox').where('seq', 'in', [...seqs]).execute();
  }

  async backlog(): Promise<OutboxBacklog> {
    const { count } = await this.db.selectFrom('outbox').select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
    // The lowest seq is the oldest row: read through the primary key, no scan for the minimum.
    const oldest = await this.db.selectFrom('outbox').select('created_at').orderBy('seq').limit(1).executeTakeFirst();
    return { count: Number(count), oldestCreatedAt: oldest ? Number(oldest.created_at) : null };
  }
}
