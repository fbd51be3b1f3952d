/**
 * Lamassu's CreateCA profile for the CA's own certificate: `ca_issuance_profile_id` / `ca_issuance_profile`.
 * Its crypto enforcement must accept the CA's key; without `ca_expiration` its validity is the certificate's.
 * On SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { compatApi, type CompatApi } from '../support/compat-api.ts';
import { forEachStorage } from '../support/storage.ts';

const DAY = 24 * 3600 * 1000;
const rsaOnly = { enabled: true, allow_rsa_keys: true, allowed_rsa_key_sizes: [2048, 3072], allow_ecdsa_keys: false, allowed_ecdsa_key_sizes: [], allow_ed25519_keys: false };

forEachStorage("Lamassu's CA issuance profile on POST /api/ca/v1/cas", (ctx) => {
  let api: CompatApi;
  before(async () => {
    api = await compatApi(ctx.storage);
    const p = await api.call('POST', '/api/ca/v1/profiles', { id: 'ca-own-rsa', name: 'CA own RSA', validity: { type: 'Duration', duration: '90d' }, sign_as_ca: true, crypto_enforcement: rsaOnly });
    assert.equal(p.status, 201, JSON.stringify(p.body));
  });
  after(async () => api?.close());

  const lifetime = (ca: any) => new Date(ca.certificate.valid_to).getTime() - new Date(ca.certificate.valid_from).getTime();

  it('by id: the profile validity when ca_expiration is absent; ca_expiration wins when given; a key it refuses is 400 CA_KEY_NOT_ALLOWED', async () => {
    const fromProfile = await api.call('POST', '/api/ca/v1/cas', { id: 'own-1', subject: { common_name: 'own-1' }, key_metadata: { type: 'RSA', bits: 2048 }, ca_issuance_profile_id: 'ca-own-rsa' });
    assert.equal(fromProfile.status, 201, JSON.stringify(fromProfile.body));
    assert.equal(lifetime(fromProfile.body), 90 * DAY);
    const given = await api.call('POST', '/api/ca/v1/cas', { id: 'own-2', subject: { common_name: 'own-2' }, key_metadata: { type: 'RSA', bits: 2048 }, ca_expiration: { type: 'Duration', duration: '2y' }, ca_issuance_profile_id: 'ca-own-rsa' });
    assert.equal(given.status, 201, JSON.stringify(given.body));
    assert.equal(lifetime(given.body), 2 * 365 * DAY);
    const ec = await api.call('POST', '/api/ca/v1/cas', { id: 'own-3', subject: { common_name: 'own-3' }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration: '1y' }, ca_issuance_profile_id: 'ca-own-rsa' });
    assert.deepEqual([ec.status, ec.body.code], [400, 'CA_KEY_NOT_ALLOWED']);
    assert.equal((await api.call('GET', '/api/ca/v1/cas/own-3')).status, 404);
    const missing = await api.call('POST', '/api/ca/v1/cas', { id: 'own-4', subject: { common_name: 'own-4' }, key_metadata: { type: 'RSA', bits: 2048 }, ca_issuance_profile_id: 'no-such-profile' });
    assert.deepEqual([missing.status, missing.body.code], [404, 'PROFILE_NOT_FOUND']);
  });

  it('inline: the same rules; with an id too it is 400 PROFILE_AMBIGUOUS; neither profile nor ca_expiration is 400 VALIDITY_INVALID', async () => {
    const inline = await api.call('POST', '/api/ca/v1/cas', { id: 'own-5', subject: { common_name: 'own-5' }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_issuance_profile: { validity: { type: 'Duration', duration: '30d' }, sign_as_ca: true } });
    assert.equal(inline.status, 201, JSON.stringify(inline.body));
    assert.equal(lifetime(inline.body), 30 * DAY);
    const refused = await api.call('POST', '/api/ca/v1/cas', { id: 'own-6', subject: { common_name: 'own-6' }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_issuance_profile: { validity: { type: 'Duration', duration: '30d' }, crypto_enforcement: rsaOnly } });
    assert.deepEqual([refused.status, refused.body.code], [400, 'CA_KEY_NOT_ALLOWED']);
    const both = await api.call('POST', '/api/ca/v1/cas', { id: 'own-7', subject: { common_name: 'own-7' }, key_metadata: { type: 'RSA', bits: 2048 }, ca_issuance_profile_id: 'ca-own-rsa', ca_issuance_profile: {} });
    assert.deepEqual([both.status, both.body.code], [400, 'PROFILE_AMBIGUOUS']);
    const none = await api.call('POST', '/api/ca/v1/cas', { id: 'own-8', subject: { common_name: 'own-8' }, key_metadata: { type: 'RSA', bits: 2048 } });
    assert.deepEqual([none.status, none.body.code], [400, 'VALIDITY_INVALID']);
    // A sub-CA under a profile: still capped by its parent.
    const sub = await api.call('POST', '/api/ca/v1/cas', { id: 'own-9', parent_id: 'own-5', subject: { common_name: 'own-9' }, key_metadata: { type: 'RSA', bits: 2048 }, ca_issuance_profile_id: 'ca-own-rsa' });
    assert.equal(sub.status, 201, JSON.stringify(sub.body));
    assert.ok(new Date(sub.body.certificate.valid_to) <= new Date(inline.body.certificate.valid_to));
  });
});
