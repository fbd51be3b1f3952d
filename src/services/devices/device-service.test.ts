import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DomainError } from '../../domain/errors.ts';
import { enrollmentWorld, type EnrollmentWorld } from '../../../test/support/enrollment-fixture.ts';

const isCode = (code: string) => (e: unknown) => e instanceof DomainError && e.code === code;

let w: EnrollmentWorld;
before(async () => {
  w = await enrollmentWorld();
});
after(async () => w?.dispose());

test('create (pre-registration), get, timeline, duplicates and bad ids', async () => {
  const d = await w.devices.create({ id: 'pump-1', alias: 'Pump', tags: ['site-a'], metadata: { floor: 2 }, dmsId: 'f1' }, 'admin');
  assert.equal(d.status, 'PENDING_PROVISIONING');
  assert.deepEqual(d.slots, []);
  await assert.rejects(w.devices.create({ id: 'pump-1' }, 'admin'), isCode('DEVICE_EXISTS'));
  await assert.rejects(w.devices.create({ id: '../etc' }, 'admin'), isCode('DEVICE_ID_INVALID'));
  await assert.rejects(w.devices.create({ id: 'x', tags: [''] }, 'admin'), isCode('DEVICE_TAG_INVALID'));
  await assert.rejects(w.devices.get('nope'), isCode('DEVICE_NOT_FOUND'));
  await assert.rejects(w.devices.timelineOf('nope'), isCode('DEVICE_NOT_FOUND'));
  assert.deepEqual((await w.devices.timelineOf('pump-1')).map((e) => [e.type, e.actor]), [['CREATED', 'admin']]);
  await w.bus.idle();
  assert.ok(w.published.includes('device.create@admin'));
});

test('list filters and stats by status and DMS', async () => {
  for (const id of ['a-1', 'a-2', 'b-1']) await w.devices.create({ id, dmsId: id.startsWith('a') ? 'dms-a' : 'dms-b', tags: [id[0]!] }, 'admin');
  await w.devices.decommission('a-2', 'admin');
  assert.deepEqual((await w.devices.list({ dmsId: 'dms-a' })).list.map((d) => d.id), ['a-1', 'a-2']);
  assert.deepEqual((await w.devices.list({ status: ['DECOMMISSIONED'] })).list.map((d) => d.id), ['a-2']);
  assert.deepEqual((await w.devices.list({ tags: ['b'] })).list.map((d) => d.id), ['b-1']);
  const stats = await w.devices.stats({ dmsId: 'dms-a' });
  assert.equal(stats.total, 2);
  assert.equal(stats.statusDistribution.DECOMMISSIONED, 1);
  assert.equal(stats.statusDistribution.PENDING_PROVISIONING, 1);
  assert.equal(stats.statusDistribution.FULLY_PROVISIONED, 0);
  assert.equal((await w.devices.stats()).total, 4);
});

test('status events for certificates no device holds, or without a serial, change nothing', async () => {
  await w.devices.onCertificateStatusEvent({ specversion: '1.0', id: '1', source: 's', type: 'certificate.status.update', time: '', data: { serial_number: 'ffff', status: 'REVOKED' } });
  await w.devices.onCertificateStatusEvent({ specversion: '1.0', id: '2', source: 's', type: 'certificate.status.update', time: '', data: null });
  assert.equal((await w.devices.get('a-1')).status, 'PENDING_PROVISIONING');
});
