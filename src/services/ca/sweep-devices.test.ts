/**
 * The device manager follows the status sweep's events: about to expire -> REQUIRES_ACTION, expired ->
 * PROVISIONED_WITH_WARNINGS, a crossed expiration delta (certificate.expiring) -> REQUIRES_ACTION.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CloudEvent } from '../../domain/ports/event-bus.ts';
import { needPostgres } from '../../../test/support/services.ts';
import { storageKinds } from '../../../test/support/storage.ts';
import { enrollmentWorld } from '../../../test/support/enrollment-fixture.ts';

for (const kind of storageKinds) {
  test(`[${kind}] device statuses follow the sweep`, async (t) => {
    if (kind === 'postgres' && !(await needPostgres(t))) return;
    const w = await enrollmentWorld(kind);
    try {
      await w.createDms('line-1');
      const { certificate } = await w.enrollment.enroll({ label: 'line-1', csrDer: await w.csr('sensor-7'), credentials: {} });
      await w.bus.idle();
      assert.equal((await w.devices.get('sensor-7')).status, 'FULLY_PROVISIONED');

      w.clock.set(certificate.aboutToExpireAt);
      assert.deepEqual(await w.ca.sweepStatuses(), { expired: 0, aboutToExpire: 1, expiring: 0 });
      await w.bus.idle();
      assert.equal((await w.devices.get('sensor-7')).status, 'REQUIRES_ACTION');

      w.clock.set(certificate.notAfter.getTime() + 1000);
      assert.deepEqual(await w.ca.sweepStatuses(), { expired: 1, aboutToExpire: 0, expiring: 0 });
      await w.bus.idle();
      const device = await w.devices.get('sensor-7');
      assert.equal(device.status, 'PROVISIONED_WITH_WARNINGS');
      assert.equal(device.slots[0]!.active.status, 'EXPIRED');
      const timeline = (await w.devices.timelineOf('sensor-7')).filter((e) => e.type === 'STATUS-UPDATED');
      assert.deepEqual(
        timeline.map((e) => [e.description, e.actor]),
        [
          ['PENDING_PROVISIONING -> FULLY_PROVISIONED', 'dms:line-1'],
          ['FULLY_PROVISIONED -> REQUIRES_ACTION', 'system'],
          ['REQUIRES_ACTION -> PROVISIONED_WITH_WARNINGS', 'system'],
        ],
      );
    } finally {
      await w.dispose();
    }
  });
}

const DAY = 86_400_000;

for (const kind of storageKinds) {
  test(`[${kind}] a DMS's expiration deltas: the enrolled certificate follows them, the device turns REQUIRES_ACTION when one is crossed`, async (t) => {
    if (kind === 'postgres' && !(await needPostgres(t))) return;
    const w = await enrollmentWorld(kind);
    try {
      // Deltas longer than the about-to-expire threshold (30 days), so the delta alone moves the device.
      const deltas = { preventiveMs: 90 * DAY, criticalMs: 60 * DAY };
      await w.createDms('line-2', w.settings({}, { expiryDeltas: deltas }));
      const { certificate } = await w.enrollment.enroll({ label: 'line-2', csrDer: await w.csr('sensor-8'), credentials: {} });
      await w.bus.idle();
      assert.deepEqual(certificate.expiry, { source: 'dms', deltas, stage: 'none', profileId: null, dmsId: 'line-2' });
      assert.equal((await w.devices.get('sensor-8')).status, 'FULLY_PROVISIONED');

      const expiring: CloudEvent[] = [];
      await w.bus.subscribe('certificate.expiring', 'test-recorder', (e) => void expiring.push(e));
      w.clock.set(certificate.notAfter.getTime() - 90 * DAY + 1000);
      assert.deepEqual(await w.ca.sweepStatuses(), { expired: 0, aboutToExpire: 0, expiring: 1 });
      await w.bus.idle();
      const device = await w.devices.get('sensor-8');
      assert.equal(device.status, 'REQUIRES_ACTION');
      assert.equal(device.slots[0]!.active.status, 'ACTIVE');
      assert.equal(device.slots[0]!.active.expiryStage, 'preventive');
      assert.equal(expiring.length, 1);
      assert.deepEqual(
        (({ serial_number, delta, delta_value, delta_source }) => ({ serial_number, delta, delta_value, delta_source }))(expiring[0]!.data as Record<string, unknown>),
        { serial_number: certificate.serialNumber, delta: 'preventive', delta_value: '90d', delta_source: 'dms' },
      );
      // The same event again (a redelivery) changes nothing.
      await w.devices.onCertificateExpiringEvent(expiring[0]!);
      assert.equal((await w.devices.timelineOf('sensor-8')).filter((e) => e.type === 'STATUS-UPDATED').length, 2);

      // The DMS drops its deltas: the certificate falls back to the CA's (none), so nothing more is announced.
      const current = await w.dms.get('line-2');
      await w.dms.update('line-2', { name: current.name, authorizedCaIds: current.authorizedCaIds, settings: w.settings({}, { expiryDeltas: null }) }, 'admin');
      assert.equal((await w.ca.getCertificate(certificate.serialNumber, certificate.issuerCaId!)).expiry?.deltas, null);
      w.clock.set(certificate.notAfter.getTime() - 59 * DAY);
      assert.equal((await w.ca.sweepStatuses()).expiring, 0);
    } finally {
      await w.dispose();
    }
  });
}
