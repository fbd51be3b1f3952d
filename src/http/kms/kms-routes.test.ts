/**
 * The KMS API on both databases: keys made, imported, listed, shown, used to sign (raw messages and
 * digests) and deleted, signatures checked by openssl with the public key the API shows, a CA made from a
 * KMS key, RBAC, and the 4xx codes of bad input.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, createPublicKey, getRandomValues, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, it } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { pino } from 'pino';
import type { Config } from '../../config/config-schema.ts';
import { ManualClock } from '../../domain/ports/clock.ts';
import { silentLogger } from '../../domain/ports/logger.ts';
import { FilesystemKeyEngine } from '../../engines/crypto/filesystem/filesystem-key-engine.ts';
import { MemoryKeyEngine } from '../../engines/crypto/memory/memory-key-engine.ts';
import { KeyEngineSet } from '../../engines/crypto/registry.ts';
import { RecordingBus, opensslVerify } from '../../../test/support/ca-service-fixture.ts';
import { opensslCsr } from '../../../test/support/csr-fixture.ts';
import { forEachStorage } from '../../../test/support/storage.ts';
import { fromPem, toPem } from '../../x509/pem.ts';
import { hashToken } from '../auth/admin-token.ts';
import { buildHttpsApp } from '../build-https-app.ts';
import { caServicePlugin } from '../ca/ca-plugin.ts';
import { HttpMetrics } from '../metrics.ts';
import { kmsServicePlugin } from './kms-plugin.ts';

const b64 = (b: Uint8Array | string) => Buffer.from(b).toString('base64');
const HASH: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };

forEachStorage('KMS REST API /api/kms/v1', (ctx) => {
  let dir: string;
  let app: FastifyInstance;
  let closeEngines: () => Promise<void>;
  const admin = 'A'.repeat(43);
  const viewer = 'V'.repeat(43);

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'lamassu-kms-http-'));
    const now = new Date();
    await ctx.storage.adminTokens.insert({ id: 'a', tokenHash: hashToken(admin), subject: 'alice', role: 'pki-admin', createdAt: now });
    await ctx.storage.adminTokens.insert({ id: 'v', tokenHash: hashToken(viewer), subject: 'victor', role: 'pki-viewer', createdAt: now });
    const files = await FilesystemKeyEngine.open({ id: 'files', directory: path.join(dir, 'keys') });
    const keyEngines = KeyEngineSet.of([new MemoryKeyEngine({ id: 'memory' }), files]);
    closeEngines = () => keyEngines.closeAll();
    const deps = {
      config: { vaBaseUrls: ['http://va.test'], kmsAllowKeyExport: true } as Config,
      storage: ctx.storage,
      keyEngines,
      events: new RecordingBus(),
      clock: new ManualClock(Date.now()),
      random: { uuid: () => randomUUID(), bytes: (n: number) => getRandomValues(new Uint8Array(n)) },
      logger: silentLogger,
    };
    const services = [await caServicePlugin()(deps), await kmsServicePlugin(deps)];
    app = await buildHttpsApp({ logger: pino({ level: 'silent' }), metrics: new HttpMetrics(), auth: { adminTokens: ctx.storage.adminTokens }, services, version: 'test' });
  });
  after(async () => {
    await app?.close();
    await closeEngines?.();
    rmSync(dir, { recursive: true, force: true });
  });

  const call = async (method: InjectOptions['method'], url: string, body?: unknown, token = admin) => {
    const res = await app.inject({ method, url: `/api/kms/v1${url}`, headers: { authorization: `Bearer ${token}` }, ...(body === undefined ? {} : { payload: body as object }) });
    return { status: res.statusCode, json: res.body ? (JSON.parse(res.body) as any) : undefined };
  };
  const ca = async (method: InjectOptions['method'], url: string, body?: unknown) => {
    const res = await app.inject({ method, url: `/api/ca/v1${url}`, headers: { authorization: `Bearer ${admin}` }, ...(body === undefined ? {} : { payload: body as object }) });
    return { status: res.statusCode, json: JSON.parse(res.body) as any };
  };
  const file = (name: string, data: string | Uint8Array) => {
    const p = path.join(dir, name);
    writeFileSync(p, data);
    return p;
  };

  /** openssl checks a signature from the API with the public key from the API. */
  function opensslChecks(publicKeyPem: string, algorithm: string, message: Buffer, signature: string, digest: boolean): boolean {
    const pub = file('pub.pem', publicKeyPem);
    const sig = file('sig.bin', Buffer.from(signature, 'base64'));
    const bits = /SHA_(\d+)$/.exec(algorithm)?.[1];
    const pss = algorithm.startsWith('RSASSA_PSS') ? ['-pkeyopt', 'rsa_padding_mode:pss', '-pkeyopt', 'rsa_pss_saltlen:digest'] : [];
    try {
      if (algorithm === 'ED25519') {
        execFileSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', pub, '-rawin', '-in', file('msg.bin', message), '-sigfile', sig], { stdio: 'pipe' });
      } else if (digest) {
        const md = file('digest.bin', createHash(HASH[bits!]).update(message).digest());
        execFileSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', pub, '-in', md, '-sigfile', sig, '-pkeyopt', `digest:${HASH[bits!]}`, ...pss], { stdio: 'pipe' });
      } else {
        const sigopts = pss.map((o) => (o === '-pkeyopt' ? '-sigopt' : o));
        execFileSync('openssl', ['dgst', `-${HASH[bits!]}`, '-verify', pub, '-signature', sig, ...sigopts, file('msg.bin', message)], { stdio: 'pipe' });
      }
      return true;
    } catch {
      return false;
    }
  }

  const keys: Record<string, any> = {};

  it('creates keys of each type in the default and a named engine, and shows their public keys', async () => {
    for (const [name, algorithm, size, engine] of [
      ['ec', 'ECDSA', 256, undefined],
      ['ec384', 'ECDSA', 384, 'files'],
      ['rsa', 'RSA', 2048, 'files'],
      ['ed', 'ED25519', 256, undefined],
    ] as const) {
      const res = await call('POST', '/keys', { algorithm, size, ...(engine ? { engine_id: engine } : {}), name: `key-${name}`, tags: ['t1', name], metadata: { owner: name } });
      assert.equal(res.status, 201, JSON.stringify(res.json));
      const k = res.json;
      assert.match(k.key_id, /^[0-9a-f]{64}$/);
      assert.equal(k.engine_id, engine ?? 'memory');
      assert.equal(k.algorithm, algorithm);
      assert.equal(k.size, size);
      assert.equal(k.has_private_key, true);
      assert.equal(k.pkcs11_uri, `pkcs11:token-id=${k.engine_id};id=${k.key_id};type=private`);
      // The id is the SHA-256 of the DER public key; public_key is base64 of the same PEM.
      const spki = createPublicKey(k.public_key_pem).export({ format: 'der', type: 'spki' });
      assert.equal(createHash('sha256').update(spki).digest('hex'), k.key_id);
      assert.equal(Buffer.from(k.public_key, 'base64').toString(), k.public_key_pem);
      keys[name] = k;
    }
    const shown = await call('GET', `/keys/${keys.ec.key_id}`);
    assert.deepEqual(shown.json, keys.ec);
    for (const ref of ['key-ec', encodeURIComponent(keys.ec.pkcs11_uri)]) assert.equal((await call('GET', `/keys/${ref}`)).json.key_id, keys.ec.key_id);
    // Nothing of a private key in the record.
    const stored = await ctx.storage.kmsKeys.get(keys.rsa.key_id);
    assert.ok(stored && !JSON.stringify(stored).includes('PRIVATE'));
  });

  it('lists keys in pages, filtered and sorted, and counts them', async () => {
    const first = await call('GET', '/keys?page_size=3');
    assert.equal(first.json.list.length, 3);
    assert.notEqual(first.json.next, '');
    const second = await call('GET', `/keys?page_size=3&bookmark=${first.json.next}`);
    assert.equal(second.json.next, '');
    const all = [...first.json.list, ...second.json.list].map((k: any) => k.key_id);
    assert.equal(new Set(all).size, all.length);
    assert.ok(all.length >= 4);
    const rsa = await call('GET', '/keys?filter=algorithm[eq]RSA');
    assert.deepEqual(rsa.json.list.map((k: any) => k.key_id), [keys.rsa.key_id]);
    const files = await call('GET', '/keys?filter=engine_id[eq]files&filter=size[ge]384&sort_by=name&sort_mode=desc');
    assert.deepEqual(files.json.list.map((k: any) => k.name), ['key-rsa', 'key-ec384']);
    const tagged = await call('GET', '/keys?filter=tags[ct]ed');
    assert.deepEqual(tagged.json.list.map((k: any) => k.key_id), [keys.ed.key_id]);
    assert.equal((await call('GET', '/keys?filter=colour[eq]red')).json.code, 'FILTER_FIELD_UNKNOWN');
    const stats = await call('GET', '/stats');
    assert.equal(stats.json.keys_distribution_per_engine.files, 2);
    const ecdsa = (await call('GET', '/keys?filter=algorithm[eq]ECDSA')).json.list;
    assert.equal(stats.json.keys_distribution_per_algorithm.ECDSA, ecdsa.length);
    // The internal CA's key was recorded at start (the KMS backfills CA keys), bound to its CA.
    const internal = ecdsa.find((k: any) => k.origin === 'ca');
    assert.deepEqual(internal?.metadata['lamassu.io/kms/binded-resources'], { cas: ['LAMASSU-DMS-MANAGER'] });
    const engines = await call('GET', '/engines');
    assert.deepEqual(engines.json.map((e: any) => [e.id, e.default]), [['memory', true], ['files', false]]);
  });

  it('signs raw messages and digests with every algorithm; openssl and /verify accept them, and refuse a changed message', async () => {
    const message = Buffer.from('a message for the KMS');
    const cases: [string, string][] = [
      ['ec', 'ECDSA_SHA_256'], ['ec', 'ECDSA_SHA_512'], ['ec384', 'ECDSA_SHA_384'],
      ['rsa', 'RSASSA_PKCS1_V1_5_SHA_256'], ['rsa', 'RSASSA_PKCS1_V1_5_SHA_384'], ['rsa', 'RSASSA_PSS_SHA_256'], ['rsa', 'RSASSA_PSS_SHA_512'],
    ];
    for (const [name, algorithm] of cases) {
      for (const digest of [false, true]) {
        const bits = /SHA_(\d+)$/.exec(algorithm)![1]!;
        const payload = digest ? createHash(HASH[bits]).update(message).digest() : message;
        const body = { algorithm, message: b64(payload), message_type: digest ? 'hash' : 'raw' };
        const signed = await call('POST', `/keys/${keys[name].key_id}/sign`, body);
        assert.equal(signed.status, 200, JSON.stringify(signed.json));
        assert.ok(opensslChecks(keys[name].public_key_pem, algorithm, message, signed.json.signature, digest), `${algorithm} ${digest ? 'hash' : 'raw'}`);
        const ok = await call('POST', `/keys/${keys[name].key_id}/verify`, { ...body, signature: signed.json.signature }, viewer);
        assert.deepEqual(ok.json, { valid: true });
        // A raw signature is one over the digest too, and the other way round.
        const other = digest ? { ...body, message: b64(message), message_type: 'raw' } : { ...body, message: b64(createHash(HASH[bits]).update(message).digest()), message_type: 'hash' };
        assert.deepEqual((await call('POST', `/keys/${keys[name].key_id}/verify`, { ...other, signature: signed.json.signature })).json, { valid: true });
        const changed = Buffer.from(payload);
        changed[0] ^= 1;
        assert.deepEqual((await call('POST', `/keys/${keys[name].key_id}/verify`, { ...body, message: b64(changed), signature: signed.json.signature })).json, { valid: false });
      }
    }
    const ed = await call('POST', `/keys/${keys.ed.key_id}/sign`, { algorithm: 'ED25519', message: b64(message) });
    assert.ok(opensslChecks(keys.ed.public_key_pem, 'ED25519', message, ed.json.signature, false));
  });

  it('imports an openssl PKCS#8 key (base64 of the PEM, or the PEM), once', async () => {
    const keyFile = path.join(dir, 'imported.key');
    execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384', '-out', keyFile]);
    const pem = readFileSync(keyFile, 'utf8');
    const res = await call('POST', '/keys/import', { private_key: b64(pem), engine_id: 'files', name: 'imported', aliases: ['legacy-signer'] });
    assert.equal(res.status, 201, JSON.stringify(res.json));
    const spki = execFileSync('openssl', ['pkey', '-in', keyFile, '-pubout', '-outform', 'DER']);
    assert.equal(res.json.key_id, createHash('sha256').update(spki).digest('hex'));
    assert.equal(res.json.origin, 'imported');
    assert.equal((await call('GET', '/keys/legacy-signer')).json.key_id, res.json.key_id);
    const again = await call('POST', '/keys/import', { private_key: pem, engine_id: 'memory' });
    assert.equal(again.status, 409);
    assert.equal(again.json.code, 'KMS_KEY_EXISTS');
    keys.imported = res.json;
  });

  it('exports a filesystem key only (export allowed on this server)', async () => {
    const out = await call('POST', `/keys/${keys.imported.key_id}/export`);
    assert.equal(out.status, 200, JSON.stringify(out.json));
    const pem = Buffer.from(out.json.private_key, 'base64').toString();
    const spki = execFileSync('openssl', ['pkey', '-pubout', '-outform', 'DER'], { input: pem });
    assert.equal(createHash('sha256').update(spki).digest('hex'), keys.imported.key_id);
    assert.equal((await call('POST', `/keys/${keys.imported.key_id}/export`, undefined, viewer)).status, 403);
  });

  it('makes a CA from a KMS key; its certificates verify with openssl; the key cannot be deleted while the CA uses it', async () => {
    const created = await ca('POST', '/cas', { id: `kms-ca-${ctx.kind}`, subject: { common_name: 'KMS CA' }, key_metadata: { key_id: keys.ec384.key_id }, ca_expiration: { type: 'Duration', duration: '1y' } });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    assert.equal(created.json.engine_id, 'files');
    const caPem = Buffer.from(created.json.certificate.certificate, 'base64').toString();
    const caSpki = createPublicKey(caPem).export({ format: 'der', type: 'spki' });
    assert.equal(createHash('sha256').update(caSpki).digest('hex'), keys.ec384.key_id);
    const csr = b64(toPem(opensslCsr({ key: 'p256', subj: '/CN=kms-leaf' }), 'CERTIFICATE REQUEST'));
    const leaf = await ca('POST', `/cas/${created.json.id}/certificates/sign`, { csr });
    assert.equal(leaf.status, 201, JSON.stringify(leaf.json));
    const der = (field: string) => fromPem(Buffer.from(field, 'base64').toString(), 'CERTIFICATE')!;
    assert.match(opensslVerify(der(created.json.certificate.certificate), [], der(leaf.json.certificate)), /OK/);

    const mismatch = await ca('POST', '/cas', { subject: { common_name: 'x' }, key_metadata: { key_id: keys.ec384.key_id, type: 'RSA', bits: 2048 }, ca_expiration: { type: 'Duration', duration: '1y' } });
    assert.equal(mismatch.json.code, 'KEY_METADATA_INVALID');
    const missing = await ca('POST', '/cas', { subject: { common_name: 'x' }, key_metadata: { key_id: 'f'.repeat(64) }, ca_expiration: { type: 'Duration', duration: '1y' } });
    assert.equal(missing.status, 404);
    assert.equal(missing.json.code, 'KEY_NOT_FOUND');
    const neither = await ca('POST', '/cas', { subject: { common_name: 'x' }, key_metadata: {}, ca_expiration: { type: 'Duration', duration: '1y' } });
    assert.equal(neither.json.code, 'KEY_METADATA_INVALID');

    const del = await call('DELETE', `/keys/${keys.ec384.key_id}`);
    assert.equal(del.status, 409);
    assert.equal(del.json.code, 'KMS_KEY_IN_USE');
  });

  it("changes a key's name, tags, aliases and metadata (Lamassu's label routes), and nothing else", async () => {
    const id = keys.ed.key_id;
    assert.equal((await call('PUT', `/keys/${id}/name`, { name: 'renamed-ed' })).json.name, 'renamed-ed');
    assert.equal((await call('GET', '/keys/renamed-ed')).json.key_id, id);
    assert.deepEqual((await call('PUT', `/keys/${id}/tags`, { tags: ['x', 'y', 'x'] })).json.tags, ['x', 'y']);
    assert.deepEqual((await call('PUT', `/keys/${id}/alias`, { aliases: ['ed-alias'] })).json.aliases, ['ed-alias']);
    assert.equal((await call('GET', '/keys/ed-alias')).json.key_id, id);
    const patched = await call('PATCH', `/keys/${id}/metadata`, { patches: [{ op: 'add', path: '/team', value: 'ops' }] });
    assert.deepEqual(patched.json.metadata, { owner: 'ed', team: 'ops' });
    const replaced = await call('PUT', `/keys/${id}/metadata`, { only: true });
    assert.deepEqual(replaced.json.metadata, { only: true });
    assert.equal(replaced.json.public_key_pem, keys.ed.public_key_pem);
    const bad = await call('PUT', `/keys/${id}/alias`, { aliases: ['0'.repeat(64)] });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.code, 'KMS_KEY_LABEL_INVALID');
    assert.equal((await call('PUT', `/keys/${id}/name`, { name: 'x' }, viewer)).status, 403);
    assert.equal((await call('PUT', `/keys/${'0'.repeat(64)}/tags`, { tags: [] })).json.code, 'KMS_KEY_NOT_FOUND');
  });

  it('lets a pki-viewer read and verify but not create, sign, import or delete', async () => {
    assert.equal((await call('GET', '/keys', undefined, viewer)).status, 200);
    assert.equal((await call('GET', `/keys/${keys.ec.key_id}`, undefined, viewer)).status, 200);
    for (const [method, url, body] of [
      ['POST', '/keys', { algorithm: 'ECDSA', size: 256 }],
      ['POST', '/keys/import', { private_key: 'x' }],
      ['POST', `/keys/${keys.ec.key_id}/sign`, { algorithm: 'ECDSA_SHA_256', message: 'aGk=' }],
      ['DELETE', `/keys/${keys.ec.key_id}`, undefined],
    ] as const) {
      const res = await call(method, url, body, viewer);
      assert.equal(res.status, 403, `${method} ${url}`);
      assert.equal(res.json.code, 'AUTH_FORBIDDEN');
    }
    assert.equal((await app.inject({ method: 'GET', url: '/api/kms/v1/keys' })).statusCode, 401);
  });

  it('answers bad input with 4xx and stable codes', async () => {
    const id = keys.ec.key_id;
    const cases: [InjectOptions['method'], string, unknown, number, string][] = [
      ['POST', '/keys', { algorithm: 'DSA', size: 2048 }, 400, 'KMS_KEY_SPEC_INVALID'],
      ['POST', '/keys', { algorithm: 'RSA', size: 1024 }, 400, 'KMS_KEY_SPEC_INVALID'],
      ['POST', '/keys', { algorithm: 'ECDSA', size: 256, engine_id: 'nope' }, 404, 'KEY_ENGINE_NOT_FOUND'],
      ['POST', '/keys', { algorithm: 'ECDSA', size: 256, name: 'a'.repeat(64).replace(/a/g, 'b') }, 400, 'KMS_KEY_LABEL_INVALID'],
      ['POST', '/keys', { algorithm: 'ECDSA', size: '256' }, 400, 'VALIDATION_FAILED'],
      ['POST', '/keys/import', { private_key: '%%%' }, 400, 'KMS_ENCODING_INVALID'],
      ['POST', '/keys/import', { private_key: b64('not a pem') }, 400, 'KMS_PRIVATE_KEY_INVALID'],
      ['POST', '/keys/import', { private_key: toPem(new Uint8Array([1, 2, 3]), 'PRIVATE KEY') }, 400, 'KEY_INVALID'],
      ['POST', '/keys/import', { private_key: execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024']).toString() }, 400, 'KMS_KEY_SPEC_INVALID'],
      ['GET', `/keys/${'0'.repeat(64)}`, undefined, 404, 'KMS_KEY_NOT_FOUND'],
      ['GET', '/keys/no-such-name', undefined, 404, 'KMS_KEY_NOT_FOUND'],
      ['POST', `/keys/${id}/sign`, { algorithm: 'RSASSA_PSS_SHA_256', message: 'aGk=' }, 400, 'KMS_SIGN_ALGORITHM_INVALID'],
      ['POST', `/keys/${id}/sign`, { algorithm: 'ECDSA_SHA_256', message: 'aGk=', message_type: 'digest' }, 400, 'KMS_MESSAGE_TYPE_INVALID'],
      ['POST', `/keys/${id}/sign`, { algorithm: 'ECDSA_SHA_256', message: 'aGk=', message_type: 'hash' }, 400, 'KMS_DIGEST_LENGTH_INVALID'],
      ['POST', `/keys/${id}/sign`, { algorithm: 'ECDSA_SHA_256', message: 'not base64!' }, 400, 'KMS_ENCODING_INVALID'],
      ['POST', `/keys/${keys.ed.key_id}/sign`, { algorithm: 'ED25519', message: b64(new Uint8Array(32)), message_type: 'hash' }, 400, 'KMS_MESSAGE_TYPE_INVALID'],
      ['POST', `/keys/${id}/verify`, { algorithm: 'ECDSA_SHA_256', message: 'aGk=', signature: '***' }, 400, 'KMS_ENCODING_INVALID'],
      ['POST', `/keys/${id}/export`, undefined, 403, 'KMS_EXPORT_FORBIDDEN'],
      ['DELETE', `/keys/${'0'.repeat(64)}`, undefined, 404, 'KMS_KEY_NOT_FOUND'],
    ];
    for (const [method, url, body, status, code] of cases) {
      const res = await call(method, url, body);
      assert.equal(res.status, status, `${method} ${url} ${String(JSON.stringify(body)).slice(0, 60)}: ${JSON.stringify(res.json)}`);
      assert.equal(res.json.code, code, `${method} ${url}`);
    }
  });

  it('deletes a key from its engine and the KMS', async () => {
    const del = await call('DELETE', `/keys/${keys.rsa.key_id}`);
    assert.equal(del.status, 204);
    assert.equal((await call('GET', `/keys/${keys.rsa.key_id}`)).status, 404);
    assert.equal(existsInDir(path.join(dir, 'keys'), keys.rsa.key_id), false);
  });
});

function existsInDir(directory: string, keyId: string): boolean {
  try {
    readFileSync(path.join(directory, `${keyId}.pem`));
    return true;
  } catch {
    return false;
  }
}
