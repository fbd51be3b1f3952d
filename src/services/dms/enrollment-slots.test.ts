/**
 * Issue 9 item 11: EST reaches every identity slot of a device. The CSR's common name `<slot>:<device id>`
 * names the slot (no colon: `default`); statuses, timeline, re-enrollment and decommissioning work across
 * all slots. On SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DomainError } from '../../domain/errors.ts';
import { parseCertificate } from '../../x509/certificate.ts';
import { DAY, forEachEnrollmentWorld, type EnrollmentWorld } from '../../../test/support/enrollment-fixture.ts';

const isCode = (code: string) => (e: unknown) => e instanceof DomainError && e.code === code;

async function refusedWithoutTrace(w: EnrollmentWorld, attempt: () => Promise<unknown>, code: string, deviceId: string) {
  const issued = await w.issuedBy('factory-ca');
  const device = await w.devices.find(deviceId);
  await assert.rejects(attempt(), isCode(code));
  assert.equal(await w.issuedBy('factory-ca'), issued, `${code}: nothing issued`);
  assert.deepEqual(await w.devices.find(deviceId), device, `${code}: device unchanged`);
}

forEachEnrollmentWorld('EST enrollment reaches every slot of a device', (world) => {
  test('`<slot>:<device id>` enrolls that slot; statuses, re-enrollment per slot, timeline and decommissioning span all slots', async () => {
    const w = world();
    const reenrollment = { windowMs: 30 * DAY, allowExpired: false, revokeSuperseded: true, additionalValidationCaIds: [] };
    await w.createDms('slots1', w.settings({}, { reenrollment }));
    const enroll = async (cn: string) => w.enrollment.enroll({ label: 'slots1', csrDer: await w.csr(cn), credentials: {} });

    const main = await enroll('pump-1');
    const tls = await enroll('tls:pump-1');
    assert.equal(tls.deviceId, 'pump-1');
    // The certificate keeps the CSR's subject; the CA service records where it is attached.
    assert.equal(parseCertificate(tls.certificate.der).subject.common_name, 'tls:pump-1');
    assert.deepEqual(tls.certificate.details.metadata['lamassu.io/ra/attached-to'], { dms_id: 'slots1', device_id: 'pump-1', slot: 'tls' });
    let device = await w.devices.get('pump-1');
    assert.deepEqual(device.slots.map((s) => [s.name, s.active.serialNumber]), [['default', main.certificate.serialNumber], ['tls', tls.certificate.serialNumber]]);
    assert.equal(device.status, 'FULLY_PROVISIONED');
    assert.equal(await w.devices.find('tls:pump-1'), undefined, 'no device named after the whole common name');

    // One identity per slot unless the DMS allows replacing it.
    await refusedWithoutTrace(w, () => enroll('tls:pump-1'), 'ENROLL_DEVICE_ALREADY_ENROLLED', 'pump-1');

    // Both slots about to expire: REQUIRES_ACTION until both are renewed; each renewal targets its own slot.
    w.clock.set(main.certificate.notAfter.getTime() - 10 * DAY);
    await w.sweep();
    assert.equal((await w.devices.get('pump-1')).status, 'REQUIRES_ACTION');
    const reenroll = async (cn: string, der: Uint8Array) => w.enrollment.reenroll({ label: 'slots1', csrDer: await w.csr(cn), credentials: { clientCertificateChain: [der] } });
    const tls2 = await reenroll('tls:pump-1', tls.certificate.der);
    await w.bus.idle();
    device = await w.devices.get('pump-1');
    const slot = (name: string) => device.slots.find((s) => s.name === name)!;
    assert.equal(slot('tls').active.serialNumber, tls2.certificate.serialNumber);
    assert.deepEqual(slot('tls').archive.map((a) => a.serialNumber), [tls.certificate.serialNumber]);
    assert.equal(slot('default').active.serialNumber, main.certificate.serialNumber, 'the default slot untouched');
    assert.deepEqual(slot('default').archive, []);
    assert.equal(device.status, 'REQUIRES_ACTION', 'the default slot is still about to expire');
    const main2 = await reenroll('pump-1', main.certificate.der);
    await w.bus.idle();
    assert.equal((await w.devices.get('pump-1')).status, 'FULLY_PROVISIONED');
    assert.equal((await w.gateway.getCertificate(tls.certificate.serialNumber, 'factory-ca'))?.revocationReason, 'Superseded');

    // A revoked certificate in any slot warns.
    await w.gateway.revoke({ serialNumber: tls2.certificate.serialNumber, issuerCaId: 'factory-ca', reason: 'KeyCompromise', actor: 'admin' });
    await w.bus.idle();
    assert.equal((await w.devices.get('pump-1')).status, 'PROVISIONED_WITH_WARNINGS');

    const timeline = (await w.devices.timelineOf('pump-1')).map((e) => `${e.type} ${e.description.split(':')[0]}`);
    for (const want of ['PROVISIONED slot default', 'PROVISIONED slot tls', 'RENEWED slot tls', 'RENEWED slot default']) assert.ok(timeline.includes(want), want);

    // Decommissioning revokes what every slot holds.
    await w.devices.decommission('pump-1', 'admin');
    await w.bus.idle();
    for (const c of [main2.certificate]) assert.equal((await w.gateway.getCertificate(c.serialNumber, 'factory-ca'))?.revocationReason, 'CessationOfOperation');
    assert.equal((await w.gateway.getCertificate(tls2.certificate.serialNumber, 'factory-ca'))?.revocationReason, 'KeyCompromise');
    await refusedWithoutTrace(w, () => enroll('spare:pump-1'), 'DEVICE_DECOMMISSIONED', 'pump-1');
  });

  test('slot names and device ids from the common name: invalid ones refused without trace; `default:` keeps colons in the device id', async () => {
    const w = world();
    await w.createDms('slots2');
    const enroll = async (cn: string) => w.enrollment.enroll({ label: 'slots2', csrDer: await w.csr(cn), credentials: {} });
    await refusedWithoutTrace(w, () => enroll('TLS:pump-2'), 'DEVICE_SLOT_INVALID', 'pump-2');
    await refusedWithoutTrace(w, () => enroll(':pump-2'), 'DEVICE_SLOT_INVALID', 'pump-2');
    await refusedWithoutTrace(w, () => enroll('tls:'), 'DEVICE_ID_INVALID', 'tls');
    const urn = await enroll('default:urn:pump-2');
    assert.equal(urn.deviceId, 'urn:pump-2');
    assert.deepEqual((await w.devices.get('urn:pump-2')).slots.map((s) => s.name), ['default']);
    const other = await enroll('aux:urn:pump-2');
    assert.equal(other.deviceId, 'urn:pump-2');
    assert.deepEqual((await w.devices.get('urn:pump-2')).slots.map((s) => s.name), ['aux', 'default']);
  });

  test('pre-registered devices, serverkeygen and serialNumber-named devices reach named slots too', async () => {
    const w = world();
    await w.createDms('slots3', w.settings({ registrationMode: 'PRE_REGISTRATION' }));
    await w.devices.create({ id: 'pump-3', dmsId: 'slots3' }, 'admin');
    await refusedWithoutTrace(w, async () => w.enrollment.enroll({ label: 'slots3', csrDer: await w.csr('tls:pump-x'), credentials: {} }), 'ENROLL_DEVICE_NOT_REGISTERED', 'pump-x');
    await w.enrollment.enroll({ label: 'slots3', csrDer: await w.csr('tls:pump-3'), credentials: {} });
    const generated = await w.enrollment.serverKeygen({ label: 'slots3', csrDer: await w.csr('ota:pump-3'), credentials: {} });
    assert.equal(generated.deviceId, 'pump-3');
    assert.deepEqual((await w.devices.get('pump-3')).slots.map((s) => s.name), ['ota', 'tls']);
    assert.equal((await w.devices.get('pump-3')).status, 'FULLY_PROVISIONED');

    await w.createDms('slots4', w.settings({ deviceIdSource: 'serial_number' }));
    const bySerial = await w.enrollment.enroll({ label: 'slots4', csrDer: await w.csr({ common_name: 'Pump', serial_number: 'tls:SN-4' }), credentials: {} });
    assert.equal(bySerial.deviceId, 'SN-4');
    assert.deepEqual((await w.devices.get('SN-4')).slots.map((s) => s.name), ['tls']);
  });
});
