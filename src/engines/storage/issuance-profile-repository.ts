import type { Kysely, Selectable } from 'kysely';
import type { IssuanceProfileRepository } from '../../domain/ca/issuance-profile-repository.ts';
import type { IssuanceProfile, IssuanceSettings } from '../../domain/ca/issuance-profile.ts';
import { conflict } from '../../domain/errors.ts';
import type { ExpiryDeltas } from '../../domain/ca/expiry-deltas.ts';
import { deltasOf } from './ca-repository.ts';
import { isForeignKeyViolation } from './constraint-violation.ts';
import type { Database, IssuanceProfilesTable } from './schema.ts';
import { isUniqueViolation } from './unique-violation.ts';

const withDeltas = (d: ExpiryDeltas | null) => (d ? { expirationDeltas: d } : {});

const toProfile = (row: Selectable<IssuanceProfilesTable>): IssuanceProfile => ({
  ...(JSON.parse(row.settings) as IssuanceSettings),
  ...withDeltas(deltasOf(row.expiry_preventive_ms, row.expiry_critical_ms)),
  id: row.id,
  name: row.name,
  description: row.description,
  createdAt: new Date(row.created_at),
  updatedAt: new Date(row.updated_at),
});

// The deltas live in their own columns (re-plans read them in SQL), not in the JSON.
const settingsOf = ({ id: _id, name: _n, description: _d, createdAt: _c, updatedAt: _u, expirationDeltas: _e, ...settings }: IssuanceProfile) =>
  JSON.stringify(settings satisfies IssuanceSettings);

const deltaColumns = (p: IssuanceProfile) => ({
  expiry_preventive_ms: p.expirationDeltas?.preventiveMs ?? null,
  expiry_critical_ms: p.expirationDeltas?.criticalMs ?? null,
});

export class SqlIssuanceProfileRepository implements IssuanceProfileRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(p: IssuanceProfile): Promise<void> {
    try {
      await this.db
        .insertInto('issuance_profiles')
        .values({
          id: p.id,
          name: p.name,
          description: p.description,
          settings: settingsOf(p),
          ...deltaColumns(p),
          created_at: p.createdAt.getTime(),
          updated_at: p.updatedAt.getTime(),
        })
        .execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('PROFILE_EXISTS', `a profile with id "${p.id}" already exists`, { id: p.id });
      throw err;
    }
  }

  async get(id: string): Promise<IssuanceProfile | undefined> {
    const row = await this.db.selectFrom('issuance_profiles').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toProfile(row);
  }

  async list(): Promise<IssuanceProfile[]> {
    const rows = await this.db.selectFrom('issuance_profiles').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map(toProfile);
  }

  async update(p: IssuanceProfile): Promise<boolean> {
    const r = await this.db
      .updateTable('issuance_profiles')
      .set({ name: p.name, description: p.description, settings: settingsOf(p), ...deltaColumns(p), updated_at: p.updatedAt.getTime() })
      .where('id', '=', p.id)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async delete(id: string): Promise<boolean> {
    try {
      const r = await this.db.deleteFrom('issuance_profiles').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) === 1;
    } catch (err) {
      if (isForeignKeyViolation(err)) throw conflict('PROFILE_IN_USE', `profile "${id}" is the default of a CA`, { id });
      throw err;
    }
  }
}
