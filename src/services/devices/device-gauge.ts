/**
 * lamassu_devices{status} kept in memory, so that a scrape reads no row: one count by status at start,
 * then moved by the device events every replica hears (broadcast: each replica has its own copy, so each
 * counts the changes the others make); counted again when the event bus link comes back, since events may
 * have been lost meanwhile. Rationale shared with the CA's certificate gauges (docs/operations.md).
 */
import type { CloudEvent, EventBus } from '../../domain/ports/event-bus.ts';
import type { Logger } from '../../domain/ports/logger.ts';
import type { MetricsRecorder } from '../../domain/ports/metrics.ts';
import type { Storage } from '../../domain/ports/storage.ts';
import { DeviceCloudEvent } from './device-service.ts';

interface DeviceEventData {
  status?: string;
  previous_status?: string;
}

export interface DeviceGaugeDeps {
  storage: Pick<Storage, 'devices'>;
  events: EventBus;
  logger: Logger;
  metrics: MetricsRecorder;
  replicaId: string;
}

export class DeviceGauge {
  private counts = new Map<string, number>();
  private readonly stops: (() => Promise<void>)[] = [];
  private generation = 0;

  constructor(private readonly deps: DeviceGaugeDeps) {}

  async start(): Promise<void> {
    const { events, replicaId } = this.deps;
    const follow = async (type: string, handle: (d: DeviceEventData) => void) =>
      this.stops.push(await events.subscribe(type, `devices.metrics.${replicaId}.${type}`, (e: CloudEvent) => handle(e.data as DeviceEventData), { broadcast: true }));
    await follow(DeviceCloudEvent.create, (d) => this.add(d.status, 1));
    await follow(DeviceCloudEvent.statusUpdate, (d) => {
      if (d.previous_status === d.status) return;
      this.add(d.previous_status, -1);
      this.add(d.status, 1);
    });
    const offLink = events.onLinkChange?.((up) => {
      if (up) void this.recount();
    });
    if (offLink) this.stops.push(async () => offLink());
    await this.recount();
    this.deps.metrics.stateGauge('devices', () => [...this.counts].map(([status, value]) => ({ labels: { status }, value })));
  }

  async stop(): Promise<void> {
    await Promise.all(this.stops.splice(0).map((stop) => stop()));
  }

  async recount(): Promise<void> {
    const generation = ++this.generation;
    try {
      const rows = await this.deps.storage.devices.countByStatus({});
      if (generation !== this.generation) return;
      this.counts = new Map(rows.map((r) => [r.status, r.count]));
    } catch (err) {
      this.deps.logger.warn({ err }, 'counting devices for /metrics failed; the gauge keeps its last values');
    }
  }

  private add(status: string | undefined, n: number): void {
    if (status === undefined) return;
    this.counts.set(status, Math.max(0, (this.counts.get(status) ?? 0) + n));
  }
}
