/**
 * The cloud proxy: the registry of cloud connectors (they register themselves, in this process or another
 * one sharing the database), their configuration, synchronization requests and what they know of a device.
 * Work for a connector is a job in its queue, so any replica can ask and the connector's runner does it.
 */
import type { ConnectorDriver } from '../../domain/cloud/connector-driver.ts';
import { parseConnectorConfig } from '../../domain/cloud/connector-config.ts';
import type { CloudResource, Connector, ConnectorJob, ConnectorRepository } from '../../domain/cloud/connector.ts';
import { notFound } from '../../domain/errors.ts';
import type { Clock } from '../../domain/ports/clock.ts';
import type { RandomSource } from '../../domain/ports/id-generator.ts';
import type { Logger } from '../../domain/ports/logger.ts';

export interface CloudProxyDeps {
  connectors: ConnectorRepository;
  /** Connectors running in this process (for live reads and an immediate start of queued work). */
  drivers: () => ReadonlyMap<string, ConnectorDriver>;
  clock: Clock;
  random: RandomSource;
  logger: Logger;
}

export interface DeviceCloudState {
  connectorId: string;
  deviceId: string;
  resources: CloudResource[];
  /** The device's latest jobs, newest first. */
  jobs: ConnectorJob[];
  /** Read from the cloud now, when the connector runs in this process; null otherwise or when it could not be read. */
  live: Record<string, unknown> | null;
  liveError: string | null;
}

export class CloudProxyService {
  constructor(private readonly deps: CloudProxyDeps) {}

  list(): Promise<Connector[]> {
    return this.deps.connectors.list();
  }

  async get(id: string): Promise<Connector> {
    const c = await this.deps.connectors.get(id);
    if (!c) throw notFound('CONNECTOR_NOT_FOUND', `no cloud connector with id "${id}"`, { id });
    return c;
  }

  async setConfig(id: string, body: unknown): Promise<Connector> {
    const config = parseConnectorConfig(body);
    await this.get(id);
    await this.deps.connectors.setConfig(id, config);
    this.deps.drivers().get(id)?.wake();
    return this.get(id);
  }

  /**
   * Queues a full synchronization (CAs, then certificates and devices); answers the job, once finished when
   * `waitMs` is given and it finishes by then (whichever replica runs the connector: the job is read back).
   */
  async synchronize(id: string, actor: string, waitMs = 0): Promise<ConnectorJob> {
    await this.get(id);
    let job = await this.queue(id, 'SYNC', id, null, { requested_by: actor });
    const until = this.deps.clock.now().getTime() + waitMs;
    while (job.status === 'PENDING' && this.deps.clock.now().getTime() < until) {
      await new Promise((r) => setTimeout(r, 200));
      job = (await this.deps.connectors.getJob(id, job.id)) ?? job;
    }
    return job;
  }

  async job(id: string, jobId: string): Promise<ConnectorJob> {
    await this.get(id);
    const job = await this.deps.connectors.getJob(id, jobId);
    if (!job) throw notFound('CONNECTOR_JOB_NOT_FOUND', `cloud connector "${id}" has no job "${jobId}"`, { id, jobId });
    return job;
  }

  /** Asks the device, through its shadow, to re-enroll. */
  async requestReenroll(id: string, deviceId: string, actor: string): Promise<ConnectorJob> {
    await this.get(id);
    const known = await this.deps.connectors.resourcesOfDevice(id, deviceId);
    if (!known.some((r) => r.kind === 'CERTIFICATE')) throw this.unknownDevice(id, deviceId);
    return this.queue(id, 'SHADOW', deviceId, deviceId, { action: 'UPDATE_CERTIFICATE', requested_by: actor });
  }

  private async queue(id: string, kind: ConnectorJob['kind'], key: string, deviceId: string | null, payload: Record<string, unknown>): Promise<ConnectorJob> {
    const jobId = this.deps.random.uuid();
    await this.deps.connectors.enqueue([{ id: jobId, connectorId: id, eventId: `api:${jobId}`, kind, key, deviceId, payload, createdAt: this.deps.clock.now() }]);
    this.deps.drivers().get(id)?.wake();
    const [job] = (await this.deps.connectors.listJobs(id, { key, kind, limit: 1 })).filter((j) => j.id === jobId);
    return job!;
  }

  async deviceState(id: string, deviceId: string): Promise<DeviceCloudState> {
    await this.get(id);
    const [resources, jobs] = await Promise.all([this.deps.connectors.resourcesOfDevice(id, deviceId), this.deps.connectors.listJobs(id, { deviceId, limit: 20 })]);
    if (resources.length === 0 && jobs.length === 0) throw this.unknownDevice(id, deviceId);
    const driver = this.deps.drivers().get(id);
    let live: Record<string, unknown> | null = null;
    let liveError: string | null = null;
    if (driver) {
      try {
        live = (await driver.liveDeviceState(deviceId)) ?? null;
      } catch (err) {
        liveError = err instanceof Error ? err.message : String(err);
      }
    }
    return { connectorId: id, deviceId, resources, jobs, live, liveError };
  }

  private unknownDevice(id: string, deviceId: string) {
    return notFound('CLOUD_DEVICE_NOT_FOUND', `cloud connector "${id}" has nothing for device "${deviceId}"`, { id, deviceId });
  }
}
