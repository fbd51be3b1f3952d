import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { toPem } from '../../src/x509/pem.ts';
import { compatApi, type CompatApi } from '../support/compat-api.ts';
import { opensslCsr } from '../support/csr-fixture.ts';
import { forEachStorage } from '../support/storage.ts';

const csrB64 = (cn: string) => Buffer.from(toPem(opensslCsr({ key: 'p256', subj: `/CN=${cn}` }), 'CERTIFICATE REQUEST')).toString('base64');

forEachStorage('DELETE /api/ca/v1/cas/{id} (Lamassu rules)', (ctx) => {
  let api: CompatApi;
  before(async () => {
    api = await compatApi(ctx.storage);
  });
  after(async () => api?.close());

  const create = async (id: string, parent?: string) => {
    const r = await api.call('POST', '/api/ca/v1/cas', { id, ...(parent ? { parent_id: parent } : {}), subject: { common_name: id }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration: '1y' } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
  };
  const del = (id: string, query = '') => api.call('DELETE', `/api/ca/v1/cas/${id}${query}`);

  it('only EXPIRED or REVOKED CAs without subordinates; their certificates stay in the inventory', async () => {
    await create('del-root');
    await create('del-sub', 'del-root');
    const leaf = await api.call('POST', '/api/ca/v1/cas/del-sub/certificates/sign', { csr: csrB64('del-leaf') });
    assert.equal(leaf.status, 201);

    const active = await del('del-sub');
    assert.deepEqual([active.status, active.body.code], [409, 'CA_DELETE_NOT_ALLOWED']);
    assert.equal((await api.call('POST', '/api/ca/v1/cas/del-root/status', { status: 'REVOKED', revocation_reason: 'CessationOfOperation' })).status, 200);
    const parent = await del('del-root');
    assert.deepEqual([parent.status, parent.body.code], [409, 'CA_HAS_SUBORDINATES']);
    const cascade = await del('del-root', '?cascade_delete=true');
    assert.deepEqual([cascade.status, cascade.body.code], [400, 'CA_CASCADE_DELETE_UNSUPPORTED']);

    // The cascade revoked the sub-CA too: it goes first, then the root.
    assert.equal((await del('del-sub')).status, 204);
    assert.equal((await del('del-root')).status, 204);
    for (const id of ['del-sub', 'del-root']) {
      assert.equal((await api.call('GET', `/api/ca/v1/cas/${id}`)).status, 404);
      assert.equal((await del(id)).status, 404);
    }
    assert.equal((await api.call('GET', `/api/ca/v1/cas?filter=${encodeURIComponent('id[ct]del-')}`)).body.list.length, 0);
    const kept = await api.call('GET', `/api/ca/v1/certificates/${leaf.body.serial_number}`);
    assert.deepEqual([kept.status, kept.body.status], [200, 'REVOKED']);
    assert.equal((await api.call('POST', '/api/ca/v1/cas/del-sub/certificates/sign', { csr: csrB64('after') })).status, 404);
    // The ids are retired: their certificates (and CRL entries) still name them.
    for (const id of ['del-sub', 'del-root']) {
      const again = await api.call('POST', '/api/ca/v1/cas', { id, subject: { common_name: id }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration: '1y' } });
      assert.deepEqual([again.status, again.body.code], [409, 'CA_ID_RETIRED']);
    }
  });

  it('the internal CA is never deleted (403 CA_INTERNAL)', async () => {
    const r = await del('LAMASSU-DMS-MANAGER');
    assert.deepEqual([r.status, r.body.code], [403, 'CA_INTERNAL']);
  });
});

