/**
 * Lamassu's identity slot on the device (status, active_version, versions, events), PUT /devices/{id}/idslot
 * and POST /dms/bind-identity, as a Lamassu v3 client sends them. On SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { lamassuDmsBody } from '../contract/lamassu-requests.ts';
import { opensslCsr } from '../support/csr-fixture.ts';
import { compatApi, type CompatApi } from '../support/compat-api.ts';
import { forEachStorage } from '../support/storage.ts';
import { toPem } from '../../src/x509/pem.ts';

const csr = (cn: string) => Buffer.from(toPem(opensslCsr({ key: 'p256', subj: `/CN=${cn}` }), 'CERTIFICATE REQUEST')).toString('base64');

forEachStorage('Lamassu identity slot, idslot and bind-identity', (ctx) => {
  let api: CompatApi;
  const issue = async (cn: string) => {
    const r = await api.call('POST', '/api/ca/v1/cas/bind-ca/certificates/sign', { csr: csr(cn) });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.serial_number as string;
  };
  before(async () => {
    api = await compatApi(ctx.storage);
    const ca = await api.call('POST', '/api/ca/v1/cas', { id: 'bind-ca', subject: { common_name: 'bind-ca' }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration: '1y' } });
    assert.equal(ca.status, 201, JSON.stringify(ca.body));
    const dms = await api.call('POST', '/api/dmsmanager/v1/dms', lamassuDmsBody('bind-dms', 'bind-ca', 'bind-ca'));
    assert.equal(dms.status, 201, JSON.stringify(dms.body));
    for (const id of ['bd-1', 'bd-2']) assert.equal((await api.call('POST', '/api/devmanager/v1/devices', { id, dms_id: 'bind-dms' })).status, 201);
    assert.equal((await api.call('POST', '/api/devmanager/v1/devices', { id: 'bd-free' })).status, 201);
  });
  after(async () => api?.close());

  it('bind-identity: first binding PROVISIONED, then bind_mode; slot in Lamassu\'s shape with versions and events', async () => {
    const sn1 = await issue('bd-1');
    const first = await api.call('POST', '/api/dmsmanager/v1/dms/bind-identity', { device_id: 'bd-1', certificate_serial_number: sn1, bind_mode: 'RENEWED' });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.certificate.serial_number, sn1);
    assert.deepEqual(first.body.certificate.metadata['lamassu.io/ra/attached-to'], { dms_id: 'bind-dms', device_id: 'bd-1', slot: 'default' });
    assert.equal(first.body.dms.id, 'bind-dms');
    assert.equal(first.body.device.status, 'FULLY_PROVISIONED');
    assert.deepEqual(first.body.device.identity.versions, { '1': sn1 });

    const sn2 = await issue('bd-1');
    const second = await api.call('POST', '/api/dmsmanager/v1/dms/bind-identity', { device_id: 'bd-1', certificate_serial_number: sn2, bind_mode: 'RENEWED' });
    assert.equal(second.status, 200, JSON.stringify(second.body));
    const got = await api.call('GET', '/api/devmanager/v1/devices/bd-1');
    const id = got.body.identity;
    assert.equal(id.status, 'ACTIVE');
    assert.equal(id.active_version, 2);
    assert.equal(id.type, 'x509');
    assert.deepEqual(id.versions, { '1': sn1, '2': sn2 });
    assert.equal(id.expiration_date, id.active.valid_to);
    assert.deepEqual(Object.values(id.events).map((e: any) => e.type), ['PROVISIONED', 'RENEWED']);
    for (const t of Object.keys(got.body.events)) assert.ok(!Number.isNaN(Date.parse(t)), t);
    assert.deepEqual(Object.values(got.body.events).map((e: any) => e.type).filter((t) => t !== 'STATUS-UPDATED'), ['CREATED', 'PROVISIONED', 'RENEWED']);
    // The old certificate stays valid (Lamassu's bind does not revoke it).
    assert.equal((await api.call('GET', `/api/ca/v1/certificates/${sn1}`)).body.status, 'ACTIVE');
  });

  it('bind-identity refusals: unknown device or certificate, device without DMS, certificate already bound, bad bind_mode', async () => {
    const sn = await issue('bd-x');
    const cases: [unknown, number, string][] = [
      [{ device_id: 'nobody', certificate_serial_number: sn }, 404, 'DEVICE_NOT_FOUND'],
      [{ device_id: 'bd-2', certificate_serial_number: 'abcdef01' }, 404, 'CERTIFICATE_NOT_FOUND'],
      [{ device_id: 'bd-free', certificate_serial_number: sn }, 409, 'DEVICE_WITHOUT_DMS'],
      [{ device_id: 'bd-2', certificate_serial_number: sn, bind_mode: 'SOMETIMES' }, 400, 'BIND_MODE_INVALID'],
      [{ device_id: 'bd-2', certificate_serial_number: 'not hex' }, 400, 'VALIDATION_FAILED'],
    ];
    for (const [body, status, code] of cases) {
      const r = await api.call('POST', '/api/dmsmanager/v1/dms/bind-identity', body);
      assert.deepEqual([r.status, r.body.code], [status, code], JSON.stringify(body));
    }
    const bound = (await api.call('GET', '/api/devmanager/v1/devices/bd-1')).body.identity.versions['1'];
    const taken = await api.call('POST', '/api/dmsmanager/v1/dms/bind-identity', { device_id: 'bd-2', certificate_serial_number: bound });
    assert.deepEqual([taken.status, taken.body.code], [409, 'DEVICE_CERTIFICATE_BOUND']);
  });

  it('PUT idslot: a first identity numbered 0 as Lamassu does, the next version, REVOKED; what the certificates do not give is 400', async () => {
    const sn1 = await issue('bd-2');
    const first = await api.call('PUT', '/api/devmanager/v1/devices/bd-2/idslot', { status: 'ACTIVE', active_version: 0, type: 'x509', versions: { '0': sn1 } });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.deepEqual(first.body.identity.versions, { '1': sn1 });
    const slot = first.body.identity;

    const sn2 = await issue('bd-2');
    const refusals: [unknown, number, string][] = [
      [{ ...slot, versions: { '1': sn2 } }, 400, 'DEVICE_SLOT_UPDATE_INVALID'],
      [{ ...slot, versions: {} }, 400, 'DEVICE_SLOT_UPDATE_INVALID'],
      [{ ...slot, versions: { '1': sn1, '3': sn2 } }, 400, 'DEVICE_SLOT_UPDATE_INVALID'],
      [{ ...slot, active_version: 0 }, 400, 'DEVICE_SLOT_UPDATE_INVALID'],
      [{ ...slot, status: 'EXPIRED' }, 400, 'DEVICE_SLOT_UPDATE_INVALID'],
      [{ ...slot, type: 'ssh' }, 400, 'DEVICE_SLOT_UPDATE_INVALID'],
      [{ ...slot, status: 'SLEEPING' }, 400, 'VALIDATION_FAILED'],
    ];
    for (const [body, status, code] of refusals) {
      const r = await api.call('PUT', '/api/devmanager/v1/devices/bd-2/idslot', body);
      assert.deepEqual([r.status, r.body.code], [status, code], JSON.stringify(body).slice(0, 200));
    }
    const empty = await api.call('PUT', '/api/devmanager/v1/devices/bd-free/idslot', { status: 'ACTIVE' });
    assert.deepEqual([empty.status, empty.body.code], [409, 'DEVICE_SLOT_EMPTY']);
    assert.equal((await api.call('PUT', '/api/devmanager/v1/devices/bd-2/idslot', slot)).status, 200, 'the slot as read is accepted unchanged');

    const next = await api.call('PUT', '/api/devmanager/v1/devices/bd-2/idslot', { ...slot, active_version: 2, versions: { ...slot.versions, '2': sn2 } });
    assert.equal(next.status, 200, JSON.stringify(next.body));
    assert.deepEqual(next.body.identity.versions, { '1': sn1, '2': sn2 });
    assert.equal(next.body.identity.active.serial_number, sn2);

    const revoked = await api.call('PUT', '/api/devmanager/v1/devices/bd-2/idslot', { ...next.body.identity, status: 'REVOKED' });
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    assert.equal(revoked.body.identity.status, 'REVOKED');
    assert.equal(revoked.body.status, 'PROVISIONED_WITH_WARNINGS');
    const cert = await api.call('GET', `/api/ca/v1/certificates/${sn2}`);
    assert.deepEqual([cert.body.status, cert.body.revocation_reason], ['REVOKED', 'Unspecified']);
  });

  it('DELETE /devices/{id}: only once decommissioned; slots and timeline go, certificates stay in the inventory', async () => {
    const refused = await api.call('DELETE', '/api/devmanager/v1/devices/bd-1');
    assert.deepEqual([refused.status, refused.body.code], [409, 'DEVICE_NOT_DECOMMISSIONED']);
    const serial = (await api.call('GET', '/api/devmanager/v1/devices/bd-1')).body.identity.active.serial_number;
    assert.equal((await api.call('DELETE', '/api/devmanager/v1/devices/bd-1/decommission')).status, 200);
    const gone = await api.call('DELETE', '/api/devmanager/v1/devices/bd-1');
    assert.equal(gone.status, 204);
    assert.equal((await api.call('GET', '/api/devmanager/v1/devices/bd-1')).status, 404);
    assert.equal((await api.call('DELETE', '/api/devmanager/v1/devices/bd-1')).status, 404);
    assert.equal((await api.call('GET', `/api/ca/v1/certificates/${serial}`)).body.status, 'REVOKED');
    // The id is free again, with nothing of the old device.
    const again = await api.call('POST', '/api/devmanager/v1/devices', { id: 'bd-1', dms_id: 'bind-dms' });
    assert.deepEqual([again.status, again.body.identity, Object.values(again.body.events).map((e: any) => e.type)], [201, null, ['CREATED']]);
  });
});
