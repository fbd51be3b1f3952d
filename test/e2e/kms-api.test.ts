/**
 * Black-box KMS: the real `lamassu serve` (ca and kms services), curl as the client, openssl to check
 * signatures with the public key the API shows, and to verify a certificate issued by a CA made from a
 * KMS key.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { lamassuServer, startLamassu } from '../support/lamassu-process.ts';
import { needNativeAddon } from '../support/services.ts';
import { admin } from './est-server.ts';

const run = promisify(execFile);

/** Polls `probe` until it returns something (events reach the KMS shortly after the change). */
async function eventually<T>(probe: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const got = await probe();
    if (got !== undefined) return got;
    if (Date.now() > until) assert.fail('not within 10 s');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('KMS API end to end (lamassu serve, curl, openssl)', () => {
  const e2e = lamassuServer('lamassu-e2e-kms-', { LAMASSU_SERVICES: 'ca,kms' });
  const { dir } = e2e;

  const api = async (method: string, url: string, body?: unknown) => {
    const args = ['-sS', '--cacert', e2e.server.tlsCaFile, '-X', method, '-H', `Authorization: Bearer ${e2e.server.token}`, '-w', '\n%{http_code}'];
    if (body !== undefined) args.push('-H', 'content-type: application/json', '--data-binary', JSON.stringify(body));
    const { stdout } = await run('curl', [...args, `https://127.0.0.1:${e2e.server.httpsPort}/api${url}`]);
    const nl = stdout.lastIndexOf('\n');
    return { status: Number(stdout.slice(nl + 1)), json: JSON.parse(stdout.slice(0, nl) || 'null') };
  };
  const file = (name: string, data: string | Buffer) => {
    const p = path.join(dir, name);
    writeFileSync(p, data);
    return p;
  };

  it('answers its health route', async () => {
    const { stdout } = await run('curl', ['-sS', '--cacert', e2e.server.tlsCaFile, `https://127.0.0.1:${e2e.server.httpsPort}/api/kms/health`]);
    assert.equal(JSON.parse(stdout).health, true);
  });

  it('creates a key, signs with it, and openssl checks the signatures with the public key from the API', async () => {
    const created = await api('POST', '/kms/v1/keys', { algorithm: 'RSA', size: 2048, name: 'e2e-signer', tags: ['e2e'] });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const shown = await api('GET', '/kms/v1/keys/e2e-signer');
    assert.equal(shown.json.key_id, created.json.key_id);
    const pub = file('rsa.pub.pem', shown.json.public_key_pem);
    const message = Buffer.from('signed through the KMS API');
    const msgFile = file('msg.bin', message);

    const raw = await api('POST', `/kms/v1/keys/${created.json.key_id}/sign`, { algorithm: 'RSASSA_PSS_SHA_256', message: message.toString('base64'), message_type: 'raw' });
    assert.equal(raw.status, 200, JSON.stringify(raw.json));
    const rawSig = file('raw.sig', Buffer.from(raw.json.signature, 'base64'));
    const dgst = await run('openssl', ['dgst', '-sha256', '-verify', pub, '-signature', rawSig, '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:digest', msgFile]);
    assert.match(dgst.stdout, /Verified OK/);

    const digest = createHash('sha384').update(message).digest();
    const hashed = await api('POST', `/kms/v1/keys/${created.json.key_id}/sign`, { algorithm: 'RSASSA_PKCS1_V1_5_SHA_384', message: digest.toString('base64'), message_type: 'hash' });
    const hashSig = file('hash.sig', Buffer.from(hashed.json.signature, 'base64'));
    const pkeyutl = await run('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', pub, '-in', file('digest.bin', digest), '-sigfile', hashSig, '-pkeyopt', 'digest:sha384']);
    assert.match(pkeyutl.stdout, /Signature Verified Successfully/);

    const listed = await api('GET', '/kms/v1/keys?filter=tags%5Bct%5De2e');
    assert.deepEqual(listed.json.list.map((k: { key_id: string }) => k.key_id), [created.json.key_id]);
    // Export is off by default.
    const exported = await api('POST', `/kms/v1/keys/${created.json.key_id}/export`);
    assert.equal(exported.status, 403);
    assert.equal(exported.json.code, 'KMS_EXPORT_FORBIDDEN');
  });

  it('imports an openssl key, makes a CA from it, and openssl verifies a certificate that CA issues', async () => {
    const keyFile = path.join(dir, 'ca.key');
    await run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile]);
    const imported = await api('POST', '/kms/v1/keys/import', { private_key: Buffer.from(readFileSync(keyFile)).toString('base64'), name: 'e2e-ca-key' });
    assert.equal(imported.status, 201, JSON.stringify(imported.json));
    const ca = await api('POST', '/ca/v1/cas', { id: 'e2e-kms-ca', subject: { common_name: 'E2E KMS CA' }, key_metadata: { key_id: imported.json.key_id }, ca_expiration: { type: 'Duration', duration: '2y' } });
    assert.equal(ca.status, 201, JSON.stringify(ca.json));
    const caPem = file('ca.pem', Buffer.from(ca.json.certificate.certificate, 'base64'));
    // The CA certificate carries the imported key.
    const caSpki = (await run('openssl', ['x509', '-in', caPem, '-noout', '-pubkey'])).stdout;
    const keySpki = (await run('openssl', ['pkey', '-in', keyFile, '-pubout'])).stdout;
    assert.equal(caSpki, keySpki);

    const csr = path.join(dir, 'leaf.csr');
    await run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(dir, 'leaf.key'), '-out', csr, '-subj', '/CN=e2e-kms-leaf']);
    const signed = await api('POST', '/ca/v1/cas/e2e-kms-ca/certificates/sign', { csr: Buffer.from(readFileSync(csr)).toString('base64') });
    assert.equal(signed.status, 201, JSON.stringify(signed.json));
    const leaf = file('leaf.pem', Buffer.from(signed.json.certificate, 'base64'));
    const verified = await run('openssl', ['verify', '-x509_strict', '-CAfile', caPem, leaf]);
    assert.match(verified.stdout, /leaf\.pem: OK/);

    const refused = await api('DELETE', `/kms/v1/keys/${imported.json.key_id}`);
    assert.equal(refused.status, 409);
    assert.equal(refused.json.code, 'KMS_KEY_IN_USE');
    // The KMS hears of the CA (ca.create) and lists it as bound to the key.
    const bound = await eventually(async () => {
      const k = await api('GET', `/kms/v1/keys/${imported.json.key_id}`);
      return (k.json.metadata['lamassu.io/kms/binded-resources']?.cas ?? []).includes('e2e-kms-ca') ? k : undefined;
    });
    assert.equal(bound.json.origin, 'imported');
  });

  it('lists the key of a CA created with type and bits as a KMS key bound to that CA', async () => {
    const ca = await api('POST', '/ca/v1/cas', { id: 'e2e-plain-ca', subject: { common_name: 'E2E plain CA' }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration: '1y' } });
    assert.equal(ca.status, 201, JSON.stringify(ca.json));
    const key = await eventually(async () => {
      const list = await api('GET', '/kms/v1/keys?filter=algorithm%5Beq%5DECDSA&page_size=100');
      return list.json.list.find((k: { metadata: Record<string, { cas?: string[] }> }) => k.metadata['lamassu.io/kms/binded-resources']?.cas?.includes('e2e-plain-ca'));
    });
    assert.equal(key.origin, 'ca');
    const caPem = file('plain-ca.pem', Buffer.from(ca.json.certificate.certificate, 'base64'));
    assert.equal((await run('openssl', ['x509', '-in', caPem, '-noout', '-pubkey'])).stdout, key.public_key_pem);
  });
});

