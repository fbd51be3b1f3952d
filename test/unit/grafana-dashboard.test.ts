/** docs/grafana-dashboard.json parses, and every metric its queries use is one the server exposes. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { systemClock } from '../../src/domain/ports/clock.ts';
import { DOMAIN_METRIC_NAMES, PrometheusMetricsRecorder } from '../../src/http/domain-metrics.ts';
import { HttpMetrics } from '../../src/http/metrics.ts';

const dashboardFile = path.resolve(import.meta.dirname, '../../docs/grafana-dashboard.json');

interface Panel {
  title: string;
  targets?: { expr: string }[];
}

/** Every metric a server with the RabbitMQ bus exposes (the most there is). */
async function exposedNames(): Promise<Map<string, string>> {
  const metrics = new HttpMetrics();
  new PrometheusMetricsRecorder(metrics.registry);
  metrics.followOutbox(async () => ({ count: 0, oldestCreatedAt: null }), systemClock);
  metrics.followEventBus(() => ({ connected: true, disconnects: 0, reconnects: 0, bufferedEvents: 0, droppedEvents: 0 }));
  return new Map((await metrics.registry.getMetricsAsJSON()).map((m) => [m.name, String(m.type)]));
}

describe('Grafana dashboard (docs/grafana-dashboard.json)', () => {
  const dashboard = JSON.parse(readFileSync(dashboardFile, 'utf8')) as { panels: Panel[]; templating: { list: { query?: unknown }[] } };

  it('uses only metrics the server exposes, histograms through their _bucket, _sum and _count series', async () => {
    const exposed = await exposedNames();
    const queries = [
      ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: p.title, expr: t.expr }))),
      ...dashboard.templating.list.map((v) => ({ where: 'variables', expr: JSON.stringify(v.query ?? '') })),
    ];
    assert.ok(queries.length > 10);
    const used = new Set<string>();
    for (const { where, expr } of queries) {
      for (const [name] of expr.matchAll(/\blamassu_[a-z0-9_]+/g)) {
        const histogram = /^(.*)_(bucket|sum|count)$/.exec(name);
        const ok = exposed.has(name) || (histogram !== null && exposed.get(histogram[1]!) === 'histogram');
        assert.ok(ok, `${where}: ${name} is not a metric the server exposes`);
        used.add(histogram && !exposed.has(name) ? histogram[1]! : name);
      }
    }
    for (const name of DOMAIN_METRIC_NAMES) assert.ok(used.has(name), `the dashboard shows ${name}`);
    assert.ok(used.has('lamassu_event_backlog'));
  });

  it('every domain metric is registered under the name the module lists', async () => {
    const exposed = await exposedNames();
    for (const name of DOMAIN_METRIC_NAMES) assert.ok(exposed.has(name), name);
  });
});
