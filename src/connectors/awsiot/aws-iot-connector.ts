/**
 * The AWS IoT Core connector. It follows the bus like the alerts service: its handler only writes jobs (one
 * transaction, unique per event, kind and key, so a redelivered event queues nothing), and a runner works the
 * jobs in the order they were written, from the one replica holding the connector's lease. A failure that may
 * pass (AWS unreachable, throttled, 5xx) keeps the job at the head of the queue and retries it with exponential
 * back-off: the backlog grows while AWS is away and drains in order when it is back, across restarts.
 */
import type { ConnectorDriver } from '../../domain/cloud/connector-driver.ts';
import type { ConnectorJob, ConnectorRepository, ConnectorStatus, JobKind, NewConnectorJob } from '../../domain/cloud/connector.ts';
import type { CloudLamassuGateway } from '../../domain/cloud/lamassu-gateway.ts';
import type { Clock } from '../../domain/ports/clock.ts';
import type { CloudEvent, EventBus } from '../../domain/ports/event-bus.ts';
import type { RandomSource } from '../../domain/ports/id-generator.ts';
import type { LeaseRepository } from '../../domain/ports/lease.ts';
import type { Logger } from '../../domain/ports/logger.ts';
import { AwsCallError, type AwsIotApi } from './aws-iot-api.ts';
import { AwsIotActions, type RotationSettings } from './aws-iot-actions.ts';
import { caBinding, dmsBinding, documentSha256, sameCaConfig, str, type CaBinding } from './bindings.ts';

export const AWS_IOT_CONNECTOR_TYPE = 'AWS_IOT';
export const DEFAULT_SHADOW_NAME = 'lamassu';

/** The event types the connector acts on. */
export const AWS_CONNECTOR_EVENTS = [
  'ca.create',
  'ca.import',
  'ca.metadata.update',
  'ca.status.update',
  'dms.update',
  'dms.metadata.update',
  'dms.enroll',
  'dms.reenroll',
  'certificate.status.update',
  'certificate.expiring',
  'device.decommission',
] as const;

export interface AwsIotConnectorDeps {
  id: string;
  repo: ConnectorRepository;
  leases: LeaseRepository;
  api: AwsIotApi;
  lamassu: CloudLamassuGateway;
  clock: Clock;
  random: RandomSource;
  logger: Logger;
  /** Names this process in the lease. */
  holder: string;
  retry: { baseMs: number; maxMs: number };
  /** What the connector says about itself in the registry (region, endpoints). */
  settings: Record<string, unknown>;
  /** How often the queue is looked at when nothing woke the runner (jobs other replicas queued). */
  pollMs?: number;
  /** Re-enrollment: how often a superseded certificate's device is looked at, and the grace period. */
  rotation?: RotationSettings;
}

const LEASE_TTL_MS = 30_000;
export const DEFAULT_ROTATION: RotationSettings = { checkMs: 5 * 60_000, graceMs: 7 * 86_400_000 };
/** Superseded certificates looked at per pass of the runner. */
const RECHECK_BATCH = 50;

type Data = Record<string, unknown>;

export class AwsIotConnector implements ConnectorDriver {
  readonly type = AWS_IOT_CONNECTOR_TYPE;
  private readonly actions: AwsIotActions;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  private status: ConnectorStatus | undefined;
  private leaseRenewedAt = 0;
  private handling: Promise<unknown> = Promise.resolve();
  /** Next time the runner looks for superseded certificates due for a check (pushed back while AWS fails). */
  private nextRecheckAt = 0;
  private readonly rotation: RotationSettings;
  private recheckFailures = 0;

  constructor(private readonly d: AwsIotConnectorDeps) {
    this.rotation = d.rotation ?? DEFAULT_ROTATION;
    this.actions = new AwsIotActions({ connectorId: d.id, repo: d.repo, api: d.api, lamassu: d.lamassu, clock: d.clock, rotation: this.rotation });
  }

  get id(): string {
    return this.d.id;
  }

