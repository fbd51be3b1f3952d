import type { Kysely, Selectable } from 'kysely';
import { conflict } from '../../domain/errors.ts';
import type { AdminRole, AdminTokenRecord, AdminTokenRepository } from '../../domain/ports/admin-token.ts';
import type { AdminTokensTable, Database } from './schema.ts';
import { isUniqueViolation } from './unique-violation.ts';

const toRecord = (row: Selectable<AdminTokensTable>): AdminTokenRecord => ({
  id: row.id,
  tokenHash: row.token_hash,
  subject: row.subject,
  role: row.role as AdminRole,
  createdAt: new Date(row.created_at),
});

export class SqlAdminTokenRepository implements AdminTokenRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(record: AdminTokenRecord): Promise<void> {
    try {
      await this.db
        .insertInto('admin_tokens')
        .values({
          id: record.id,
          token_hash: record.tokenHash,
          subject: record.subject,
          role: record.role,
          created_at: record.createdAt.getTime(),
        })
        .execute();
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw conflict('ADMIN_TOKEN_EXISTS', 'an admin token with this id or hash already exists', { id: record.id });
      }
      throw err;
    }
  }

  async findByHash(tokenHash: string): Promise<AdminTokenRecord | undefined> {
    const row = await this.db.selectFrom('admin_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
    return row && toRecord(row);
  }

  async count(): Promise<number> {
    const { n } = await this.db
      .selectFrom('admin_tokens')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(n);
  }
}
