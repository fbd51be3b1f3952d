/** The device manager follows the status sweep's events: about to expire -> REQUIRES_ACTION, expired -> PROVISIONED_WITH_WARNINGS. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
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
      assert.deepEqual(await w.ca.sweepStatuses(), { expired: 0, aboutToExpire: 1 });
      await w.bus.idle();
      assert.equal((await w.devices.get('sensor-7')).status, 'REQUIRES_ACTION');

      w.clock.set(certificate.notAfter.getTime() + 1000);
      assert.deepEqual(await w.ca.sweepStatuses(), { expired: 1, aboutToExpire: 0 });
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