/**
 * A digest (`message_type: hash`) signed with a software ECDSA key, for every curve: through OpenSSL in
 * native/ec-sign-digest, and with LAMASSU_NATIVE_CRYPTO=off in blinded JavaScript; openssl verifies both,
 * and only the server without the addon says so in its start-up log.
 */
describe('KMS: ECDSA over a digest, native and JavaScript (lamassu serve, openssl)', () => {
  const WARNING = 'native ECDSA digest signer not in use';
  for (const route of ['native', 'JavaScript'] as const) {
    it(`openssl verifies digest signatures of P-256, P-384 and P-521 keys (${route})`, async (t) => {
      if (route === 'native' && !(await needNativeAddon(t, 'ec-sign-digest'))) return;
      const server = await startLamassu({ LAMASSU_SERVICES: 'kms', ...(route === 'native' ? {} : { LAMASSU_NATIVE_CRYPTO: 'off' }) });
      try {
        const api = (method: string, url: string, body?: unknown) => admin(server, method, `/api${url}`, body);
        for (const [bits, hash] of [[256, 'sha256'], [384, 'sha384'], [521, 'sha512']] as const) {
          const created = await api('POST', '/kms/v1/keys', { algorithm: 'ECDSA', size: bits, name: `digest-${bits}` });
          assert.equal(created.status, 201, JSON.stringify(created.json));
          const pub = path.join(server.dataDir, `ec${bits}.pub.pem`);
          writeFileSync(pub, (await api('GET', `/kms/v1/keys/digest-${bits}`)).json.public_key_pem);
          const message = Buffer.from(`digest signed by a P-${bits} key`);
          const digest = createHash(hash).update(message).digest();
          const signed = await api('POST', `/kms/v1/keys/${created.json.key_id}/sign`, { algorithm: `ECDSA_SHA_${hash.slice(3)}`, message: digest.toString('base64'), message_type: 'hash' });
          assert.equal(signed.status, 200, JSON.stringify(signed.json));
          const sigFile = path.join(server.dataDir, `ec${bits}.sig`);
          const msgFile = path.join(server.dataDir, `ec${bits}.msg`);
          writeFileSync(sigFile, Buffer.from(signed.json.signature, 'base64'));
          writeFileSync(msgFile, message);
          const dgst = await run('openssl', ['dgst', `-${hash}`, '-verify', pub, '-signature', sigFile, msgFile]);
          assert.match(dgst.stdout, /Verified OK/, `P-${bits}`);
        }
        assert.equal(server.output().includes(WARNING), route === 'JavaScript', `start-up warning (${route})`);
      } finally {
        await server.stop();
      }
    });
  }
});
