/**
 * Lamassu's list queries on every list route: `filter=` applied (never ignored), unknown field or operator
 * 400 with a stable code, Lamassu's sort keys, empty `sort_by=` as the default, `"next": ""` on the last page.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { compatApi, type CompatApi } from '../support/compat-api.ts';
import { forEachStorage } from '../support/storage.ts';

const q = (s: string) => encodeURIComponent(s);

forEachStorage('Lamassu list queries over HTTP', (ctx) => {
  let api: CompatApi;
  before(async () => {
    api = await compatApi(ctx.storage);
    for (const cn of ['Filter-Root-A', 'filter-root-b']) {
      const r = await api.call('POST', '/api/ca/v1/cas', { id: cn.toLowerCase(), subject: { common_name: cn }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration: '1y' } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
    const dms = { authorized_cas: ['filter-root-a'], settings: { enrollment_settings: { enrollment_ca: 'filter-root-a' } } };
    for (const [id, name] of [['line-a', 'Line A'], ['line-b', 'Press B']]) assert.equal((await api.call('POST', '/api/dmsmanager/v1/dms', { id, name, ...dms })).status, 201);
    for (const [id, tags] of [['pump-1', ['Blue']], ['pump-2', ['red']], ['valve-3', []]] as const) {
      assert.equal((await api.call('POST', '/api/devmanager/v1/devices', { id, tags, dms_id: 'line-a' })).status, 201);
    }
  });
  after(async () => api?.close());

  const lists = ['/api/ca/v1/cas', '/api/ca/v1/certificates', '/api/ca/v1/cas/filter-root-a/certificates', '/api/dmsmanager/v1/dms', '/api/devmanager/v1/devices', '/api/devmanager/v1/devices/dms/line-a'];

  it('filters are applied server-side on every list', async () => {
    const ids = async (url: string, pick: (x: any) => string) => {
      const r = await api.call('GET', url);
      assert.equal(r.status, 200, `${url} ${JSON.stringify(r.body)}`);
      return r.body.list.map(pick).sort();
    };
    const caId = (c: any) => c.id;
    assert.deepEqual(await ids(`/api/ca/v1/cas?filter=${q('subject.common_name[eq_ic]filter-root-a')}`, caId), ['filter-root-a']);
    assert.deepEqual(await ids(`/api/ca/v1/cas?filter=${q('subject.common_name[ct]Filter')}&filter=${q('level[eq]0')}`, caId), ['filter-root-a']);
    assert.deepEqual(await ids(`/api/ca/v1/cas?filter=${q('status[eq]active')}&filter=${q('id[ct]filter-root')}`, caId), ['filter-root-a', 'filter-root-b']);
    const cn = (c: any) => c.subject.common_name;
    assert.deepEqual(await ids(`/api/ca/v1/certificates?filter=${q('subject.common_name[ct_ic]FILTER-ROOT')}&filter=${q('is_ca[eq]true')}`, cn), ['Filter-Root-A', 'filter-root-b']);
    assert.deepEqual(await ids(`/api/ca/v1/certificates?filter=${q('subject.common_name[nc]Filter')}&filter=${q('subject.common_name[ct]filter')}`, cn), ['filter-root-b']);
    // A root's own certificate is among those it issued; the other root's is not.
    assert.deepEqual(await ids(`/api/ca/v1/cas/filter-root-a/certificates?filter=${q('subject.common_name[eq_ic]FILTER-ROOT-A')}`, cn), ['Filter-Root-A']);
    assert.deepEqual(await ids(`/api/ca/v1/cas/filter-root-a/certificates?filter=${q('subject.common_name[eq]filter-root-b')}`, cn), []);
    assert.deepEqual(await ids(`/api/dmsmanager/v1/dms?filter=${q('name[ct_ic]press')}`, (d) => d.id), ['line-b']);
    assert.deepEqual(await ids(`/api/devmanager/v1/devices?filter=${q('tags[ct_ic]blue')}`, (d) => d.id), ['pump-1']);
    assert.deepEqual(await ids(`/api/devmanager/v1/devices?filter=${q('tags[ct]blue')}`, (d) => d.id), []);
    assert.deepEqual(await ids(`/api/devmanager/v1/devices/dms/line-a?filter=${q('id[ct]pump')}&filter=${q('status[eq]pending_provisioning')}`, (d) => d.id), ['pump-1', 'pump-2']);
    assert.deepEqual(await ids(`/api/devmanager/v1/devices?filter=${q('creation_timestamp[af]2999-01-01T00:00:00Z')}`, (d) => d.id), []);
  });

  it('unknown field, wrong operator, bad value, JSONPath, malformed: 400 with a stable code on every list', async () => {
    for (const url of lists) {
      for (const [filter, code] of [
        ['nosuchfield[eq]x', 'FILTER_FIELD_UNKNOWN'],
        ['id[zz]x', url.includes('/certificates') ? 'FILTER_FIELD_UNKNOWN' : 'FILTER_OPERATOR_INVALID'],
        ['metadata[jsonpath]$.a ==', 'FILTER_JSONPATH_INVALID'],
        ['metadata[eq]x', 'FILTER_OPERATOR_INVALID'],
        ['no-brackets', 'FILTER_INVALID'],
      ]) {
        const r = await api.call('GET', `${url}?filter=${q(filter)}`);
        assert.deepEqual([r.status, r.body.code], [400, code], `${url} ${filter}`);
      }
    }
    for (const [url, filter] of [['/api/dmsmanager/v1/dms', 'settings[jsonpath]exists($.a)'], ['/api/devmanager/v1/devices', 'identity_slot[jsonpath]exists($.a)']]) {
      const r = await api.call('GET', `${url}?filter=${q(filter!)}`);
      assert.deepEqual([r.status, r.body.code], [400, 'FILTER_OPERATOR_UNSUPPORTED'], filter);
    }
    const date = await api.call('GET', `/api/ca/v1/certificates?filter=${q('valid_to[af]tomorrow')}`);
    assert.deepEqual([date.status, date.body.code], [400, 'FILTER_VALUE_INVALID']);
    const num = await api.call('GET', `/api/ca/v1/cas?filter=${q('level[gt]one')}`);
    assert.deepEqual([num.status, num.body.code], [400, 'FILTER_VALUE_INVALID']);
    const textOp = await api.call('GET', `/api/ca/v1/cas?filter=${q('status[ct]ACT')}`);
    assert.deepEqual([textOp.status, textOp.body.code], [400, 'FILTER_OPERATOR_INVALID']);
  });

  it("Lamassu sort keys, empty sort_by = default, and next is \"\" on the last page of every list", async () => {
    for (const url of lists) {
      const r = await api.call('GET', `${url}?sort_by=&page_size=1000`);
      assert.equal(r.status, 200, `${url} ${JSON.stringify(r.body)}`);
      assert.equal(r.body.next, '', url);
    }
    const byCn = await api.call('GET', `/api/ca/v1/cas?sort_by=subject.common_name&sort_mode=desc&filter=${q('id[ct]filter-root')}`);
    assert.deepEqual(byCn.body.list.map((c: any) => c.id), ['filter-root-b', 'filter-root-a']);
    const byCreation = await api.call('GET', '/api/devmanager/v1/devices?sort_by=creation_timestamp&sort_mode=desc&page_size=1');
    assert.equal(byCreation.status, 200);
    assert.notEqual(byCreation.body.next, '');
    assert.equal((await api.call('GET', '/api/dmsmanager/v1/dms?sort_by=creation_date')).status, 200);
    assert.equal((await api.call('GET', '/api/ca/v1/certificates?sort_by=creation_timestamp')).status, 200);
    assert.equal((await api.call('GET', '/api/ca/v1/profiles')).body.next, '');
    assert.equal((await api.call('GET', '/api/ca/v1/cas?sort_by=secret')).status, 400);
  });
});
