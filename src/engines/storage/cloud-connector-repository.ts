/** The cloud proxy's storage: the connector registry, each connector's jobs, and what it made in its cloud. */
import { sql, type Kysely, type Selectable } from 'kysely';
import type {
  CloudResource,
  Connector,
  ConnectorJob,
  ConnectorRepository,
  ConnectorStatus,
  JobKind,
  JobStatus,
  NewConnectorJob,
} from '../../domain/cloud/connector.ts';
import type { CloudConnectorJobsTable, CloudConnectorResourcesTable, CloudConnectorsTable, Database } from './schema.ts';

const toJob = (r: Selectable<CloudConnectorJobsTable>): ConnectorJob => ({
  seq: Number(r.seq),
  id: r.id,
  connectorId: r.connector_id,
  eventId: r.event_id,
  kind: r.kind as JobKind,
  key: r.key,
  deviceId: r.device_id,
  payload: JSON.parse(r.payload) as Record<string, unknown>,
  status: r.status as JobStatus,
  attempts: Number(r.attempts),
  progress: JSON.parse(r.progress) as string[],
  createdAt: new Date(Number(r.created_at)),
  nextAttemptAt: new Date(Number(r.next_attempt_at)),
  finishedAt: r.finished_at === null ? null : new Date(Number(r.finished_at)),
  lastError: r.last_error,
  result: r.result === null || r.result === undefined ? null : (JSON.parse(r.result) as Record<string, unknown>),
});

const toResource = (r: Selectable<CloudConnectorResourcesTable>): CloudResource => ({
  connectorId: r.connector_id,
  kind: r.kind as CloudResource['kind'],
  key: r.key,
  deviceId: r.device_id,
  cloudId: r.cloud_id,
  arn: r.arn,
  thingName: r.thing_name,
  status: r.status,
  details: JSON.parse(r.details) as Record<string, unknown>,
  updatedAt: new Date(Number(r.updated_at)),
  recheckAt: r.recheck_at === null || r.recheck_at === undefined ? null : new Date(Number(r.recheck_at)),
});

