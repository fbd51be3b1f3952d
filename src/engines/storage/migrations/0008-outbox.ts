import { type Kysely, type Migration } from 'kysely';
import { isPostgres } from './column-types.ts';

/**
 * The transactional outbox: every event is written in the transaction of the change it announces and
 * relayed to the bus afterwards (src/engines/outbox). `seq` grows with every insert, so the relay sends
 * rows in the order they were written; a row is deleted once the bus confirmed it.
 */
export const outbox: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('outbox')
      .addColumn('seq', isPostgres(db) ? 'bigserial' : 'integer', (c) => (isPostgres(db) ? c.primaryKey() : c.primaryKey().autoIncrement()))
      .addColumn('event', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropTable('outbox').execute();
  },
};
