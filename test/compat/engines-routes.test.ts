import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { compatApi, type CompatApi } from '../support/compat-api.ts';
import { forEachStorage } from '../support/storage.ts';

forEachStorage('GET /api/ca/v1/engines (Lamassu CryptoEngineProvider list)', (ctx) => {
  let api: CompatApi;
  before(async () => {
    api = await compatApi(ctx.storage);
  });
  after(async () => api?.close());

  it('lists every configured engine with its key types; the default is marked; engine_id on CAs matches', async () => {
    const r = await api.call('GET', '/api/ca/v1/engines');
    assert.equal(r.status, 200);
    assert.deepEqual(
      r.body.map((e: any) => [e.id, e.default]),
      [
        ['memory', true],
        ['second', false],
      ],
    );
    for (const e of r.body) {
      assert.deepEqual(Object.keys(e).sort(), ['default', 'id', 'metadata', 'name', 'provider', 'security_level', 'supported_key_types', 'type']);
      assert.equal(typeof e.security_level, 'number');
      const rsa = e.supported_key_types.find((k: any) => k.type === 'RSA');
      const ec = e.supported_key_types.find((k: any) => k.type === 'ECDSA');
      assert.ok(rsa.sizes.includes(2048) && ec.sizes.includes(256), JSON.stringify(e.supported_key_types));
    }
    const ca = await api.call('POST', '/api/ca/v1/cas', {
      subject: { common_name: 'engine-check' },
      key_metadata: { type: 'ECDSA', bits: 256 },
      ca_expiration: { type: 'Duration', duration: '1y' },
      engine_id: 'second',
    });
    assert.equal(ca.status, 201, JSON.stringify(ca.body));
    assert.ok(r.body.some((e: any) => e.id === ca.body.engine_id && e.id === ca.body.certificate.engine_id));
  });
});
