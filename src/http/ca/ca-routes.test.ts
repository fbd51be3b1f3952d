import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, getRandomValues, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { pino } from 'pino';
import type { Config } from '../../config/config-schema.ts';
import { ManualClock } from '../../domain/ports/clock.ts';
import { silentLogger } from '../../domain/ports/logger.ts';
import type { Storage } from '../../domain/ports/storage.ts';
import { MemoryKeyEngine } from '../../engines/crypto/memory/memory-key-engine.ts';
import { KeyEngineSet } from '../../engines/crypto/registry.ts';
import { SoftwareServerKeyGenerator } from '../../engines/dms/software-server-key-generator.ts';
import { createStorage } from '../../engines/storage/create-storage.ts';
import { RecordingBus, opensslText, opensslVerify } from '../../../test/support/ca-service-fixture.ts';
import { parseCertificate } from '../../x509/certificate.ts';
import { opensslCsr } from '../../../test/support/csr-fixture.ts';
import { fromPem, fromPemAll, toPem } from '../../x509/pem.ts';
import { hashToken } from '../auth/admin-token.ts';
import { buildHttpApp } from '../build-http-app.ts';
import { buildHttpsApp } from '../build-https-app.ts';
import { HttpMetrics } from '../metrics.ts';
import { caServicePlugin } from './ca-plugin.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const csrB64 = (cn: string, key: Parameters<typeof opensslCsr>[0]['key'] = 'p256') =>
  b64(toPem(opensslCsr({ key, subj: `/CN=${cn}` }), 'CERTIFICATE REQUEST'));
const certDer = (field: string) => fromPem(Buffer.from(field, 'base64').toString('latin1'), 'CERTIFICATE')!;

