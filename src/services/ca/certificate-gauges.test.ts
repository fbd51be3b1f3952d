import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { DAY, insertSynthetic } from '../../../test/support/sweep-fixture.ts';
import { forEachStorage } from '../../../test/support/storage.ts';
import { ManualClock } from '../../domain/ports/clock.ts';
import { silentLogger } from '../../domain/ports/logger.ts';
import { noMetrics, type LabelledValue, type MetricsRecorder, type StateGauge } from '../../domain/ports/metrics.ts';
import { MemoryKeyEngine } from '../../engines/crypto/memory/memory-key-engine.ts';
import { KeyEngineSet } from '../../engines/crypto/registry.ts';
import { MemoryEventBus } from '../../engines/eventbus/memory-event-bus.ts';
import { DEFAULT_CA_SETTINGS } from './ca-service-deps.ts';
import { CaService } from './ca-service.ts';
import { CertificateGauges } from './certificate-gauges.ts';

const T0 = Date.UTC(2026, 0, 1);

/** A recorder that keeps the state gauges' readers, as the Prometheus one does. */
class GaugeReaders implements MetricsRecorder {
  private readonly readers = new Map<StateGauge, () => LabelledValue[]>();
  certificateIssued = noMetrics.certificateIssued;
  estEnrollment = noMetrics.estEnrollment;
  ocspResponse = noMetrics.ocspResponse;
  crlGenerated = noMetrics.crlGenerated;
  statusSweepFinished = noMetrics.statusSweepFinished;
  keyEngineOperation = noMetrics.keyEngineOperation;
  stopwatch = noMetrics.stopwatch;
  stateGauge(gauge: StateGauge, read: () => LabelledValue[]): void {
    this.readers.set(gauge, read);
  }
  /** `ca/status` (or `ca/within`) -> value, zeros left out. */
  values(gauge: StateGauge): Record<string, number> {
    const out: Record<string, number> = {};
    for (const { labels, value } of this.readers.get(gauge)?.() ?? []) if (value !== 0) out[Object.values(labels).join('/')] = value;
    return out;
  }
}

forEachStorage('certificate gauges for /metrics', (ctx) => {
  test('two replicas count from the database at start, then follow each other\'s changes through events; expiring windows by time', async () => {
    const clock = new ManualClock(T0);
    const bus = new MemoryEventBus(silentLogger);
    const service = new CaService({
      storage: ctx.storage,
      keyEngines: KeyEngineSet.of([new MemoryKeyEngine({ id: 'memory' })]),
      events: bus,
      clock,
      random: { uuid: () => randomUUID(), bytes: (n) => new Uint8Array(randomBytes(n)) },
      logger: silentLogger,
      settings: { ...DEFAULT_CA_SETTINGS, aboutToExpireMs: 2 * DAY },
    });
    await service.createCa({ id: 'gauge-ca', subject: { common_name: 'gauge-ca' }, keySpec: { type: 'ECDSA', bits: 256 }, validity: { type: 'Duration', duration: '1y' }, actor: 't' });
    const certs = await insertSynthetic(ctx.storage, [
      ...Array.from({ length: 3 }, () => ({ issuerCaId: 'gauge-ca', notAfter: T0 + 5 * DAY, thresholdMs: 2 * DAY, status: 'ACTIVE' as const })),
      ...Array.from({ length: 2 }, () => ({ issuerCaId: 'gauge-ca', notAfter: T0 + 20 * DAY, thresholdMs: 2 * DAY, status: 'ACTIVE' as const })),
      { issuerCaId: 'gauge-ca', notAfter: T0 + 5 * DAY, thresholdMs: 2 * DAY, status: 'REVOKED' as const, revocationReason: 'KeyCompromise' as const },
    ], { idPrefix: 'gauge' });

    const replicas = ['a', 'b'].map((id) => {
      const metrics = new GaugeReaders();
      return { metrics, gauges: new CertificateGauges({ storage: ctx.storage, events: bus, clock, logger: silentLogger, metrics, replicaId: id, refreshMs: 3_600_000 }) };
    });
    for (const r of replicas) await r.gauges.start();
    await bus.idle();
    try {
      for (const { metrics } of replicas) {
        assert.deepEqual(metrics.values('certificates'), { 'gauge-ca/ACTIVE': 6, 'gauge-ca/REVOKED': 1 });
        assert.deepEqual(metrics.values('certificates_expiring'), { 'gauge-ca/7d': 3, 'gauge-ca/30d': 5 });
      }

      // A revocation made through the service (on "replica a", say) moves both replicas' gauges.
      await service.updateCertificateStatus({ serialNumber: certs[0]!.serialNumber, issuerCaId: 'gauge-ca', request: { status: 'REVOKED', reason: 'Superseded' }, actor: 't' });
      // The sweep, four days on: three expire, then two are about to expire.
      clock.set(T0 + 6 * DAY);
      await service.sweepStatuses();
      await bus.idle();
      for (const { metrics } of replicas) {
        assert.deepEqual(metrics.values('certificates'), { 'gauge-ca/ACTIVE': 3, 'gauge-ca/EXPIRED': 2, 'gauge-ca/REVOKED': 2 });
      }
      clock.set(T0 + 19 * DAY);
      await service.sweepStatuses();
      await bus.idle();
      for (const { metrics, gauges } of replicas) {
        assert.deepEqual(metrics.values('certificates'), { 'gauge-ca/ACTIVE': 1, 'gauge-ca/ABOUT_TO_EXPIRE': 2, 'gauge-ca/EXPIRED': 2, 'gauge-ca/REVOKED': 2 });
        // What the events built is what the database says.
        const before = metrics.values('certificates');
        await gauges.recount();
        assert.deepEqual(metrics.values('certificates'), before);
        // Expiring windows move with time: recounted, not evented.
        await gauges.refreshExpiring();
        assert.deepEqual(metrics.values('certificates_expiring'), { 'gauge-ca/7d': 2, 'gauge-ca/30d': 2 });
      }
    } finally {
      for (const r of replicas) await r.gauges.stop();
      await bus.close();
    }
  });
});