export class SqlConnectorRepository implements ConnectorRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async register(c: { id: string; type: string; settings: Record<string, unknown>; now: Date }): Promise<void> {
    const settings = JSON.stringify(c.settings);
    await this.db
      .insertInto('cloud_connectors')
      .values({
        id: c.id,
        type: c.type,
        status: 'CONNECTED',
        status_detail: null,
        config: '{}',
        settings,
        registered_at: c.now.getTime(),
        last_seen_at: c.now.getTime(),
        last_sync_at: null,
        status_at: c.now.getTime(),
      })
      .onConflict((oc) => oc.column('id').doUpdateSet({ type: c.type, settings, last_seen_at: c.now.getTime() }))
      .execute();
  }

  private async counts(ids: string[]): Promise<Map<string, { backlog: number; failed: number }>> {
    const out = new Map<string, { backlog: number; failed: number }>();
    if (ids.length === 0) return out;
    const rows = await this.db
      .selectFrom('cloud_connector_jobs')
      .select(['connector_id', 'status', sql<number>`count(*)`.as('n')])
      .where('connector_id', 'in', ids)
      .where('status', 'in', ['PENDING', 'FAILED'])
      .groupBy(['connector_id', 'status'])
      .execute();
    for (const r of rows) {
      const c = out.get(r.connector_id) ?? { backlog: 0, failed: 0 };
      if (r.status === 'PENDING') c.backlog = Number(r.n);
      else c.failed = Number(r.n);
      out.set(r.connector_id, c);
    }
    return out;
  }

  private toConnector(r: Selectable<CloudConnectorsTable>, counts: { backlog: number; failed: number } | undefined): Connector {
    return {
      id: r.id,
      type: r.type,
      status: r.status as ConnectorStatus,
      statusDetail: r.status_detail,
      config: JSON.parse(r.config) as Record<string, unknown>,
      settings: JSON.parse(r.settings) as Record<string, unknown>,
      registeredAt: new Date(Number(r.registered_at)),
      lastSeenAt: new Date(Number(r.last_seen_at)),
      lastSyncAt: r.last_sync_at === null ? null : new Date(Number(r.last_sync_at)),
      backlog: counts?.backlog ?? 0,
      failed: counts?.failed ?? 0,
    };
  }

  async get(id: string): Promise<Connector | undefined> {
    const row = await this.db.selectFrom('cloud_connectors').selectAll().where('id', '=', id).executeTakeFirst();
    return row && this.toConnector(row, (await this.counts([id])).get(id));
  }

  async list(): Promise<Connector[]> {
    const rows = await this.db.selectFrom('cloud_connectors').selectAll().orderBy('id').execute();
    const counts = await this.counts(rows.map((r) => r.id));
    return rows.map((r) => this.toConnector(r, counts.get(r.id)));
  }

  async setConfig(id: string, config: Record<string, unknown>): Promise<boolean> {
    const r = await this.db.updateTable('cloud_connectors').set({ config: JSON.stringify(config) }).where('id', '=', id).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async setStatus(id: string, status: ConnectorStatus, detail: string | null, now: Date): Promise<void> {
    await this.db.updateTable('cloud_connectors').set({ status, status_detail: detail, status_at: now.getTime(), last_seen_at: now.getTime() }).where('id', '=', id).execute();
  }

  async setLastSync(id: string, at: Date): Promise<void> {
    await this.db.updateTable('cloud_connectors').set({ last_sync_at: at.getTime() }).where('id', '=', id).execute();
  }

  async enqueue(jobs: NewConnectorJob[]): Promise<number> {
    if (jobs.length === 0) return 0;
    const rows = await this.db
      .insertInto('cloud_connector_jobs')
      .values(
        jobs.map((j) => ({
          id: j.id,
          connector_id: j.connectorId,
          event_id: j.eventId,
          kind: j.kind,
          key: j.key,
          device_id: j.deviceId,
          payload: JSON.stringify(j.payload),
          status: 'PENDING',
          attempts: 0,
          progress: '[]',
          created_at: j.createdAt.getTime(),
          next_attempt_at: j.createdAt.getTime(),
          finished_at: null,
          last_error: null,
          result: null,
        })),
      )
      .onConflict((oc) => oc.columns(['connector_id', 'event_id', 'kind', 'key']).doNothing())
      .returning('id')
      .execute();
    return rows.length;
  }

  async hasJob(connectorId: string, kind: JobKind, match: { key?: string; deviceId?: string }): Promise<boolean> {
    let q = this.db.selectFrom('cloud_connector_jobs').select('id').where('connector_id', '=', connectorId).where('kind', '=', kind);
    if (match.key !== undefined) q = q.where('key', '=', match.key);
    if (match.deviceId !== undefined) q = q.where('device_id', '=', match.deviceId);
    const row = await q.limit(1).executeTakeFirst();
    return row !== undefined;
  }

  async headJob(connectorId: string): Promise<ConnectorJob | undefined> {
    const row = await this.db
      .selectFrom('cloud_connector_jobs')
      .selectAll()
      .where('connector_id', '=', connectorId)
      .where('status', '=', 'PENDING')
      .orderBy('seq')
      .limit(1)
      .executeTakeFirst();
    return row && toJob(row);
  }

  async addProgress(jobId: string, step: string): Promise<void> {
    const row = await this.db.selectFrom('cloud_connector_jobs').select('progress').where('id', '=', jobId).executeTakeFirst();
    if (!row) return;
    const progress = JSON.parse(row.progress) as string[];
    if (progress.includes(step)) return;
    await this.db.updateTable('cloud_connector_jobs').set({ progress: JSON.stringify([...progress, step]) }).where('id', '=', jobId).execute();
  }

  async finishJob(jobId: string, outcome: { status: 'DONE' | 'FAILED'; at: Date; error: string | null }): Promise<void> {
    await this.db
      .updateTable('cloud_connector_jobs')
      .set((eb) => ({ status: outcome.status, finished_at: outcome.at.getTime(), last_error: outcome.error, attempts: eb('attempts', '+', 1) }))
      .where('id', '=', jobId)
      .execute();
  }

  async retryJob(jobId: string, outcome: { at: Date; nextAttemptAt: Date; error: string }): Promise<void> {
    await this.db
      .updateTable('cloud_connector_jobs')
      .set((eb) => ({ next_attempt_at: outcome.nextAttemptAt.getTime(), last_error: outcome.error, attempts: eb('attempts', '+', 1) }))
      .where('id', '=', jobId)
      .execute();
  }

  async listJobs(connectorId: string, filter: { deviceId?: string; key?: string; kind?: JobKind; limit: number }): Promise<ConnectorJob[]> {
    let q = this.db.selectFrom('cloud_connector_jobs').selectAll().where('connector_id', '=', connectorId);
    if (filter.deviceId !== undefined) q = q.where('device_id', '=', filter.deviceId);
    if (filter.key !== undefined) q = q.where('key', '=', filter.key);
    if (filter.kind !== undefined) q = q.where('kind', '=', filter.kind);
    const rows = await q.orderBy('seq', 'desc').limit(filter.limit).execute();
    return rows.map(toJob);
  }

  async getJob(connectorId: string, jobId: string): Promise<ConnectorJob | undefined> {
    const row = await this.db.selectFrom('cloud_connector_jobs').selectAll().where('connector_id', '=', connectorId).where('id', '=', jobId).executeTakeFirst();
    return row && toJob(row);
  }

  async setJobResult(jobId: string, result: Record<string, unknown>): Promise<void> {
    await this.db.updateTable('cloud_connector_jobs').set({ result: JSON.stringify(result) }).where('id', '=', jobId).execute();
  }

  async putResource(r: CloudResource): Promise<void> {
    const values = {
      connector_id: r.connectorId,
      kind: r.kind,
      key: r.key,
      device_id: r.deviceId,
      cloud_id: r.cloudId,
      arn: r.arn,
      thing_name: r.thingName,
      status: r.status,
      details: JSON.stringify(r.details),
      updated_at: r.updatedAt.getTime(),
      recheck_at: r.recheckAt?.getTime() ?? null,
    };
    await this.db
      .insertInto('cloud_connector_resources')
      .values(values)
      .onConflict((oc) =>
        oc.columns(['connector_id', 'kind', 'key']).doUpdateSet({
          device_id: values.device_id,
          cloud_id: values.cloud_id,
          arn: values.arn,
          thing_name: values.thing_name,
          status: values.status,
          details: values.details,
          updated_at: values.updated_at,
          recheck_at: values.recheck_at,
        }),
      )
      .execute();
  }

  async getResource(connectorId: string, kind: CloudResource['kind'], key: string): Promise<CloudResource | undefined> {
    const row = await this.db
      .selectFrom('cloud_connector_resources')
      .selectAll()
      .where('connector_id', '=', connectorId)
      .where('kind', '=', kind)
      .where('key', '=', key)
      .executeTakeFirst();
    return row && toResource(row);
  }

  async resourcesOfDevice(connectorId: string, deviceId: string): Promise<CloudResource[]> {
    const rows = await this.db
      .selectFrom('cloud_connector_resources')
      .selectAll()
      .where('connector_id', '=', connectorId)
      .where('device_id', '=', deviceId)
      .orderBy('updated_at', 'desc')
      .execute();
    return rows.map(toResource);
  }

  async listResources(connectorId: string, kind: CloudResource['kind']): Promise<CloudResource[]> {
    const rows = await this.db
      .selectFrom('cloud_connector_resources')
      .selectAll()
      .where('connector_id', '=', connectorId)
      .where('kind', '=', kind)
      .orderBy('key')
      .execute();
    return rows.map(toResource);
  }

  async resourcesToRecheck(connectorId: string, at: Date, limit: number): Promise<CloudResource[]> {
    const rows = await this.db
      .selectFrom('cloud_connector_resources')
      .selectAll()
      .where('connector_id', '=', connectorId)
      .where('recheck_at', 'is not', null)
      .where('recheck_at', '<=', at.getTime())
      .orderBy('recheck_at')
      .limit(limit)
      .execute();
    return rows.map(toResource);
  }
}
