/**
 * A DMS created with Lamassu v3's body (no authorized_cas, Lamassu's settings fields) round-trips through
 * GET; devices keep Lamassu's icon and icon_color. On SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { compatApi, type CompatApi } from '../support/compat-api.ts';
import { lamassuDmsBody } from '../contract/lamassu-requests.ts';
import { forEachStorage } from '../support/storage.ts';

/** Every field of `sent` is in `got` with the same value (extra fields in `got` are ours). */
function assertSubset(sent: unknown, got: unknown, path = '$'): void {
  if (sent !== null && typeof sent === 'object' && !Array.isArray(sent)) {
    assert.ok(got !== null && typeof got === 'object', `${path}: object expected, got ${JSON.stringify(got)}`);
    for (const [k, v] of Object.entries(sent)) assertSubset(v, (got as Record<string, unknown>)[k], `${path}.${k}`);
  } else assert.deepEqual(got, sent, path);
}

forEachStorage('Lamassu DMS and device bodies', (ctx) => {
  let api: CompatApi;
  before(async () => {
    api = await compatApi(ctx.storage);
    for (const id of ['lms-enroll', 'lms-boot', 'lms-other']) {
      const r = await api.call('POST', '/api/ca/v1/cas', { id, subject: { common_name: id }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration: '1y' } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
  });
  after(async () => api?.close());

  it('a DMS created with Lamassu\'s body (no authorized_cas) comes back unchanged from GET and the list', async () => {
    const body = lamassuDmsBody('lms-dms', 'lms-enroll', 'lms-boot');
    const created = await api.call('POST', '/api/dmsmanager/v1/dms', body);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const got = await api.call('GET', '/api/dmsmanager/v1/dms/lms-dms');
    assert.equal(got.status, 200);
    assertSubset(body, got.body);
    assert.deepEqual(got.body.authorized_cas, ['lms-enroll']);
    const listed = await api.call('GET', '/api/dmsmanager/v1/dms?filter=id[eq]lms-dms');
    assertSubset(body, listed.body.list[0]);

    // Lamassu's PUT is the same body: still no authorized_cas; a new enrollment CA joins the kept ones.
    const moved = lamassuDmsBody('lms-dms', 'lms-other', 'lms-boot');
    const { id: _id, ...update } = moved;
    const put = await api.call('PUT', '/api/dmsmanager/v1/dms/lms-dms', update);
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assertSubset(update, put.body);
    assert.deepEqual(put.body.authorized_cas, ['lms-enroll', 'lms-other']);

    const badDelta = lamassuDmsBody('lms-bad', 'lms-enroll', 'lms-boot');
    badDelta.settings.reenrollment_settings.critical_delta = 'soon';
    const bad = await api.call('POST', '/api/dmsmanager/v1/dms', badDelta);
    assert.deepEqual([bad.status, bad.body.code], [400, 'EXPIRY_DELTAS_INVALID']);
    // Given explicitly, authorized_cas is still checked as before.
    const explicit = await api.call('POST', '/api/dmsmanager/v1/dms', { ...lamassuDmsBody('lms-x', 'lms-enroll', 'lms-boot'), authorized_cas: ['lms-other'] });
    assert.deepEqual([explicit.status, explicit.body.code], [400, 'DMS_ENROLLMENT_CA_NOT_AUTHORIZED']);
  });

  it('Lamassu auth mode name NO_AUTH is accepted (CLIENT_CERTIFICATE above; ours too)', async () => {
    const noAuth = lamassuDmsBody('lms-noauth', 'lms-enroll', 'lms-boot');
    (noAuth.settings.enrollment_settings.est_rfc7030_settings as Record<string, unknown>).auth_mode = 'NO_AUTH';
    const r = await api.call('POST', '/api/dmsmanager/v1/dms', noAuth);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.settings.enrollment_settings.est_rfc7030_settings.auth_mode, 'NO_AUTH');
  });

  it("Lamassu's EXTERNAL_WEBHOOK body (external_webhook, no auth) round-trips; webhook auth modes we cannot apply are 400", async () => {
    const body = lamassuDmsBody('lms-hook', 'lms-enroll', 'lms-boot');
    const hook = { name: 'approver', url: 'https://approver.example/enroll', config: { validate_server_cert: true, log_level: 'info', auth_mode: 'NoAuth' } };
    Object.assign(body.settings.enrollment_settings.est_rfc7030_settings, { auth_mode: 'EXTERNAL_WEBHOOK', external_webhook: hook });
    const created = await api.call('POST', '/api/dmsmanager/v1/dms', body);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const got = (await api.call('GET', '/api/dmsmanager/v1/dms/lms-hook')).body;
    assertSubset(body, got);
    assert.deepEqual(got.settings.enrollment_settings.est_rfc7030_settings.external_webhook_settings, { url: hook.url, timeout: '10s' });

    const secret = lamassuDmsBody('lms-hook-key', 'lms-enroll', 'lms-boot');
    Object.assign(secret.settings.enrollment_settings.est_rfc7030_settings, {
      auth_mode: 'EXTERNAL_WEBHOOK',
      external_webhook: { name: 'k', url: 'https://approver.example/enroll', config: { auth_mode: 'ApiKey', api_key_auth: { key: 'k-123' } } },
    });
    const refused = await api.call('POST', '/api/dmsmanager/v1/dms', secret);
    assert.deepEqual([refused.status, refused.body.code], [400, 'DMS_SETTINGS_INVALID']);
  });

  it('devices keep icon and icon_color', async () => {
    const created = await api.call('POST', '/api/devmanager/v1/devices', { id: 'icon-dev', tags: ['a'], metadata: {}, icon: 'CgSmartphoneChip', icon_color: '#0068D1-#FFFFFF' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    for (const d of [created.body, (await api.call('GET', '/api/devmanager/v1/devices/icon-dev')).body, (await api.call('GET', '/api/devmanager/v1/devices?filter=id[eq]icon-dev')).body.list[0]]) {
      assert.equal(d.icon, 'CgSmartphoneChip');
      assert.equal(d.icon_color, '#0068D1-#FFFFFF');
    }
    const plain = await api.call('POST', '/api/devmanager/v1/devices', { id: 'plain-dev' });
    assert.deepEqual([plain.body.icon, plain.body.icon_color], ['', '']);
  });

  it('device and DMS stats take the list filters (filter=...); bad filters are 400', async () => {
    for (const [id, tags] of [['fs-dev-1', ['line-a']], ['fs-dev-2', ['line-a', 'x']], ['fs-dev-3', ['line-b']]] as const) {
      assert.equal((await api.call('POST', '/api/devmanager/v1/devices', { id, tags })).status, 201);
    }
    const stats = await api.call('GET', `/api/devmanager/v1/stats?filter=${encodeURIComponent('tags[ct]line-a')}`);
    assert.equal(stats.status, 200, JSON.stringify(stats.body));
    assert.equal(stats.body.total, 2);
    assert.equal(stats.body.status_distribution.PENDING_PROVISIONING, 2);
    const both = await api.call('GET', `/api/devmanager/v1/stats?filter=${encodeURIComponent('tags[ct]line-a')}&filter=${encodeURIComponent('id[eq]fs-dev-2')}`);
    assert.equal(both.body.total, 1);
    const bad = await api.call('GET', `/api/devmanager/v1/stats?filter=${encodeURIComponent('colour[eq]red')}`);
    assert.deepEqual([bad.status, bad.body.code], [400, 'FILTER_FIELD_UNKNOWN']);

    const all = (await api.call('GET', '/api/dmsmanager/v1/stats')).body.total;
    const some = await api.call('GET', `/api/dmsmanager/v1/stats?filter=${encodeURIComponent('id[eq]no-such-dms')}`);
    assert.deepEqual([some.status, some.body.total], [200, 0]);
    assert.ok(all >= 1);
    const badDms = await api.call('GET', `/api/dmsmanager/v1/stats?filter=${encodeURIComponent('level[eq]1')}`);
    assert.deepEqual([badDms.status, badDms.body.code], [400, 'FILTER_FIELD_UNKNOWN']);
  });
});
