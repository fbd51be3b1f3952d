/** The VA's repositories: roles, CRLs with their number counter and removals, delegated OCSP responders. */
import type { Kysely, Selectable } from 'kysely';
import type { CrlKind, CrlMeta, CrlRecord, CrlRemoval, CrlRepository } from '../../domain/va/crl-record.ts';
import type { OcspResponderRecord, OcspResponderRepository } from '../../domain/va/ocsp-responder-record.ts';
import type { VaRoleRepository } from '../../domain/va/va-role-repository.ts';
import type { VaRole, VaRoleSettings } from '../../domain/va/va-role.ts';
import type { Database, VaCrlsTable } from './schema.ts';

const toRole = (r: Selectable<Database['va_roles']>): VaRole => ({
  caId: r.ca_id,
  settings: JSON.parse(r.settings) as VaRoleSettings,
  createdAt: new Date(Number(r.created_at)),
  updatedAt: new Date(Number(r.updated_at)),
});

export class SqlVaRoleRepository implements VaRoleRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async get(caId: string): Promise<VaRole | undefined> {
    const row = await this.db.selectFrom('va_roles').selectAll().where('ca_id', '=', caId).executeTakeFirst();
    return row && toRole(row);
  }

  async insertIfAbsent(role: VaRole): Promise<VaRole> {
    await this.db
      .insertInto('va_roles')
      .values(this.row(role))
      .onConflict((oc) => oc.column('ca_id').doNothing())
      .execute();
    return (await this.get(role.caId))!;
  }

  async put(role: VaRole): Promise<void> {
    const row = this.row(role);
    await this.db
      .insertInto('va_roles')
      .values(row)
      .onConflict((oc) => oc.column('ca_id').doUpdateSet({ settings: row.settings, updated_at: row.updated_at }))
      .execute();
  }

  private row(role: VaRole) {
    return {
      ca_id: role.caId,
      settings: JSON.stringify(role.settings),
      created_at: role.createdAt.getTime(),
      updated_at: role.updatedAt.getTime(),
    };
  }
}

type CrlMetaRow = Omit<Selectable<VaCrlsTable>, 'der'>;
const META_COLUMNS = ['ca_id', 'kind', 'crl_number', 'base_number', 'this_update', 'next_update', 'generated_at'] as const;

const toMeta = (r: CrlMetaRow): CrlMeta => ({
  caId: r.ca_id,
  kind: r.kind as CrlKind,
  number: Number(r.crl_number),
  baseNumber: r.base_number === null ? null : Number(r.base_number),
  thisUpdate: new Date(Number(r.this_update)),
  nextUpdate: new Date(Number(r.next_update)),
  generatedAt: new Date(Number(r.generated_at)),
});

export class SqlCrlRepository implements CrlRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async nextNumber(caId: string): Promise<number> {
    // One statement on both dialects: the counter row is created at 1 or incremented atomically.
    const row = await this.db
      .insertInto('va_crl_numbers')
      .values({ ca_id: caId, last_number: 1 })
      .onConflict((oc) => oc.column('ca_id').doUpdateSet((eb) => ({ last_number: eb('va_crl_numbers.last_number', '+', 1) })))
      .returning('last_number')
      .executeTakeFirstOrThrow();
    return Number(row.last_number);
  }

  async save(crl: CrlRecord): Promise<boolean> {
    const row = {
      ca_id: crl.caId,
      kind: crl.kind,
      crl_number: crl.number,
      base_number: crl.baseNumber,
      this_update: crl.thisUpdate.getTime(),
      next_update: crl.nextUpdate.getTime(),
      generated_at: crl.generatedAt.getTime(),
      der: crl.der,
    };
    const { ca_id: _c, kind: _k, ...update } = row;
    const saved = await this.db
      .insertInto('va_crls')
      .values(row)
      .onConflict((oc) =>
        oc
          .columns(['ca_id', 'kind'])
          .doUpdateSet(update)
          .where('va_crls.crl_number', '<', crl.number),
      )
      .returning('crl_number')
      .executeTakeFirst();
    return saved !== undefined;
  }

  async meta(caId: string, kind: CrlKind): Promise<CrlMeta | undefined> {
    const row = await this.db.selectFrom('va_crls').select(META_COLUMNS).where('ca_id', '=', caId).where('kind', '=', kind).executeTakeFirst();
    return row && toMeta(row);
  }

  async get(caId: string, kind: CrlKind): Promise<CrlRecord | undefined> {
    const row = await this.db.selectFrom('va_crls').selectAll().where('ca_id', '=', caId).where('kind', '=', kind).executeTakeFirst();
    return row && { ...toMeta(row), der: new Uint8Array(row.der) };
  }

  async listMeta(): Promise<CrlMeta[]> {
    const rows = await this.db.selectFrom('va_crls').select(META_COLUMNS).orderBy('ca_id').orderBy('kind').execute();
    return rows.map(toMeta);
  }

  async addRemoval(r: CrlRemoval): Promise<void> {
    await this.db
      .insertInto('va_crl_removals')
      .values({ ca_id: r.caId, serial_number: r.serialNumber, removed_at: r.removedAt.getTime() })
      .execute();
  }

  async removalsSince(caId: string, since: Date): Promise<CrlRemoval[]> {
    const rows = await this.db
      .selectFrom('va_crl_removals')
      .selectAll()
      .where('ca_id', '=', caId)
      .where('removed_at', '>=', since.getTime())
      .orderBy('removed_at')
      .execute();
    return rows.map((r) => ({ caId: r.ca_id, serialNumber: r.serial_number, removedAt: new Date(Number(r.removed_at)) }));
  }

  async pruneRemovals(caId: string, before: Date): Promise<void> {
    await this.db.deleteFrom('va_crl_removals').where('ca_id', '=', caId).where('removed_at', '<', before.getTime()).execute();
  }
}

export class SqlOcspResponderRepository implements OcspResponderRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async get(caId: string): Promise<OcspResponderRecord | undefined> {
    const r = await this.db.selectFrom('va_ocsp_responders').selectAll().where('ca_id', '=', caId).executeTakeFirst();
    return (
      r && {
        caId: r.ca_id,
        certificateDer: new Uint8Array(r.der),
        serialNumber: r.serial_number,
        engineId: r.engine_id,
        keyId: r.key_id,
        notAfter: new Date(Number(r.not_after)),
        createdAt: new Date(Number(r.created_at)),
      }
    );
  }

  async put(rec: OcspResponderRecord): Promise<void> {
    const row = {
      ca_id: rec.caId,
      der: rec.certificateDer,
      serial_number: rec.serialNumber,
      engine_id: rec.engineId,
      key_id: rec.keyId,
      not_after: rec.notAfter.getTime(),
      created_at: rec.createdAt.getTime(),
    };
    const { ca_id: _c, ...update } = row;
    await this.db
      .insertInto('va_ocsp_responders')
      .values(row)
      .onConflict((oc) => oc.column('ca_id').doUpdateSet(update))
      .execute();
  }
}
