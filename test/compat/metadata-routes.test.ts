/**
 * Lamassu's metadata updates on CAs, certificates, devices and DMSs: `{"patches": [...]}` (RFC 6902 subset)
 * on PUT and PATCH, plain objects as before; limits and error codes; concurrent patches all land.
 * On SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { compatApi, type CompatApi } from '../support/compat-api.ts';
import { toPem } from '../../src/x509/pem.ts';
import { opensslCsr } from '../support/csr-fixture.ts';
import { forEachStorage } from '../support/storage.ts';

const csrB64 = (cn: string) => Buffer.from(toPem(opensslCsr({ key: 'p256', subj: `/CN=${cn}` }), 'CERTIFICATE REQUEST')).toString('base64');

forEachStorage('Lamassu metadata PUT / PATCH', (ctx) => {
  let api: CompatApi;
  let serial: string;
  before(async () => {
    api = await compatApi(ctx.storage);
    const ca = await api.call('POST', '/api/ca/v1/cas', { id: 'meta-ca', subject: { common_name: 'meta-ca' }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration: '1y' }, metadata: { a: 1 } });
    assert.equal(ca.status, 201, JSON.stringify(ca.body));
    const cert = await api.call('POST', '/api/ca/v1/cas/meta-ca/certificates/sign', { csr: csrB64('meta-leaf'), metadata: { a: 1 } });
    assert.equal(cert.status, 201, JSON.stringify(cert.body));
    serial = cert.body.serial_number;
    assert.equal((await api.call('POST', '/api/devmanager/v1/devices', { id: 'meta-dev', metadata: { a: 1 } })).status, 201);
    const dms = await api.call('POST', '/api/dmsmanager/v1/dms', { id: 'meta-dms', name: 'm', metadata: { a: 1 }, settings: { enrollment_settings: { enrollment_ca: 'meta-ca' } } });
    assert.equal(dms.status, 201, JSON.stringify(dms.body));
  });
  after(async () => api?.close());

  const resources = () => [
    { url: '/api/ca/v1/cas/meta-ca', metadataUrl: '/api/ca/v1/cas/meta-ca/metadata' },
    { url: `/api/ca/v1/certificates/${serial}`, metadataUrl: `/api/ca/v1/certificates/${serial}/metadata` },
    { url: '/api/devmanager/v1/devices/meta-dev', metadataUrl: '/api/devmanager/v1/devices/meta-dev/metadata' },
    { url: '/api/dmsmanager/v1/dms/meta-dms', metadataUrl: '/api/dmsmanager/v1/dms/meta-dms/metadata' },
  ];

  it('JSON Patch on PUT and PATCH, plain replace and merge; GET shows the result', async () => {
    for (const r of resources()) {
      const patched = await api.call('PATCH', r.metadataUrl, {
        patches: [
          { op: 'add', path: '/lamassu.io~1iot', value: { registration: { status: 'REQUESTED' } } },
          { op: 'replace', path: '/a', value: 2 },
          { op: 'add', path: '/tags', value: ['x'] },
          { op: 'add', path: '/tags/-', value: 'y' },
        ],
      });
      assert.equal(patched.status, 200, `${r.metadataUrl} ${JSON.stringify(patched.body)}`);
      const expected = { a: 2, 'lamassu.io/iot': { registration: { status: 'REQUESTED' } }, tags: ['x', 'y'] };
      assert.deepEqual(patched.body.metadata, expected, r.metadataUrl);
      assert.deepEqual((await api.call('GET', r.url)).body.metadata, expected, r.url);
      const put = await api.call('PUT', r.metadataUrl, { patches: [{ op: 'remove', path: '/lamassu.io~1iot/registration' }, { op: 'remove', path: '/tags/0' }] });
      assert.deepEqual(put.body.metadata, { a: 2, 'lamassu.io/iot': {}, tags: ['y'] }, r.metadataUrl);
      assert.deepEqual((await api.call('PUT', r.metadataUrl, { fresh: true })).body.metadata, { fresh: true });
      assert.deepEqual((await api.call('PATCH', r.metadataUrl, { fresh: null, more: 1 })).body.metadata, { more: 1 });
    }
  });

  it('bad patches 400 METADATA_PATCH_INVALID, too deep 400 METADATA_TOO_DEEP, too large 413 METADATA_TOO_LARGE; nothing changes', async () => {
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 16; i++) deep = { d: deep };
    for (const r of resources()) {
      const before = (await api.call('GET', r.url)).body.metadata;
      for (const [body, status, code] of [
        [{ patches: [{ op: 'remove', path: '/nope' }] }, 400, 'METADATA_PATCH_INVALID'],
        [{ patches: [{ op: 'add', path: '/ok', value: 1 }, { op: 'test', path: '/ok', value: 1 }] }, 400, 'METADATA_PATCH_INVALID'],
        [{ patches: [{ op: 'add', path: 'no-slash', value: 1 }] }, 400, 'METADATA_PATCH_INVALID'],
        [{ patches: [{ op: 'add', path: '/deep', value: deep }] }, 400, 'METADATA_TOO_DEEP'],
        [{ big: 'x'.repeat(70_000) }, 413, 'METADATA_TOO_LARGE'],
      ] as const) {
        const res = await api.call('PATCH', r.metadataUrl, body);
        assert.deepEqual([res.status, res.body.code], [status, code], `${r.metadataUrl} ${JSON.stringify(body).slice(0, 80)}`);
      }
      assert.deepEqual((await api.call('GET', r.url)).body.metadata, before);
    }
    for (const url of ['/api/ca/v1/cas/ghost/metadata', '/api/ca/v1/certificates/abcdef/metadata', '/api/devmanager/v1/devices/ghost/metadata', '/api/dmsmanager/v1/dms/ghost/metadata']) {
      assert.equal((await api.call('PATCH', url, { patches: [] })).status, 404, url);
    }
  });

  it('concurrent patches of different keys all land', async () => {
    for (const r of resources().slice(0, 3)) {
      await api.call('PUT', r.metadataUrl, {});
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => api.call('PATCH', r.metadataUrl, { patches: [{ op: 'add', path: `/k${i}`, value: i }] })));
      for (const res of results) assert.equal(res.status, 200, JSON.stringify(res.body));
      const got = (await api.call('GET', r.url)).body.metadata;
      assert.deepEqual(Object.keys(got).sort(), Array.from({ length: 12 }, (_, i) => `k${i}`).sort(), r.url);
    }
  });
});