  /** Registers itself in the cloud proxy's registry, follows the bus, and starts working its backlog. */
  async start(bus: EventBus): Promise<() => Promise<void>> {
    await this.d.repo.register({ id: this.d.id, type: this.type, settings: this.d.settings, now: this.d.clock.now() });
    const unsubscribers = await Promise.all(
      AWS_CONNECTOR_EVENTS.map((type) => bus.subscribe(type, `cloud-${this.d.id}`, (event) => this.handleEvent(event).then(() => undefined))),
    );
    this.stopped = false;
    this.wake();
    return async () => {
      for (const u of unsubscribers) await u();
      await this.stop();
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await this.d.leases.release(this.leaseName, this.d.holder).catch(() => undefined);
  }

  private get leaseName() {
    return `cloud-connector:${this.d.id}`;
  }

  /**
   * The jobs this event means for the connector, queued; returns how many were new. Events are handled one at
   * a time, in the order they arrive: whether a revocation concerns AWS depends on the enrollment queued before it.
   */
  handleEvent(event: CloudEvent): Promise<number> {
    const done = this.handling.then(async () => {
      const jobs = await this.jobsFor(event);
      if (jobs.length === 0) return 0;
      const added = await this.d.repo.enqueue(jobs);
      if (added > 0) this.wake();
      return added;
    });
    this.handling = done.catch(() => undefined);
    return done;
  }

  private job(event: CloudEvent, kind: JobKind, key: string, deviceId: string | null, payload: Data): NewConnectorJob {
    return { id: this.d.random.uuid(), connectorId: this.d.id, eventId: event.id, kind, key, deviceId, payload, createdAt: this.d.clock.now() };
  }

  private async jobsFor(event: CloudEvent): Promise<NewConnectorJob[]> {
    const data = (event.data ?? {}) as Data;
    const has = (kind: JobKind, match: { key?: string; deviceId?: string }) => this.d.repo.hasJob(this.d.id, kind, match);
    switch (event.type) {
      case 'ca.create':
      case 'ca.import':
      case 'ca.metadata.update': {
        const caId = str(data.id) ?? str(event.subject);
        if (!caId) return [];
        const ca = await this.d.lamassu.ca(caId);
        const binding = ca && caBinding(ca.metadata, this.d.id);
        if (!binding) return [];
        const latest = await this.latestCaJob(caId);
        if (!latest) return [this.job(event, 'REGISTER_CA', caId, null, { binding })];
        // Registered (or queued to be): a change of auto-registration or provisioning template follows.
        return sameCaConfig(latest.payload.binding as CaBinding, binding) ? [] : [this.job(event, 'CA_CONFIG', caId, null, { binding })];
      }
      case 'dms.update':
      case 'dms.metadata.update': {
        // A policy document changed: a new default version of the policy in AWS (when the connector made it).
        const dmsId = str(data.id) ?? str(event.subject);
        const metadata = dmsId ? await this.d.lamassu.dmsMetadata(dmsId) : undefined;
        const binding = metadata && dmsBinding(metadata, this.d.id, DEFAULT_SHADOW_NAME);
        if (!binding) return [];
        const jobs: NewConnectorJob[] = [];
        for (const p of binding.policies) {
          if (!p.document) continue;
          const known = await this.d.repo.getResource(this.d.id, 'POLICY', p.name);
          if (known && known.details.document_sha256 === documentSha256(p.document)) continue;
          jobs.push(this.job(event, 'POLICY', p.name, null, { dms_id: dmsId, policy_document: p.document }));
        }
        return jobs;
      }
      case 'ca.status.update': {
        const caId = str(data.id) ?? str(event.subject);
        if (!caId || !['REVOKED', 'EXPIRED'].includes(String(data.status))) return [];
        return (await has('REGISTER_CA', { key: caId })) ? [this.job(event, 'DEACTIVATE_CA', caId, null, {})] : [];
      }
      case 'dms.enroll':
      case 'dms.reenroll': {
        const [dmsId, deviceId, serial, caId] = [str(data.dms_id), str(data.device_id), str(data.serial_number), str(data.ca_id)];
        if (!dmsId || !deviceId || !serial || !caId) return [];
        const metadata = await this.d.lamassu.dmsMetadata(dmsId);
        const binding = metadata && dmsBinding(metadata, this.d.id, await this.shadowName());
        if (!binding) return [];
        return [this.job(event, 'ENROLL', serial, deviceId, { dms_id: dmsId, device_id: deviceId, serial_number: serial, ca_id: caId, slot: str(data.slot) ?? null, reenroll: event.type === 'dms.reenroll', binding })];
      }
      case 'certificate.status.update': {
        const serial = str(data.serial_number);
        if (!serial || !(await has('ENROLL', { key: serial }))) return [];
        return [this.job(event, 'CERT_STATUS', serial, null, { status: data.status, previous_status: data.previous_status ?? null, revocation_reason: data.revocation_reason ?? null })];
      }
      case 'certificate.expiring': {
        // The device should re-enroll: ask it through its shadow (Lamassu's identity_actions.UPDATE_CERTIFICATE).
        const serial = str(data.serial_number);
        if (!serial) return [];
        const enrolled = (await this.d.repo.listJobs(this.d.id, { limit: 1, key: serial, kind: 'ENROLL' }))[0];
        return enrolled?.deviceId ? [this.job(event, 'SHADOW', enrolled.deviceId, enrolled.deviceId, { action: 'UPDATE_CERTIFICATE', serial_number: serial, delta: data.delta ?? null })] : [];
      }
      case 'device.decommission': {
        const deviceId = str(data.id) ?? str(event.subject);
        if (!deviceId || !(await has('ENROLL', { deviceId }))) return [];
        return [this.job(event, 'DECOMMISSION', deviceId, deviceId, {})];
      }
      default:
        return [];
    }
  }

  /** The newest REGISTER_CA or CA_CONFIG job of a CA: the binding last asked for. */
  private async latestCaJob(caId: string): Promise<ConnectorJob | undefined> {
    const [registered, configured] = await Promise.all([
      this.d.repo.listJobs(this.d.id, { key: caId, kind: 'REGISTER_CA', limit: 1 }),
      this.d.repo.listJobs(this.d.id, { key: caId, kind: 'CA_CONFIG', limit: 1 }),
    ]);
    return [...registered, ...configured].sort((a, b) => b.seq - a.seq)[0];
  }

  private async shadowName(): Promise<string> {
    const c = await this.d.repo.get(this.d.id);
    return str(c?.config.shadow_name) ?? DEFAULT_SHADOW_NAME;
  }

  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.running = this.drain()
      .catch((err: unknown) => {
        // The database failed under the runner: look again after the poll interval rather than wait for an event.
        this.d.logger.error({ err, connector: this.d.id }, 'connector runner failed; trying again');
        this.schedule(this.d.pollMs ?? 1000);
      })
      .finally(() => {
        this.running = undefined;
        if (this.stopped) return;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.wake(), Math.max(0, ms));
    this.timer.unref();
  }

  private async holdLease(): Promise<boolean> {
    const now = this.d.clock.now();
    if (now.getTime() - this.leaseRenewedAt < LEASE_TTL_MS / 3) return true;
    const held = await this.d.leases.tryAcquire(this.leaseName, this.d.holder, LEASE_TTL_MS, now);
    this.leaseRenewedAt = held ? now.getTime() : 0;
    return held;
  }

  /** Runs due jobs in order until the queue is empty, the head is not due yet, or this replica does not hold the lease. */
  private async drain(): Promise<void> {
    const pollMs = this.d.pollMs ?? 1000;
    for (;;) {
      if (this.stopped) return;
      if (!(await this.holdLease())) return this.schedule(pollMs * 5);
      const connector = await this.d.repo.get(this.d.id);
      if (connector?.config.enabled === false) return this.schedule(pollMs);
      await this.recheck(pollMs);
      const job = await this.d.repo.headJob(this.d.id);
      if (!job) return this.schedule(pollMs);
      const wait = job.nextAttemptAt.getTime() - this.d.clock.now().getTime();
      if (wait > 0) return this.schedule(Math.min(wait, pollMs));
      await this.attempt(job);
    }
  }

  private async attempt(job: ConnectorJob): Promise<void> {
    try {
      await this.actions.run(job);
      await this.d.repo.finishJob(job.id, { status: 'DONE', at: this.d.clock.now(), error: null });
      await this.setStatus('CONNECTED', null);
    } catch (err) {
      const e = err instanceof AwsCallError ? err : new AwsCallError('transient', job.kind, 'Error', err instanceof Error ? err.message : String(err));
      const now = this.d.clock.now();
      if (e.kind === 'permanent') {
        this.d.logger.warn({ connector: this.d.id, job: job.id, kind: job.kind, key: job.key, error: e.message }, 'AWS IoT action failed for good');
        await this.d.repo.finishJob(job.id, { status: 'FAILED', at: now, error: e.message });
        await this.setStatus('DEGRADED', e.message);
        return;
      }
      const delay = Math.min(this.d.retry.maxMs, this.d.retry.baseMs * 2 ** Math.min(job.attempts, 20));
      this.d.logger.warn({ connector: this.d.id, job: job.id, kind: job.kind, attempts: job.attempts + 1, retryInMs: delay, error: e.message }, 'AWS IoT action failed; retrying');
      await this.d.repo.retryJob(job.id, { at: now, nextAttemptAt: new Date(now.getTime() + delay), error: e.message });
      await this.setStatus(e.kind === 'unreachable' ? 'DISCONNECTED' : 'DEGRADED', e.message);
    }
  }

  /**
   * Superseded certificates whose check is due (at most every poll interval): each device's shadow is read
   * and the old certificate deactivated once the device uses the new one or its grace period is over. The
   * state is in the database (recheck_at), so it survives restarts and moves with the lease.
   */
  private async recheck(pollMs: number): Promise<void> {
    const now = this.d.clock.now();
    if (now.getTime() < this.nextRecheckAt) return;
    this.nextRecheckAt = now.getTime() + pollMs;
    for (const res of await this.d.repo.resourcesToRecheck(this.d.id, now, RECHECK_BATCH)) {
      if (this.stopped) return;
      try {
        await this.actions.checkRotation(res);
        this.recheckFailures = 0;
        await this.setStatus('CONNECTED', null);
      } catch (err) {
        const e = err instanceof AwsCallError ? err : new AwsCallError('transient', 'RotationCheck', 'Error', err instanceof Error ? err.message : String(err));
        this.d.logger.warn({ connector: this.d.id, serial: res.key, device: res.deviceId, error: e.message }, 'superseded certificate check failed');
        if (e.kind === 'permanent') {
          // Not AWS being away: look at this one again after the check interval, the others now.
          await this.d.repo.putResource({ ...res, recheckAt: new Date(now.getTime() + this.rotation.checkMs), updatedAt: now });
          continue;
        }
        this.nextRecheckAt = now.getTime() + Math.min(this.d.retry.maxMs, this.d.retry.baseMs * 2 ** Math.min(this.recheckFailures++, 20));
        await this.setStatus(e.kind === 'unreachable' ? 'DISCONNECTED' : 'DEGRADED', e.message);
        return;
      }
    }
  }

  private async setStatus(status: ConnectorStatus, detail: string | null): Promise<void> {
    if (this.status === status && status === 'CONNECTED') return;
    this.status = status;
    await this.d.repo.setStatus(this.d.id, status, detail, this.d.clock.now());
  }

  async liveDeviceState(deviceId: string): Promise<Record<string, unknown> | undefined> {
    const thing = await this.d.api.describeThing(deviceId);
    if (!thing) return undefined;
    const principals = await this.d.api.listThingPrincipals(deviceId);
    const resources = await this.d.repo.resourcesOfDevice(this.d.id, deviceId);
    const shadowName = resources.map((r) => str(r.details.shadow_name)).find(Boolean) ?? (await this.shadowName());
    const shadow = await this.d.api.getThingShadow({ thingName: deviceId, shadowName });
    return { thing, principals, shadow: shadow ? { name: shadowName, ...shadow } : null };
  }
}
