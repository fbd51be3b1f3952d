/**
 * Prometheus metrics for both listeners: request counts and latency per route, plus the process metrics
 * of prom-client. One registry per server (not prom-client's global one), so tests can build many.
 */
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export class HttpMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'listener' | 'method' | 'route' | 'status'>;
  private readonly duration: Histogram<'listener' | 'method' | 'route'>;

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
      const route = request.routeOptions.url ?? 'unmatched';
      const labels = { listener, method: request.method, route };
      this.requests.inc({ ...labels, status: String(reply.statusCode) });
      this.duration.observe(labels, reply.elapsedTime / 1000);
    });
  }

  contentType(): string {
    return this.registry.contentType;
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }
}
