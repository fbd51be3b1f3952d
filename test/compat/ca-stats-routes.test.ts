import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { toPem } from '../../src/x509/pem.ts';
import { compatApi, type CompatApi } from '../support/compat-api.ts';
import { opensslCsr } from '../support/csr-fixture.ts';
import { forEachStorage } from '../support/storage.ts';

const csrB64 = (cn: string) => Buffer.from(toPem(opensslCsr({ key: 'p256', subj: `/CN=${cn}` }), 'CERTIFICATE REQUEST')).toString('base64');

forEachStorage('GET /api/ca/v1/stats/{caId}', (ctx) => {
  let api: CompatApi;
  before(async () => {
    api = await compatApi(ctx.storage);
  });
  after(async () => api?.close());

  it("counts the CA and those below it, and the certificates it issued, in Lamassu's CAStats shape; 404 for no CA", async () => {
    const ca = (id: string, parent?: string) =>
      api.call('POST', '/api/ca/v1/cas', { id, ...(parent ? { parent_id: parent } : {}), subject: { common_name: id }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration: '1y' }, engine_id: parent ? 'second' : 'memory' });
    assert.equal((await ca('stats-root')).status, 201);
    assert.equal((await ca('stats-sub', 'stats-root')).status, 201);
    assert.equal((await ca('stats-other')).status, 201);
    for (const cn of ['s1', 's2']) assert.equal((await api.call('POST', '/api/ca/v1/cas/stats-sub/certificates/sign', { csr: csrB64(cn) })).status, 201);
    const leaf = await api.call('POST', '/api/ca/v1/cas/stats-sub/certificates/sign', { csr: csrB64('s3') });
    assert.equal((await api.call('PUT', `/api/ca/v1/certificates/${leaf.body.serial_number}/status`, { status: 'REVOKED', revocation_reason: 'KeyCompromise' })).status, 200);

    const root = await api.call('GET', '/api/ca/v1/stats/stats-root');
    assert.equal(root.status, 200);
    assert.deepEqual(root.body.cas, { total: 2, engine_distribution: { memory: 1, second: 1 }, status_distribution: { ACTIVE: 2 } });
    // The root issued its own certificate and the sub-CA's.
    assert.deepEqual(root.body.certificates, { total: 2, ca_distribution: { 'stats-root': 2 }, status_distribution: { ACTIVE: 2 } });
    const sub = await api.call('GET', '/api/ca/v1/stats/stats-sub');
    assert.deepEqual(sub.body.cas.total, 1);
    assert.deepEqual(sub.body.certificates, { total: 3, ca_distribution: { 'stats-sub': 3 }, status_distribution: { ACTIVE: 2, REVOKED: 1 } });

    // Filtered stats: each filter counts the side(s) whose list knows its field.
    const q = (...filters: string[]) => filters.map((f) => `filter=${encodeURIComponent(f)}`).join('&');
    const revoked = await api.call('GET', `/api/ca/v1/stats/stats-sub?${q('status[eq]REVOKED')}`);
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    assert.deepEqual(revoked.body.certificates, { total: 1, ca_distribution: { 'stats-sub': 1 }, status_distribution: { REVOKED: 1 } });
    assert.equal(revoked.body.cas.total, 0, 'the sub-CA itself is ACTIVE');
    const byCn = await api.call('GET', `/api/ca/v1/stats/stats-sub?${q('subject.common_name[eq]s1')}`);
    assert.deepEqual(byCn.body.certificates.status_distribution, { ACTIVE: 1 });
    const level = await api.call('GET', `/api/ca/v1/stats?${q('level[eq]1', 'engine_id[eq]second')}`);
    assert.equal(level.status, 200);
    assert.deepEqual(level.body.cas, { total: 1, engine_distribution: { second: 1 }, status_distribution: { ACTIVE: 1 } });
    const leaves = await api.call('GET', `/api/ca/v1/stats?${q('is_ca[eq]false', 'issuer_meta.id[eq]stats-sub')}`);
    assert.deepEqual(leaves.body.certificates, { total: 3, ca_distribution: { 'stats-sub': 3 }, status_distribution: { ACTIVE: 2, REVOKED: 1 } });
    const unknown = await api.call('GET', `/api/ca/v1/stats?${q('colour[eq]blue')}`);
    assert.deepEqual([unknown.status, unknown.body.code], [400, 'FILTER_FIELD_UNKNOWN']);
    const badOp = await api.call('GET', `/api/ca/v1/stats/stats-sub?${q('status[gt]REVOKED')}`);
    assert.deepEqual([badOp.status, badOp.body.code], [400, 'FILTER_OPERATOR_INVALID']);

    // Lamassu's ca_filter / cert_filter: each side on its own (status is a field of both lists).
    const lq = (name: string, ...filters: string[]) => filters.map((f) => `${name}=${encodeURIComponent(f)}`).join('&');
    const caSide = await api.call('GET', `/api/ca/v1/stats?${lq('ca_filter', 'engine_id[eq]second')}`);
    assert.equal(caSide.status, 200, JSON.stringify(caSide.body));
    assert.deepEqual(caSide.body.cas, { total: 1, engine_distribution: { second: 1 }, status_distribution: { ACTIVE: 1 } });
    const all = await api.call('GET', '/api/ca/v1/stats');
    assert.deepEqual(caSide.body.certificates, all.body.certificates, 'ca_filter leaves the certificates alone');
    const certSide = await api.call('GET', `/api/ca/v1/stats?${lq('cert_filter', 'status[eq]REVOKED')}`);
    assert.deepEqual(certSide.body.certificates, { total: 1, ca_distribution: { 'stats-sub': 1 }, status_distribution: { REVOKED: 1 } });
    assert.deepEqual(certSide.body.cas, all.body.cas, 'cert_filter leaves the CAs alone');
    const both = await api.call('GET', `/api/ca/v1/stats?${lq('ca_filter', 'id[eq]stats-other')}&${lq('cert_filter', 'subject.common_name[eq]s2', 'is_ca[eq]false')}`);
    assert.deepEqual([both.body.cas.total, both.body.certificates.total], [1, 1]);
    const oneCa = await api.call('GET', `/api/ca/v1/stats/stats-sub?${lq('cert_filter', 'subject.common_name[eq]s1')}`);
    assert.deepEqual(oneCa.body.certificates, { total: 1, ca_distribution: { 'stats-sub': 1 }, status_distribution: { ACTIVE: 1 } });
    const caOnlyField = await api.call('GET', `/api/ca/v1/stats?${lq('cert_filter', 'level[eq]1')}`);
    assert.deepEqual([caOnlyField.status, caOnlyField.body.code], [400, 'FILTER_FIELD_UNKNOWN']);
    const badCaFilter = await api.call('GET', `/api/ca/v1/stats?${lq('ca_filter', 'id[zz]x')}`);
    assert.deepEqual([badCaFilter.status, badCaFilter.body.code], [400, 'FILTER_OPERATOR_INVALID']);

    const none = await api.call('GET', '/api/ca/v1/stats/ghost');
    assert.deepEqual([none.status, none.body.code], [404, 'CA_NOT_FOUND']);
  });
});
