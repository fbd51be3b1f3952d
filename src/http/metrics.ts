/**
 * Prometheus metrics for both listeners: request counts and latency per route, plus the process metrics
 * of prom-client. One registry per server (not prom-client's global one), so tests can build many.
 */
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Clock } from '../domain/ports/clock.ts';
import type { OutboxBacklog } from '../domain/ports/outbox.ts';
import { KeptSeries } from './kept-series.ts';

/** What a bus that can lose its broker reports of its link (the RabbitMQ bus's state()). */
export interface EventBusStatus {
  connected: boolean;
  disconnects: number;
  reconnects: number;
  bufferedEvents: number;
  droppedEvents: number;
}

export class HttpMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'listener' | 'method' | 'route' | 'status'>;
  private readonly duration: Histogram<'listener' | 'method' | 'route'>;
  /** Per (listener, method, route, status): its counter and histogram children. */
  private readonly series = new KeptSeries<{ count: { inc(): void }; duration: { observe(v: number): void } }>();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: 'lamassu_http_requests_total',
      help: 'HTTP requests answered, by listener, method, route and status code',
      labelNames: ['listener', 'method', 'route', 'status'],
      registers: [this.registry],
    });
    this.duration = new Histogram({
      name: 'lamassu_http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by listener, method and route',
      labelNames: ['listener', 'method', 'route'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
  }

  /** Counts every answered request of `app`. Unmatched URLs share one label so scanners cannot blow up the series. */
  observe(app: FastifyInstance, listener: 'http' | 'https'): void {
    app.addHook('onResponse', async (request, reply) => {
      this.record(listener, request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    });
  }

  /** One answered request (for requests answered outside fastify: the fast paths). */
  record(listener: 'http' | 'https', method: string, route: string, status: number, seconds: number): void {
    const series = this.series.get(`${listener} ${method} ${route} ${status}`, () => {
      const labels = { listener, method, route };
      return { count: this.requests.labels({ ...labels, status: String(status) }), duration: this.duration.labels(labels) };
    });
    series.count.inc();
    series.duration.observe(seconds);
  }

  /** Exposes the event bus link: connected gauge, losses and returns, events waiting or dropped. */
  followEventBus(status: () => EventBusStatus): void {
    const registers = [this.registry];
    const gauge = (name: string, help: string, value: (s: EventBusStatus) => number) =>
      new Gauge({ name, help, registers, collect() { this.set(value(status())); } });
    const counter = (name: string, help: string, value: (s: EventBusStatus) => number) =>
      new Counter({ name, help, registers, collect() { this.reset(); this.inc(value(status())); } });
    gauge('lamassu_event_bus_connected', '1 while the message broker link is up, 0 while it is down', (s) => (s.connected ? 1 : 0));
    counter('lamassu_event_bus_disconnects_total', 'Message broker links lost', (s) => s.disconnects);
    counter('lamassu_event_bus_reconnects_total', 'Message broker links re-established after a loss', (s) => s.reconnects);
    gauge('lamassu_event_bus_buffered_events', 'Events waiting for the message broker', (s) => s.bufferedEvents);
    counter('lamassu_event_bus_dropped_events_total', 'Events dropped because the buffer was full while the broker was away', (s) => s.droppedEvents);
  }

  /** Exposes the transactional outbox: events waiting for the relay and the age of the oldest (read at scrape time). */
  followOutbox(backlog: () => Promise<OutboxBacklog>, clock: Clock): void {
    const registers = [this.registry];
    let last: Promise<OutboxBacklog | undefined> | undefined;
    // Gauges collected together share the read in flight; a failed read leaves them unset rather than failing the scrape.
    const read = () =>
      (last ??= backlog()
        .catch(() => undefined)
        .finally(() => {
          last = undefined;
        }));
    new Gauge({
      name: 'lamassu_outbox_backlog_events',
      help: 'Events written with their change and not yet relayed to the event bus',
      registers,
      async collect() {
        const b = await read();
        if (b) this.set(b.count);
      },
    });
    // The name issue #13 gives operators for the same backlog.
    new Gauge({
      name: 'lamassu_event_backlog',
      help: 'Events waiting in the outbox for the relay to send them to the event bus',
      registers,
      async collect() {
        const b = await read();
        if (b) this.set(b.count);
      },
    });
    new Gauge({
      name: 'lamassu_outbox_oldest_age_seconds',
      help: 'How long the oldest event in the outbox has waited for the relay (0 when none waits)',
      registers,
      async collect() {
        const b = await read();
        if (b) this.set(b.oldestCreatedAt === null ? 0 : Math.max(0, clock.now().getTime() - b.oldestCreatedAt) / 1000);
      },
    });
  }

  contentType(): string {
    return this.registry.contentType;
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }
}