forEachStorage('DELETE /api/ca/v1/cas/{id}: retirement (valid certificates, revoke_certificates, destroy_key)', (ctx) => {
  let api: CompatApi;
  before(async () => {
    api = await compatApi(ctx.storage);
  });
  after(async () => api?.close());

  const create = async (id: string) => {
    const r = await api.call('POST', '/api/ca/v1/cas', { id, subject: { common_name: id }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration: '1y' } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body as { key_id: string; engine_id: string };
  };
  const sign = async (ca: string, cn: string) => {
    const r = await api.call('POST', `/api/ca/v1/cas/${ca}/certificates/sign`, { csr: csrB64(cn) });
    assert.equal(r.status, 201);
    return r.body.serial_number as string;
  };
  const statusOf = async (serial: string) => {
    const r = await api.call('GET', `/api/ca/v1/certificates/${serial}`);
    return [r.body.status, r.body.revocation_reason];
  };

  it('a held CA with valid certificates is kept (409 CA_HAS_ACTIVE_CERTIFICATES) until they are revoked', async () => {
    await create('ret-held');
    const leaf = await sign('ret-held', 'ret-held-leaf');
    assert.equal((await api.call('POST', '/api/ca/v1/cas/ret-held/status', { status: 'REVOKED', revocation_reason: 'CertificateHold' })).status, 200);
    const refused = await api.call('DELETE', '/api/ca/v1/cas/ret-held');
    assert.deepEqual([refused.status, refused.body.code], [409, 'CA_HAS_ACTIVE_CERTIFICATES']);
    assert.deepEqual(await statusOf(leaf), ['ACTIVE', null], 'a refusal changes nothing');
    assert.equal((await api.call('PUT', `/api/ca/v1/certificates/${leaf}/status`, { status: 'REVOKED', revocation_reason: 'Superseded' })).status, 200);
    assert.equal((await api.call('DELETE', '/api/ca/v1/cas/ret-held')).status, 204);
  });

  it('revoke_certificates=true revokes an ACTIVE CA and what it issued, then deletes it; its key stays unless asked', async () => {
    const ca = await create('ret-active');
    const leaves = [await sign('ret-active', 'ret-a-1'), await sign('ret-active', 'ret-a-2')];
    const plain = await api.call('DELETE', '/api/ca/v1/cas/ret-active');
    assert.deepEqual([plain.status, plain.body.code], [409, 'CA_DELETE_NOT_ALLOWED']);
    assert.equal((await api.call('DELETE', '/api/ca/v1/cas/ret-active?revoke_certificates=true')).status, 204);
    assert.equal((await api.call('GET', '/api/ca/v1/cas/ret-active')).status, 404);
    for (const serial of leaves) assert.deepEqual(await statusOf(serial), ['REVOKED', 'CessationOfOperation']);
    const engine = api.keyEngines.get(ca.engine_id);
    assert.equal((await engine.getKey(ca.key_id)).id, ca.key_id, 'the key is kept without destroy_key');
  });

  it('destroy_key=true deletes the key from its engine; subordinates are refused before anything is revoked', async () => {
    const ca = await create('ret-key');
    const sub = await api.call('POST', '/api/ca/v1/cas', { id: 'ret-key-sub', parent_id: 'ret-key', subject: { common_name: 'ret-key-sub' }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration: '1y' } });
    assert.equal(sub.status, 201);
    const leaf = await sign('ret-key', 'ret-key-leaf');
    const refused = await api.call('DELETE', '/api/ca/v1/cas/ret-key?revoke_certificates=true&destroy_key=true');
    assert.deepEqual([refused.status, refused.body.code], [409, 'CA_HAS_SUBORDINATES']);
    assert.deepEqual(await statusOf(leaf), ['ACTIVE', null]);
    assert.equal((await api.call('DELETE', '/api/ca/v1/cas/ret-key-sub?revoke_certificates=true&destroy_key=true')).status, 204);
    assert.equal((await api.call('DELETE', '/api/ca/v1/cas/ret-key?revoke_certificates=true&destroy_key=true')).status, 204);
    await assert.rejects(api.keyEngines.get(ca.engine_id).getKey(ca.key_id), (e: { code?: string }) => e.code === 'KEY_NOT_FOUND');
  });
});
