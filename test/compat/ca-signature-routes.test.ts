import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { constants, createHash, createPublicKey, verify, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { compatApi, type CompatApi } from '../support/compat-api.ts';
import { forEachStorage } from '../support/storage.ts';

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64');

forEachStorage('POST /api/ca/v1/cas/{id}/signature/sign and /verify', (ctx) => {
  let api: CompatApi;
  before(async () => {
    api = await compatApi(ctx.storage);
  });
  after(async () => api?.close());

  const publicKeyOf = (ca: any) => createPublicKey(new X509Certificate(Buffer.from(ca.certificate.certificate, 'base64')).publicKey.export({ type: 'spki', format: 'pem' }));

  it('signs raw messages with the CA key (ECDSA, RSA PKCS#1 v1.5, RSA-PSS); node:crypto and /verify agree; tampering fails', async () => {
    const message = Buffer.from('firmware image 1.2.3');
    for (const [keyType, bits, algorithms] of [
      ['ECDSA', 256, ['ECDSA_SHA_256', 'ECDSA_SHA_384']],
      ['RSA', 2048, ['RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PSS_SHA_512']],
    ] as const) {
      const ca = (await api.call('POST', '/api/ca/v1/cas', { subject: { common_name: `sig-${keyType}` }, key_metadata: { type: keyType, bits }, ca_expiration: { type: 'Duration', duration: '1y' } })).body;
      for (const algorithm of algorithms) {
        const signed = await api.call('POST', `/api/ca/v1/cas/${ca.id}/signature/sign`, { message: b64(message), message_type: 'raw', signature_algorithm: algorithm });
        assert.equal(signed.status, 200, JSON.stringify(signed.body));
        const signature = Buffer.from(signed.body.signed_data, 'base64');
        const hash = `sha${algorithm.slice(-3)}`;
        const key = algorithm.startsWith('RSASSA_PSS')
          ? { key: publicKeyOf(ca), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(algorithm.slice(-3)) / 8 }
          : publicKeyOf(ca);
        assert.ok(verify(hash, message, key, signature), `${algorithm}: node:crypto verifies`);
        const ok = await api.call('POST', `/api/ca/v1/cas/${ca.id}/signature/verify`, { message: b64(message), message_type: 'raw', signature_algorithm: algorithm, signature: signed.body.signed_data });
        assert.deepEqual([ok.status, ok.body], [200, { valid: true }]);
        const tampered = await api.call('POST', `/api/ca/v1/cas/${ca.id}/signature/verify`, { message: b64('firmware image 1.2.4'), message_type: 'raw', signature_algorithm: algorithm, signature: signed.body.signed_data });
        assert.deepEqual(tampered.body, { valid: false });
      }
    }
  });

  it('signs digests (message_type hash / DIGEST): openssl pkeyutl verifies them over the digest; /verify takes digests too', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lamassu-digest-sig-'));
    try {
      const message = Buffer.from('firmware image 2.0.0');
      for (const [keyType, bits, algorithms] of [
        ['ECDSA', 256, ['ECDSA_SHA_256', 'ECDSA_SHA_512']],
        ['ECDSA', 384, ['ECDSA_SHA_384']],
        ['ECDSA', 521, ['ECDSA_SHA_512', 'ECDSA_SHA_256']],
        ['RSA', 2048, ['RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_512', 'RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_384']],
      ] as const) {
        const ca = (await api.call('POST', '/api/ca/v1/cas', { subject: { common_name: `dsig-${keyType}-${bits}` }, key_metadata: { type: keyType, bits }, ca_expiration: { type: 'Duration', duration: '1y' } })).body;
        const pubFile = path.join(dir, 'pub.pem');
        writeFileSync(pubFile, publicKeyOf(ca).export({ type: 'spki', format: 'pem' }));
        for (const [i, algorithm] of algorithms.entries()) {
          const hash = `sha${algorithm.slice(-3)}`;
          const digest = createHash(hash).update(message).digest();
          const messageType = i % 2 === 0 ? 'hash' : 'DIGEST';
          const signed = await api.call('POST', `/api/ca/v1/cas/${ca.id}/signature/sign`, { message: b64(digest), message_type: messageType, signature_algorithm: algorithm });
          assert.equal(signed.status, 200, JSON.stringify(signed.body));
          const signature = Buffer.from(signed.body.signed_data, 'base64');
          writeFileSync(path.join(dir, 'digest.bin'), digest);
          writeFileSync(path.join(dir, 'sig.bin'), signature);
          const opts = ['-pkeyopt', `digest:${hash}`, ...(algorithm.startsWith('RSASSA_PSS') ? ['-pkeyopt', 'rsa_padding_mode:pss', '-pkeyopt', 'rsa_pss_saltlen:digest'] : [])];
          const out = execFileSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', pubFile, '-in', path.join(dir, 'digest.bin'), '-sigfile', path.join(dir, 'sig.bin'), ...opts], { encoding: 'utf8' });
          assert.match(out, /Signature Verified Successfully/, `${algorithm}: openssl`);
          const key = algorithm.startsWith('RSASSA_PSS') ? { key: publicKeyOf(ca), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(algorithm.slice(-3)) / 8 } : publicKeyOf(ca);
          assert.ok(verify(hash, message, key, signature), `${algorithm}: node:crypto verifies over the message`);
          const ok = await api.call('POST', `/api/ca/v1/cas/${ca.id}/signature/verify`, { message: b64(digest), message_type: 'hash', signature_algorithm: algorithm, signature: signed.body.signed_data });
          assert.deepEqual([ok.status, ok.body], [200, { valid: true }], algorithm);
          const raw = await api.call('POST', `/api/ca/v1/cas/${ca.id}/signature/verify`, { message: b64(message), message_type: 'raw', signature_algorithm: algorithm, signature: signed.body.signed_data });
          assert.deepEqual(raw.body, { valid: true }, `${algorithm}: the same signature over the raw message`);
          const other = createHash(hash).update('another image').digest();
          const bad = await api.call('POST', `/api/ca/v1/cas/${ca.id}/signature/verify`, { message: b64(other), message_type: 'hash', signature_algorithm: algorithm, signature: signed.body.signed_data });
          assert.deepEqual(bad.body, { valid: false }, `${algorithm}: another digest`);
          const junk = await api.call('POST', `/api/ca/v1/cas/${ca.id}/signature/verify`, { message: b64(digest), message_type: 'hash', signature_algorithm: algorithm, signature: b64('junk') });
          assert.deepEqual(junk.body, { valid: false }, `${algorithm}: junk signature`);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('wrong algorithm 400, digest of the wrong length 400, bad base64 400, revoked CA cannot sign (409) but still verifies', async () => {
    const ca = (await api.call('POST', '/api/ca/v1/cas', { subject: { common_name: 'sig-rules' }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration: '1y' } })).body;
    const url = `/api/ca/v1/cas/${ca.id}/signature/sign`;
    const m = b64('x');
    for (const [body, status, code] of [
      [{ message: m, message_type: 'raw', signature_algorithm: 'RSASSA_PKCS1_V1_5_SHA_256' }, 400, 'SIGNATURE_ALGORITHM_INVALID'],
      [{ message: m, message_type: 'raw', signature_algorithm: 'MD5' }, 400, 'SIGNATURE_ALGORITHM_INVALID'],
      [{ message: m, message_type: 'hash', signature_algorithm: 'ECDSA_SHA_256' }, 400, 'SIGNATURE_DIGEST_INVALID'],
      [{ message: b64(Buffer.alloc(32)), message_type: 'hash', signature_algorithm: 'ECDSA_SHA_384' }, 400, 'SIGNATURE_DIGEST_INVALID'],
      [{ message: m, message_type: 'prehashed', signature_algorithm: 'ECDSA_SHA_256' }, 400, 'SIGNATURE_MESSAGE_TYPE_INVALID'],
      [{ message: '***', message_type: 'raw', signature_algorithm: 'ECDSA_SHA_256' }, 400, 'SIGNATURE_ENCODING_INVALID'],
    ] as const) {
      const r = await api.call('POST', url, body);
      assert.deepEqual([r.status, r.body.code], [status, code], JSON.stringify(body));
    }
    assert.equal((await api.call('POST', '/api/ca/v1/cas/ghost/signature/sign', { message: m, signature_algorithm: 'ECDSA_SHA_256' })).status, 404);
    const signed = await api.call('POST', url, { message: m, signature_algorithm: 'ECDSA_SHA_256' });
    assert.equal(signed.status, 200, 'message_type defaults to raw');
    assert.equal((await api.call('POST', `/api/ca/v1/cas/${ca.id}/status`, { status: 'REVOKED', revocation_reason: 'KeyCompromise' })).status, 200);
    const refused = await api.call('POST', url, { message: m, message_type: 'raw', signature_algorithm: 'ECDSA_SHA_256' });
    assert.deepEqual([refused.status, refused.body.code], [409, 'CA_CANNOT_SIGN']);
    const still = await api.call('POST', `/api/ca/v1/cas/${ca.id}/signature/verify`, { message: m, message_type: 'raw', signature_algorithm: 'ECDSA_SHA_256', signature: signed.body.signed_data });
    assert.deepEqual(still.body, { valid: true });
  });
});
