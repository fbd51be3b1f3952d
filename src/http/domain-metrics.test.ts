import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { MAX_DMS_LABELS, PrometheusMetricsRecorder } from './domain-metrics.ts';

describe('Prometheus recorder of the domain metrics', () => {
  it('bounds the dms label: labels past the limit count as "other"', async () => {
    const registry = new Registry();
    const m = new PrometheusMetricsRecorder(registry);
    for (let i = 0; i < MAX_DMS_LABELS + 5; i++) m.estEnrollment(`made-up-${i}`, 'enroll', 'CSR_INVALID', 0.001);
    m.estEnrollment('made-up-0', 'enroll', 'success', 0.001);
    const text = await registry.metrics();
    const series = text.split('\n').filter((l) => l.startsWith('lamassu_est_enrollments_total{'));
    assert.equal(series.length, MAX_DMS_LABELS + 2, 'one series per known label and result, plus "other"');
    assert.match(text, /lamassu_est_enrollments_total\{dms="other",operation="enroll",result="CSR_INVALID"\} 5/);
    assert.match(text, /lamassu_est_enrollments_total\{dms="made-up-0",operation="enroll",result="success"\} 1/);
  });

  it('state gauges read their readers at scrape time and show nothing before one is registered', async () => {
    const registry = new Registry();
    const m = new PrometheusMetricsRecorder(registry);
    assert.doesNotMatch(await registry.metrics(), /^lamassu_devices\{/m);
    let n = 1;
    m.stateGauge('devices', () => [{ labels: { status: 'FULLY_PROVISIONED' }, value: n }]);
    assert.match(await registry.metrics(), /^lamassu_devices\{status="FULLY_PROVISIONED"\} 1$/m);
    n = 7;
    assert.match(await registry.metrics(), /^lamassu_devices\{status="FULLY_PROVISIONED"\} 7$/m);
  });
});
