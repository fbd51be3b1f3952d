import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { toPem } from '../../src/x509/pem.ts';
import { compatApi, type CompatApi } from '../support/compat-api.ts';
import { opensslCsr } from '../support/csr-fixture.ts';
import { forEachStorage } from '../support/storage.ts';

const csrB64 = (cn: string) => Buffer.from(toPem(opensslCsr({ key: 'p256', subj: `/CN=${cn}` }), 'CERTIFICATE REQUEST')).toString('base64');
const DAY = 86_400_000;

forEachStorage("Lamassu's per-CA issuance expiration", (ctx) => {
  let api: CompatApi;
  before(async () => {
    api = await compatApi(ctx.storage);
  });
  after(async () => api?.close());

  const lifetime = async (caId: string) => {
    const c = await api.call('POST', `/api/ca/v1/cas/${caId}/certificates/sign`, { csr: csrB64(`leaf-of-${caId}`) });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    return { from: Date.parse(c.body.valid_from), to: Date.parse(c.body.valid_to) };
  };

  it('issuance_expiration on create and PUT /issuance-expiration set what issued certificates get; shown on the CA', async () => {
    const created = await api.call('POST', '/api/ca/v1/cas', {
      id: 'exp-ca',
      subject: { common_name: 'exp-ca' },
      key_metadata: { type: 'ECDSA', bits: 256 },
      ca_expiration: { type: 'Duration', duration: '2y' },
      issuance_expiration: { type: 'Duration', duration: '30d' },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual(created.body.issuance_expiration, { type: 'Duration', duration: '30d' });
    assert.equal(created.body.profile_id, 'exp-ca.issuance');
    let l = await lifetime('exp-ca');
    assert.ok(Math.abs(l.to - l.from - 30 * DAY) <= 1000, `${(l.to - l.from) / DAY} days`);

    const end = new Date(Date.now() + 90 * DAY);
    end.setUTCMilliseconds(0);
    const put = await api.call('PUT', '/api/ca/v1/cas/exp-ca/issuance-expiration', { type: 'Time', time: end.toISOString() });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.deepEqual(put.body.issuance_expiration, { type: 'Time', time: end.toISOString() });
    l = await lifetime('exp-ca');
    assert.equal(l.to, end.getTime());
    assert.deepEqual((await api.call('GET', '/api/ca/v1/cas/exp-ca')).body.issuance_expiration, { type: 'Time', time: end.toISOString() });
  });

  it('a profile other CAs share is left alone; bad validity 400; unknown CA 404', async () => {
    const profile = await api.call('POST', '/api/ca/v1/profiles', { id: 'shared-1y', name: 'shared', validity: { type: 'Duration', duration: '1y' } });
    assert.equal(profile.status, 201, JSON.stringify(profile.body));
    for (const id of ['share-a', 'share-b']) {
      const r = await api.call('POST', '/api/ca/v1/cas', { id, subject: { common_name: id }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration: '2y' }, profile_id: 'shared-1y' });
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
    const put = await api.call('PUT', '/api/ca/v1/cas/share-a/issuance-expiration', { type: 'Duration', duration: '7d' });
    assert.equal(put.status, 200);
    assert.equal(put.body.profile_id, 'share-a.issuance');
    assert.equal((await api.call('GET', '/api/ca/v1/cas/share-b')).body.profile_id, 'shared-1y');
    assert.deepEqual((await api.call('GET', '/api/ca/v1/profiles/shared-1y')).body.validity, { type: 'Duration', duration: '1y' });
    assert.deepEqual((await api.call('GET', '/api/ca/v1/cas/share-b')).body.issuance_expiration, { type: 'Duration', duration: '1y' });
    const a = await lifetime('share-a');
    assert.ok(Math.abs(a.to - a.from - 7 * DAY) <= 1000);

    for (const [body, code] of [
      [{ type: 'Duration', duration: 'soon' }, 'DURATION_INVALID'],
      [{ type: 'Duration' }, 'VALIDITY_INVALID'],
      [{ type: 'Time', time: 'tomorrow' }, 'VALIDATION_FAILED'],
    ] as const) {
      const r = await api.call('PUT', '/api/ca/v1/cas/share-a/issuance-expiration', body);
      assert.deepEqual([r.status, r.body.code], [400, code], JSON.stringify(body));
    }
    assert.equal((await api.call('PUT', '/api/ca/v1/cas/ghost/issuance-expiration', { type: 'Duration', duration: '7d' })).status, 404);
    const badCreate = await api.call('POST', '/api/ca/v1/cas', { id: 'never', subject: { common_name: 'never' }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration: '2y' }, issuance_expiration: { type: 'Duration', duration: 'x' } });
    assert.deepEqual([badCreate.status, badCreate.body.code], [400, 'DURATION_INVALID']);
    assert.equal((await api.call('GET', '/api/ca/v1/cas/never')).status, 404, 'nothing created');
  });
});
