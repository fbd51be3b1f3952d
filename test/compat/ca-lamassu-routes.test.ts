/**
 * Lamassu's other spellings of CA routes: /cas/cn/{cn}, /cas/{id}/certificates/status/{status},
 * /cas/{id}/certificates/{sn}, /certificates/status/{status}, /certificates/expiration, and
 * POST /cas/{id}/profile. On SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { opensslCsr } from '../support/csr-fixture.ts';
import { compatApi, type CompatApi } from '../support/compat-api.ts';
import { forEachStorage } from '../support/storage.ts';
import { toPem } from '../../src/x509/pem.ts';

const csr = (cn: string) => Buffer.from(toPem(opensslCsr({ key: 'p256', subj: `/CN=${cn}` }), 'CERTIFICATE REQUEST')).toString('base64');

forEachStorage('Lamassu CA route spellings', (ctx) => {
  let api: CompatApi;
  const serials: string[] = [];
  before(async () => {
    api = await compatApi(ctx.storage);
    for (const id of ['alias-a', 'alias-b']) {
      const r = await api.call('POST', '/api/ca/v1/cas', { id, subject: { common_name: id === 'alias-a' ? 'Alias Root' : 'Other Root' }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration: '1y' } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
    for (const cn of ['alias-dev-1', 'alias-dev-2']) {
      const r = await api.call('POST', '/api/ca/v1/cas/alias-a/certificates/sign', { csr: csr(cn) });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      serials.push(r.body.serial_number);
    }
    assert.equal((await api.call('PUT', `/api/ca/v1/certificates/${serials[1]}/status`, { status: 'REVOKED', revocation_reason: 'KeyCompromise' })).status, 200);
  });
  after(async () => api?.close());

  it('lists by common name, by status (any case), by expiration window', async () => {
    const byCn = await api.call('GET', `/api/ca/v1/cas/cn/${encodeURIComponent('Alias Root')}`);
    assert.deepEqual([byCn.status, byCn.body.list.map((c: any) => c.id), byCn.body.next], [200, ['alias-a'], '']);
    assert.deepEqual((await api.call('GET', '/api/ca/v1/cas/cn/nobody')).body.list, []);

    const active = await api.call('GET', '/api/ca/v1/cas/alias-a/certificates/status/active');
    // The root's own certificate is ACTIVE and issued by it too.
    assert.deepEqual(active.body.list.filter((c: any) => !c.is_ca).map((c: any) => c.serial_number), [serials[0]]);
    assert.ok(active.body.list.every((c: any) => c.status === 'ACTIVE'));
    const revoked = await api.call('GET', '/api/ca/v1/certificates/status/REVOKED?page_size=100');
    assert.ok(revoked.body.list.some((c: any) => c.serial_number === serials[1]));
    assert.ok(revoked.body.list.every((c: any) => c.status === 'REVOKED'));
    assert.deepEqual((await api.call('GET', '/api/ca/v1/certificates/status/SLEEPY')).body.code, 'STATUS_INVALID');
    assert.equal((await api.call('GET', '/api/ca/v1/cas/ghost/certificates/status/ACTIVE')).status, 404);

    const soon = new Date(Date.now() + 400 * 86_400_000).toISOString();
    const window = await api.call('GET', `/api/ca/v1/certificates/expiration?expires_after=${new Date().toISOString()}&expires_before=${soon}&filter=${encodeURIComponent('issuer_meta.id[eq]alias-a')}`);
    assert.deepEqual(window.body.list.filter((c: any) => !c.is_ca).map((c: any) => c.serial_number).sort(), [...serials].sort());
    const past = await api.call('GET', `/api/ca/v1/certificates/expiration?expires_before=2000-01-01T00:00:00Z`);
    assert.deepEqual(past.body.list, []);
  });

  it('a certificate under its CA; another CA\'s serial is 404', async () => {
    const got = await api.call('GET', `/api/ca/v1/cas/alias-a/certificates/${serials[0]}`);
    assert.deepEqual([got.status, got.body.serial_number], [200, serials[0]]);
    const other = await api.call('GET', `/api/ca/v1/cas/alias-b/certificates/${serials[0]}`);
    assert.deepEqual([other.status, other.body.code], [404, 'CERTIFICATE_NOT_FOUND']);
  });

  it('POST /cas/{id}/profile sets the default issuance profile, used by the next signature', async () => {
    const profile = await api.call('POST', '/api/ca/v1/profiles', { id: 'alias-short', name: 'short', validity: { type: 'Duration', duration: '2d' } });
    assert.equal(profile.status, 201, JSON.stringify(profile.body));
    const set = await api.call('POST', '/api/ca/v1/cas/alias-b/profile', { profile_id: 'alias-short' });
    assert.deepEqual([set.status, set.body.profile_id], [200, 'alias-short']);
    const cert = await api.call('POST', '/api/ca/v1/cas/alias-b/certificates/sign', { csr: csr('alias-dev-3') });
    const days = (Date.parse(cert.body.valid_to) - Date.parse(cert.body.valid_from)) / 86_400_000;
    assert.ok(days <= 2.01, `valid ${days} days`);
    const missing = await api.call('POST', '/api/ca/v1/cas/alias-b/profile', { profile_id: 'nope' });
    assert.deepEqual([missing.status, missing.body.code], [404, 'PROFILE_NOT_FOUND']);
    assert.equal((await api.call('POST', '/api/ca/v1/cas/ghost/profile', { profile_id: 'alias-short' })).status, 404);
    assert.equal((await api.call('POST', '/api/ca/v1/cas/alias-b/profile', {})).status, 400);
  });
});