describe('CA REST API /api/ca/v1', () => {
  let dir: string;
  let storage: Storage;
  let app: FastifyInstance;
  let plain: FastifyInstance;
  const events = new RecordingBus();
  const admin = 'A'.repeat(43);
  const viewer = 'V'.repeat(43);

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'lamassu-ca-http-'));
    storage = await createStorage({ kind: 'sqlite', file: path.join(dir, 'db.sqlite') });
    const now = new Date();
    await storage.adminTokens.insert({ id: 'a', tokenHash: hashToken(admin), subject: 'alice', role: 'pki-admin', createdAt: now });
    await storage.adminTokens.insert({ id: 'v', tokenHash: hashToken(viewer), subject: 'victor', role: 'pki-viewer', createdAt: now });
    const deps = {
      config: { vaBaseUrls: ['http://va.test'] } as Config,
      storage,
      keyEngines: KeyEngineSet.of([new MemoryKeyEngine({ id: 'memory' }), new MemoryKeyEngine({ id: 'second' })]),
      events,
      clock: new ManualClock(Date.now()),
      random: { uuid: () => randomUUID(), bytes: (n: number) => getRandomValues(new Uint8Array(n)) },
      logger: silentLogger,
    };
    const ca = await caServicePlugin({ keyGenerator: new SoftwareServerKeyGenerator() })(deps);
    app = await buildHttpsApp({ logger: pino({ level: 'silent' }), metrics: new HttpMetrics(), auth: { adminTokens: storage.adminTokens }, services: [ca], version: 'test' });
    plain = await buildHttpApp({ logger: pino({ level: 'silent' }), metrics: new HttpMetrics(), health: { database: () => storage.ping(), keyEngines: [] }, services: [ca] });
  });
  after(async () => {
    await app?.close();
    await plain?.close();
    await storage?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const call = async (method: InjectOptions['method'], url: string, payload?: unknown, token = admin, headers: Record<string, string> = {}) => {
    const res = await app.inject({ method, url: `/api/ca/v1${url}`, headers: { authorization: `Bearer ${token}`, ...headers }, ...(payload === undefined ? {} : { payload: payload as object }) });
    return { status: res.statusCode, body: String(res.headers['content-type'] ?? '').includes('json') ? res.json() : undefined, res };
  };
  const createCa = async (cn: string, extra: Record<string, unknown> = {}) => {
    const r = await call('POST', '/cas', { subject: { common_name: cn }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration: '5y' }, ...extra });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body;
  };

  it('creates LAMASSU-DMS-MANAGER at start, internal', async () => {
    const r = await call('GET', '/cas/LAMASSU-DMS-MANAGER');
    assert.equal(r.status, 200);
    assert.equal(r.body.internal, true);
    assert.equal(r.body.level, 0);
    const sign = await call('POST', '/cas/LAMASSU-DMS-MANAGER/certificates/sign', { csr: csrB64('x') });
    assert.equal(sign.status, 403);
    assert.equal(sign.body.code, 'CA_INTERNAL');
  });

  it('root -> sub -> leaf over the API; certificate and chain endpoints in PEM and DER; openssl verifies', async () => {
    const root = await createCa('API Root', { id: 'api-root', engine_id: 'second' });
    assert.equal(root.id, 'api-root');
    assert.equal(root.engine_id, 'second');
    assert.equal(root.certificate.status, 'ACTIVE');
    assert.deepEqual(root.certificate.key_metadata, { type: 'ECDSA', bits: 256, strength: 'HIGH' });
    const sub = await createCa('API Sub', { parent_id: root.id, about_to_expire: '60d' });
    assert.equal(sub.engine_id, 'memory');
    assert.equal(sub.about_to_expire, '8w4d');
    assert.equal(sub.parent_id, 'api-root');

    const signed = await call('POST', `/cas/${sub.id}/certificates/sign`, { csr: csrB64('api-device'), metadata: { line: 3 } });
    assert.equal(signed.status, 201, JSON.stringify(signed.body));
    const leaf = signed.body;
    assert.match(leaf.serial_number, /^[0-9a-f]+$/);
    assert.equal(leaf.status, 'ACTIVE');
    assert.equal(leaf.issuer_metadata.id, sub.id);
    assert.equal(leaf.subject.common_name, 'api-device');
    assert.deepEqual(leaf.metadata, { line: 3 });
    assert.equal(new Date(leaf.valid_to).getTime() - new Date(leaf.about_to_expire_from).getTime(), 60 * 86_400_000);
    assert.equal(parseCertificate(certDer(leaf.certificate)).serialNumber.replace(/^0+/, ''), leaf.serial_number);

    const pem = await call('GET', `/cas/${root.id}/certificate`);
    assert.equal(pem.res.headers['content-type'], 'application/x-pem-file');
    const der = await call('GET', `/cas/${sub.id}/certificate`, undefined, viewer, { accept: 'application/pkix-cert' });
    assert.equal(der.res.headers['content-type'], 'application/pkix-cert');
    const rootDer = fromPem(pem.res.body, 'CERTIFICATE')!;
    assert.match(opensslVerify(rootDer, [new Uint8Array(der.res.rawPayload)], certDer(leaf.certificate)), /OK/);
    // The caIssuers URL in the leaf answers without credentials on the plain-HTTP listener, in DER.
    const caIssuers = /CA Issuers - URI:http:\/\/va\.test(\S+)/.exec(opensslText(certDer(leaf.certificate)))![1]!;
    assert.equal(caIssuers, `/api/ca/v1/cas/${sub.id}/certificate`);
    const fetched = await plain.inject({ url: caIssuers });
    assert.equal(fetched.statusCode, 200);
    assert.equal(fetched.headers['content-type'], 'application/pkix-cert');
    assert.deepEqual(new Uint8Array(fetched.rawPayload), new Uint8Array(der.res.rawPayload));
    assert.equal((await plain.inject({ url: '/api/ca/v1/cas/nope/certificate' })).statusCode, 404);
    assert.equal((await plain.inject({ url: '/api/ca/v1/cas' })).statusCode, 404, 'only CA certificates are public');
    const chain = await call('GET', `/cas/${sub.id}/chain`);
    assert.equal(fromPemAll(chain.res.body).length, 2);

    const got = await call('GET', `/certificates/${leaf.serial_number}`, undefined, viewer);
    assert.equal(got.status, 200);
    assert.equal(got.body.certificate, leaf.certificate);
    const listed = await call('GET', `/cas/${sub.id}/certificates?status=ACTIVE`);
    assert.equal(listed.body.list.length, 1);
    assert.ok(events.ofType('certificate.create').some((e) => e.actor === 'alice'));
  });

  it('lists CAs with filters and bookmark pagination', async () => {
    for (const cn of ['page-a', 'page-b', 'page-c']) await createCa(cn);
    const seen: string[] = [];
    let url = '/cas?common_name=page-*&sort_by=common_name&sort_mode=desc&page_size=2';
    for (;;) {
      const r = await call('GET', url);
      assert.equal(r.status, 200);
      seen.push(...r.body.list.map((c: { certificate: { subject: { common_name: string } } }) => c.certificate.subject.common_name));
      if (!r.body.next) break;
      url = `/cas?common_name=page-*&sort_by=common_name&sort_mode=desc&page_size=2&bookmark=${encodeURIComponent(r.body.next)}`;
    }
    assert.deepEqual(seen, ['page-c', 'page-b', 'page-a']);
    const bad = await call('GET', '/cas?bookmark=zzz');
    assert.equal(bad.body.code, 'BOOKMARK_INVALID');
    assert.equal((await call('GET', '/cas?status=NOPE')).body.code, 'STATUS_INVALID');
  });

  it('hold, release, final revocation and illegal transitions; CA revocation cascades', async () => {
    const ca = await createCa('Revoker');
    const leaf = (await call('POST', `/cas/${ca.id}/certificates/sign`, { csr: csrB64('to-revoke') })).body;
    const put = (status: string, revocation_reason?: string) =>
      call('PUT', `/certificates/${leaf.serial_number}/status`, { status, ...(revocation_reason ? { revocation_reason } : {}) });
    assert.equal((await put('REVOKED', 'CertificateHold')).body.status, 'REVOKED');
    assert.equal((await put('ACTIVE')).body.status, 'ACTIVE');
    const final = await put('REVOKED', 'KeyCompromise');
    assert.equal(final.body.revocation_reason, 'KeyCompromise');
    const again = await put('ACTIVE');
    assert.equal(again.status, 409);
    assert.equal(again.body.code, 'CERTIFICATE_ILLEGAL_TRANSITION');
    assert.equal((await put('EXPIRED')).body.code, 'CERTIFICATE_ILLEGAL_TRANSITION');
    assert.equal((await put('REVOKED', 'Bogus')).status, 400);

    const other = (await call('POST', `/cas/${ca.id}/certificates/sign`, { csr: csrB64('cascaded') })).body;
    const revoked = await call('POST', `/cas/${ca.id}/status`, { status: 'REVOKED', revocation_reason: 'CACompromise' });
    assert.equal(revoked.status, 200);
    assert.equal(revoked.body.certificate.revocation_reason, 'CACompromise');
    assert.equal((await call('GET', `/certificates/${other.serial_number}`)).body.revocation_reason, 'CessationOfOperation');
    const refused = await call('POST', `/cas/${ca.id}/certificates/sign`, { csr: csrB64('late') });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.code, 'CA_CANNOT_SIGN');
  });

  it('RemoveFromCRL is no revocation reason: 400 REVOCATION_REASON_NOT_ALLOWED for certificates and CAs, nothing changes', async () => {
    const ca = await createCa('No Remove');
    const leaf = (await call('POST', `/cas/${ca.id}/certificates/sign`, { csr: csrB64('not-removed') })).body;
    const putLeaf = (body: object) => call('PUT', `/certificates/${leaf.serial_number}/status`, body);
    const refused = await putLeaf({ status: 'REVOKED', revocation_reason: 'RemoveFromCRL' });
    assert.deepEqual([refused.status, refused.body.code], [400, 'REVOCATION_REASON_NOT_ALLOWED']);
    assert.match(refused.body.message, /hold/);
    assert.equal((await call('GET', `/certificates/${leaf.serial_number}`)).body.status, 'ACTIVE');
    // On hold, neither: RemoveFromCRL cannot make a hold final; releasing the hold is the way to it.
    assert.equal((await putLeaf({ status: 'REVOKED', revocation_reason: 'CertificateHold' })).status, 200);
    assert.equal((await putLeaf({ status: 'REVOKED', revocation_reason: 'RemoveFromCRL' })).body.code, 'REVOCATION_REASON_NOT_ALLOWED');
    assert.equal((await call('GET', `/certificates/${leaf.serial_number}`)).body.revocation_reason, 'CertificateHold');
    assert.equal((await putLeaf({ status: 'ACTIVE' })).body.status, 'ACTIVE');

    for (const [method, url] of [['POST', `/cas/${ca.id}/status`], ['PUT', `/certificates/${ca.certificate.serial_number}/status`]] as const) {
      const r = await call(method, url, { status: 'REVOKED', revocation_reason: 'RemoveFromCRL' });
      assert.deepEqual([r.status, r.body.code], [400, 'REVOCATION_REASON_NOT_ALLOWED'], url);
    }
    assert.equal((await call('GET', `/cas/${ca.id}`)).body.certificate.status, 'ACTIVE');
  });

  it('invalidity_date: shown on the certificate, 400 when malformed, in the future or with a release; cleared on release', async () => {
    const ca = await createCa('Invalidity');
    const leaf = (await call('POST', `/cas/${ca.id}/certificates/sign`, { csr: csrB64('compromised') })).body;
    assert.equal(leaf.invalidity_date, null);
    const put = (body: object) => call('PUT', `/certificates/${leaf.serial_number}/status`, body);
    const dayAgo = new Date(Math.floor(Date.now() / 1000) * 1000 - 86_400_000).toISOString();
    for (const [body, code] of [
      [{ status: 'REVOKED', revocation_reason: 'KeyCompromise', invalidity_date: 'yesterday' }, 'INVALIDITY_DATE_INVALID'],
      [{ status: 'REVOKED', revocation_reason: 'KeyCompromise', invalidity_date: new Date(Date.now() + 3_600_000).toISOString() }, 'INVALIDITY_DATE_AFTER_REVOCATION'],
      [{ status: 'ACTIVE', invalidity_date: dayAgo }, 'INVALIDITY_DATE_INVALID'],
    ] as const) {
      const res = await put(body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.code, code);
    }
    const held = await put({ status: 'REVOKED', revocation_reason: 'CertificateHold', invalidity_date: dayAgo });
    assert.equal(held.status, 200);
    assert.equal(held.body.invalidity_date, dayAgo);
    assert.equal((await call('GET', `/certificates/${leaf.serial_number}`)).body.invalidity_date, dayAgo);
    assert.equal((await put({ status: 'ACTIVE' })).body.invalidity_date, null);
    assert.equal((await call('GET', `/certificates/${leaf.serial_number}`)).body.invalidity_date, null);

    const revoked = await call('POST', `/cas/${ca.id}/status`, { status: 'REVOKED', revocation_reason: 'KeyCompromise', invalidity_date: dayAgo });
    assert.equal(revoked.status, 200);
    assert.equal(revoked.body.certificate.invalidity_date, dayAgo);
  });

  it('bad input: garbage CSR, bad signature, unknown CA, viewer writes, no token', async () => {
    const ca = await createCa('Strict');
    const garbage = await call('POST', `/cas/${ca.id}/certificates/sign`, { csr: b64('not a csr at all') });
    assert.deepEqual([garbage.status, garbage.body.code], [400, 'CSR_MALFORMED']);
    const tampered = opensslCsr({ key: 'p256', subj: '/CN=t' });
    tampered[tampered.length - 3]! ^= 1;
    const bad = await call('POST', `/cas/${ca.id}/certificates/sign`, { csr: b64(toPem(tampered, 'CERTIFICATE REQUEST')) });
    assert.deepEqual([bad.status, bad.body.code], [400, 'CSR_INVALID_SIGNATURE']);
    const unknown = await call('POST', '/cas/nope/certificates/sign', { csr: csrB64('x') });
    assert.deepEqual([unknown.status, unknown.body.code], [404, 'CA_NOT_FOUND']);
    assert.equal((await call('GET', '/cas/nope')).status, 404);
    const noKeySpec = await call('POST', '/cas', { subject: { common_name: 'x' } });
    assert.deepEqual([noKeySpec.status, noKeySpec.body.code], [400, 'VALIDATION_FAILED']);
    const badDuration = await call('POST', '/cas', { subject: { common_name: 'x' }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration: '10 years' } });
    assert.deepEqual([badDuration.status, badDuration.body.code], [400, 'DURATION_INVALID']);
    const viewerWrite = await call('POST', `/cas/${ca.id}/certificates/sign`, { csr: csrB64('x') }, viewer);
    assert.equal(viewerWrite.status, 403);
    const anonymous = await app.inject({ url: '/api/ca/v1/cas' });
    assert.equal(anonymous.statusCode, 401);
  });

  it('profiles CRUD; inline profile and crypto enforcement over the API', async () => {
    const created = await call('POST', '/profiles', {
      name: 'ec-only',
      validity: { type: 'Duration', duration: '90d' },
      crypto_enforcement: { enabled: true, allow_rsa_keys: false, allowed_ecdsa_key_sizes: [256] },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const p = created.body;
    assert.equal(p.verify_csr_signature, true);
    assert.deepEqual(p.key_usage, ['DigitalSignature', 'KeyEncipherment']);
    const ca = await createCa('Profiled', { profile_id: p.id });
    const rsa = await call('POST', `/cas/${ca.id}/certificates/sign`, { csr: csrB64('rsa', 'rsa2048') });
    assert.deepEqual([rsa.status, rsa.body.code], [400, 'CSR_KEY_NOT_ALLOWED']);
    const ec = await call('POST', `/cas/${ca.id}/certificates/sign`, { csr: csrB64('ec') });
    assert.equal(new Date(ec.body.valid_to).getTime() - new Date(ec.body.valid_from).getTime(), 90 * 86_400_000);
    const inline = await call('POST', `/cas/${ca.id}/certificates/sign`, { csr: csrB64('rsa', 'rsa2048'), profile: { extended_key_usages: ['ServerAuth'] } });
    assert.equal(inline.status, 201);
    assert.deepEqual(inline.body.extensions.extended_key_usage, ['ServerAuth']);
    const both = await call('POST', `/cas/${ca.id}/certificates/sign`, { csr: csrB64('x'), profile_id: p.id, profile: {} });
    assert.equal(both.body.code, 'PROFILE_AMBIGUOUS');

    const updated = await call('PUT', `/profiles/${p.id}`, { name: 'ec-only-v2', validity: { type: 'Duration', duration: '30d' } });
    assert.equal(updated.body.name, 'ec-only-v2');
    const afterUpdate = await call('POST', `/cas/${ca.id}/certificates/sign`, { csr: csrB64('rsa', 'rsa2048') });
    assert.equal(afterUpdate.status, 201, 'the update dropped crypto enforcement, and issuance sees it at once');
    assert.equal((await call('GET', '/profiles')).body.list.some((x: { id: string }) => x.id === p.id), true);
    assert.equal((await call('DELETE', `/profiles/${p.id}`)).body.code, 'PROFILE_IN_USE');
    const spare = (await call('POST', '/profiles', { name: 'spare' })).body;
    assert.equal((await call('DELETE', `/profiles/${spare.id}`)).status, 204);
    assert.equal((await call('GET', `/profiles/${spare.id}`)).status, 404);
  });

  it('server-side key generation: kept in an engine, or returned once as PKCS#8', async () => {
    const ca = await createCa('Keygen');
    const kept = await call('POST', '/certificates', { ca_id: ca.id, key_spec: { type: 'ECDSA', bits: 384, engine_id: 'memory' }, subject: { common_name: 'kept' } });
    assert.equal(kept.status, 201, JSON.stringify(kept.body));
    assert.match(kept.body.key_id, /^[0-9a-f]{64}$/);
    assert.equal(kept.body.private_key, undefined);
    const handed = await call('POST', '/certificates', { ca_id: ca.id, key_spec: { type: 'ED25519', bits: 256 }, subject: { common_name: 'handed' } });
    assert.equal(handed.status, 201, JSON.stringify(handed.body));
    const keyPem = Buffer.from(handed.body.private_key, 'base64').toString();
    assert.match(keyPem, /^-----BEGIN PRIVATE KEY-----/);
    const pub = createPublicKey(createPrivateKey(keyPem)).export({ format: 'der', type: 'spki' });
    assert.deepEqual(new Uint8Array(pub), parseCertificate(certDer(handed.body.certificate)).publicKey.spki);
  });

  it('internal CA: status changes and CAs below it refused (403 CA_INTERNAL); rotation over the API, documented', async () => {
    const internal = (await call('GET', '/cas/LAMASSU-DMS-MANAGER')).body;
    for (const body of [{ status: 'REVOKED' }, { status: 'REVOKED', revocation_reason: 'CertificateHold' }, { status: 'ACTIVE' }]) {
      const byCa = await call('POST', '/cas/LAMASSU-DMS-MANAGER/status', body);
      assert.deepEqual([byCa.status, byCa.body.code], [403, 'CA_INTERNAL'], JSON.stringify(body));
      const bySerial = await call('PUT', `/certificates/${internal.certificate.serial_number}/status`, body);
      assert.deepEqual([bySerial.status, bySerial.body.code], [403, 'CA_INTERNAL'], JSON.stringify(body));
    }
    const below = await call('POST', '/cas', { parent_id: 'LAMASSU-DMS-MANAGER', subject: { common_name: 'Below' }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration: '1y' } });
    assert.deepEqual([below.status, below.body.code], [403, 'CA_INTERNAL']);
    assert.equal((await call('GET', '/cas/LAMASSU-DMS-MANAGER')).body.certificate.status, 'ACTIVE');

    const mine = await createCa('Not Internal');
    const notInternal = await call('POST', `/cas/${mine.id}/rotate`);
    assert.deepEqual([notInternal.status, notInternal.body.code], [409, 'CA_NOT_INTERNAL']);
    assert.equal((await call('POST', '/cas/no-such-ca/rotate')).body.code, 'CA_NOT_FOUND');
    assert.equal((await call('POST', '/cas/LAMASSU-DMS-MANAGER/rotate', undefined, viewer)).status, 403);
    const rotated = await call('POST', '/cas/LAMASSU-DMS-MANAGER/rotate');
    assert.equal(rotated.status, 201, JSON.stringify(rotated.body));
    assert.equal(rotated.body.id, 'LAMASSU-DMS-MANAGER-2');
    assert.equal(rotated.body.internal, true);
    assert.equal(rotated.body.metadata['lamassu.io/internal-ca/replaces'], 'LAMASSU-DMS-MANAGER');
    const again = await call('POST', '/cas/LAMASSU-DMS-MANAGER/rotate');
    assert.deepEqual([again.status, again.body.code], [409, 'CA_INTERNAL_SUPERSEDED']);
    assert.match(again.body.message, /LAMASSU-DMS-MANAGER-2/);
    assert.equal((await call('GET', '/cas/LAMASSU-DMS-MANAGER')).body.certificate.status, 'ACTIVE');
    assert.equal((await call('POST', '/cas/LAMASSU-DMS-MANAGER-2/status', { status: 'REVOKED' })).body.code, 'CA_INTERNAL');
    const listed = (await call('GET', '/cas?internal=true')).body.list.map((c: { id: string }) => c.id).sort();
    assert.deepEqual(listed, ['LAMASSU-DMS-MANAGER', 'LAMASSU-DMS-MANAGER-2']);

    const doc = (await app.inject({ url: '/api/docs/json' })).json();
    const rotate = doc.paths['/api/ca/v1/cas/{id}/rotate']?.post;
    assert.ok(rotate, 'rotation in OpenAPI');
    assert.ok(rotate.responses['201'] && rotate.responses['409'], JSON.stringify(Object.keys(rotate.responses)));
    assert.ok(doc.paths['/api/ca/v1/cas/{id}/status'].post.responses['403']);
  });

  it('counts certificates expiring per calendar week (UTC), from the current one, revoked ones left out', async () => {
    const ca = await createCa('Expiry Weeks CA');
    const WEEK = 7 * 86_400_000;
    const validTo: number[] = [];
    for (const duration of ['2d', '9d', '9d', '30d', '200d']) {
      const r = await call('POST', `/cas/${ca.id}/certificates/sign`, { csr: csrB64(`exp-${duration}`), profile: { validity: { type: 'Duration', duration } } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      validTo.push(Date.parse(r.body.valid_to));
    }
    const revoked = await call('POST', `/cas/${ca.id}/certificates/sign`, { csr: csrB64('exp-revoked'), profile: { validity: { type: 'Duration', duration: '9d' } } });
    assert.equal((await call('PUT', `/certificates/${revoked.body.serial_number}/status`, { status: 'REVOKED', revocation_reason: 'Superseded' })).status, 200);

    const r = await call('GET', `/certificates/expiring-per-week?weeks=8&ca_id=${ca.id}`, undefined, viewer);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const weeks = r.body.weeks as { start: string; end: string; count: number }[];
    assert.equal(weeks.length, 8);
    const first = Date.parse(weeks[0]!.start);
    assert.equal(new Date(first).getUTCDay(), 1, 'weeks start on Monday');
    assert.equal(new Date(first).toISOString().slice(11), '00:00:00.000Z');
    assert.ok(first <= Date.now() && Date.now() < first + WEEK, 'the current week first');
    weeks.forEach((w, i) => assert.equal(Date.parse(w.end) - Date.parse(w.start), WEEK, `week ${i}`));
    const expected = Array<number>(8).fill(0);
    for (const t of validTo) if (t < first + 8 * WEEK) expected[Math.floor((t - first) / WEEK)]! += 1;
    assert.deepEqual(weeks.map((w) => w.count), expected);
    assert.equal(expected.reduce((a, b) => a + b), 4, 'the 200-day certificate is beyond 8 weeks');

    const all = await call('GET', '/certificates/expiring-per-week');
    assert.equal(all.body.weeks.length, 12, 'twelve weeks by default');
    assert.equal((await call('GET', '/certificates/expiring-per-week?weeks=0')).status, 400);
    assert.equal((await call('GET', '/certificates/expiring-per-week?weeks=105')).status, 400);
    assert.equal((await call('GET', '/certificates/expiring-per-week?ca_id=nope')).body.code, 'CA_NOT_FOUND');
  });

  it('imports external certificates, reports stats, documents every route in OpenAPI', async () => {
    const keyFile = path.join(dir, 'ext.key');
    const certFile = path.join(dir, 'ext.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', certFile, '-subj', '/CN=external-device', '-days', '30'], { stdio: 'ignore' });
    const ext = await call('POST', '/certificates/import', { certificate: b64(readFileSync(certFile, 'utf8')), metadata: { source: 'legacy' } });
    assert.equal(ext.status, 201, JSON.stringify(ext.body));
    assert.equal(ext.body.type, 'EXTERNAL');
    assert.equal(ext.body.issuer_metadata.id, null);
    assert.equal(ext.body.status, 'ACTIVE');
    const found = await call('GET', '/certificates?common_name=external-*');
    assert.equal(found.body.list.length, 1);
    const notCert = await call('POST', '/certificates/import', { certificate: b64('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n') });
    assert.deepEqual([notCert.status, notCert.body.code], [400, 'CERTIFICATE_MALFORMED']);
    const stats = await call('GET', '/stats', undefined, viewer);
    assert.equal(stats.status, 200);
    assert.ok(stats.body.cas.total >= 5);
    assert.ok(stats.body.certificates.status_distribution.ACTIVE >= 1);
    const doc = (await app.inject({ url: '/api/docs/json' })).json();
    for (const p of ['/api/ca/v1/cas', '/api/ca/v1/cas/{id}/certificates/sign', '/api/ca/v1/certificates/{serial}/status', '/api/ca/v1/profiles/{id}', '/api/ca/v1/stats']) {
      assert.ok(doc.paths[p], `${p} in OpenAPI`);
    }
  });
});
