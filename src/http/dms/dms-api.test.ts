import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { pino } from 'pino';
import type { Config } from '../../config/config-schema.ts';
import { silentLogger } from '../../domain/ports/logger.ts';
import { HttpEnrollmentWebhook } from '../../engines/dms/http-enrollment-webhook.ts';
import { ScryptPasswordHasher } from '../../engines/dms/scrypt-password-hasher.ts';
import { SoftwareServerKeyGenerator } from '../../engines/dms/software-server-key-generator.ts';
import { X509CertificateInspector } from '../../engines/dms/x509-certificate-inspector.ts';
import { KeyEngineSet } from '../../engines/crypto/registry.ts';
import { ensureAdminToken } from '../auth/admin-token.ts';
import { buildHttpsApp } from '../build-https-app.ts';
import { HttpMetrics } from '../metrics.ts';
import type { ServiceDeps } from '../service-plugin.ts';
import { devicesServicePlugin } from '../devices/devices-plugin.ts';
import { dmsServicePlugin } from './dms-plugin.ts';
import { enrollmentWorld, type EnrollmentWorld } from '../../../test/support/enrollment-fixture.ts';
import { toPem } from '../../x509/pem.ts';

let w: EnrollmentWorld;
let app: FastifyInstance;
let token: string;
let dir: string;

before(async () => {
  w = await enrollmentWorld();
  await w.ca.ensureInternalCa();
  dir = mkdtempSync(path.join(tmpdir(), 'lamassu-dms-api-'));
  token = readFileSync(await ensureAdminToken({ tokens: w.storage.adminTokens, dataDir: dir, clock: w.clock, logger: silentLogger }), 'utf8').trim();
  const deps: ServiceDeps = {
    config: { vaBaseUrls: ['http://va.example'] } as Config,
    storage: w.storage,
    keyEngines: KeyEngineSet.of([...(w.ca.deps.keyEngines.list())]),
    events: w.bus,
    clock: w.clock,
    random: w.deps.random,
    logger: silentLogger,
  };
  const adapters = { passwords: new ScryptPasswordHasher(), webhook: new HttpEnrollmentWebhook(), inspector: new X509CertificateInspector(), keyGenerator: new SoftwareServerKeyGenerator() };
  app = await buildHttpsApp({
    logger: pino({ level: 'silent' }),
    metrics: new HttpMetrics(),
    auth: { adminTokens: w.storage.adminTokens },
    services: [await dmsServicePlugin(adapters)(deps), await devicesServicePlugin(deps)],
    version: 'test',
  });
});
after(async () => {
  await app?.close();
  await w?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const call = async (method: InjectOptions['method'], url: string, payload?: unknown) => {
  const res = await app.inject({ method, url: `/api${url}`, headers: { authorization: `Bearer ${token}` }, ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: res.statusCode, body: res.body ? (JSON.parse(res.body) as Record<string, any>) : undefined };
};

test('DMS API: create with defaults, password never echoed, validation codes, 404, 409, metadata, CAs, stats', async () => {
  const created = await call('POST', '/dmsmanager/v1/dms', {
    id: 'factory-1',
    name: 'Factory 1',
    authorized_cas: ['factory-ca'],
    settings: {
      enrollment_settings: {
        enrollment_ca: 'factory-ca',
        registration_mode: 'JITP',
        est_rfc7030_settings: { auth_mode: 'HTTP_BASIC', http_basic: { username: 'line', password: 'very-secret-1' } },
      },
      reenrollment_settings: { reenrollment_delta: '30d' },
    },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const s = created.body!.settings;
  assert.deepEqual(s.enrollment_settings.est_rfc7030_settings.http_basic, { username: 'line' });
  assert.equal(s.enrollment_settings.verify_csr_signature, true);
  assert.equal(s.enrollment_settings.device_id_source, 'common_name');
  assert.equal(s.reenrollment_settings.revoke_on_reenrollment, true);
  assert.deepEqual(s.server_keygen_settings.key, { type: 'ECDSA', bits: 256 });
  assert.equal(s.ca_distribution_settings.include_enrollment_ca, true);
  assert.ok(!JSON.stringify(created.body).includes('very-secret-1'));
  assert.deepEqual((await call('GET', '/dmsmanager/v1/dms/factory-1')).body, created.body);

  const minimal = { name: 'x', authorized_cas: ['factory-ca'], settings: { enrollment_settings: { enrollment_ca: 'factory-ca' } } };
  const minimalCreated = await call('POST', '/dmsmanager/v1/dms', { id: 'minimal', ...minimal });
  assert.equal(minimalCreated.body!.settings.enrollment_settings.est_rfc7030_settings.auth_mode, 'DMS_CERTIFICATE');
  const cases: [string, unknown, number, string][] = [
    ['duplicate', { id: 'factory-1', ...minimal }, 409, 'DMS_EXISTS'],
    ['enrollment CA not authorized', { id: 'd2', ...minimal, authorized_cas: ['other-ca'] }, 400, 'DMS_ENROLLMENT_CA_NOT_AUTHORIZED'],
    ['internal CA', { id: 'd2', ...minimal, authorized_cas: ['factory-ca', 'LAMASSU-DMS-MANAGER'] }, 400, 'DMS_INTERNAL_CA_REFUSED'],
    ['bad mode', { id: 'd2', ...minimal, settings: { enrollment_settings: { enrollment_ca: 'factory-ca', registration_mode: 'MAGIC' } } }, 400, 'VALIDATION_FAILED'],
    ['bad delta', { id: 'd2', ...minimal, settings: { ...minimal.settings, reenrollment_settings: { reenrollment_delta: 'soon' } } }, 400, 'DMS_SETTINGS_INVALID'],
    ['missing settings', { id: 'd2', name: 'x', authorized_cas: [] }, 400, 'VALIDATION_FAILED'],
  ];
  for (const [name, body, status, code] of cases) {
    const res = await call('POST', '/dmsmanager/v1/dms', body);
    assert.equal(res.status, status, name);
    assert.equal(res.body!.code, code, name);
  }
  assert.equal((await call('GET', '/dmsmanager/v1/dms/ghost')).body!.code, 'DMS_NOT_FOUND');
  assert.equal((await call('GET', '/dmsmanager/v1/dms/ghost')).status, 404);

  assert.deepEqual((await call('PATCH', '/dmsmanager/v1/dms/factory-1/metadata', { a: 1 })).body!.metadata, { a: 1 });
  assert.deepEqual((await call('PUT', '/dmsmanager/v1/dms/factory-1/metadata', { b: 2 })).body!.metadata, { b: 2 });
  assert.deepEqual((await call('POST', '/dmsmanager/v1/dms/factory-1/authorized-cas', { ca_id: 'other-ca' })).body!.authorized_cas, ['factory-ca', 'other-ca']);
  assert.equal((await call('DELETE', '/dmsmanager/v1/dms/factory-1/authorized-cas/factory-ca')).status, 409);
  assert.deepEqual((await call('DELETE', '/dmsmanager/v1/dms/factory-1/authorized-cas/other-ca')).body!.authorized_cas, ['factory-ca']);
  const put = await call('PUT', '/dmsmanager/v1/dms/factory-1', { ...minimal, name: 'Renamed' });
  assert.equal(put.body!.name, 'Renamed');
  assert.equal(put.body!.id, 'factory-1');
  assert.deepEqual((await call('GET', '/dmsmanager/v1/stats')).body, { total: 2 });
  assert.equal((await call('GET', '/dmsmanager/v1/dms')).body!.list.length, 2);
  assert.equal((await call('DELETE', '/dmsmanager/v1/dms/minimal')).status, 204);
  assert.equal((await call('GET', '/dmsmanager/v1/dms/minimal')).status, 404);
});

test("DMS API: Lamassu's preventive_delta / critical_delta in reenrollment_settings are stored, shown, validated; off by default", async () => {
  const body = (reenrollment: Record<string, unknown>) => ({
    name: 'deltas',
    authorized_cas: ['factory-ca'],
    settings: { enrollment_settings: { enrollment_ca: 'factory-ca' }, reenrollment_settings: reenrollment },
  });
  const created = await call('POST', '/dmsmanager/v1/dms', { id: 'deltas', ...body({ preventive_delta: '30d', critical_delta: '7d' }) });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const shown = (await call('GET', '/dmsmanager/v1/dms/deltas')).body!.settings.reenrollment_settings;
  assert.deepEqual([shown.preventive_delta, shown.critical_delta], ['30d', '7d']);
  for (const bad of [{ preventive_delta: '7d', critical_delta: '30d' }, { preventive_delta: 'soon' }, { critical_delta: '0s' }]) {
    const res = await call('PUT', '/dmsmanager/v1/dms/deltas', body(bad));
    assert.deepEqual([res.status, res.body!.code], [400, 'EXPIRY_DELTAS_INVALID'], JSON.stringify(bad));
  }
  const cleared = await call('PUT', '/dmsmanager/v1/dms/deltas', body({ critical_delta: '3d' }));
  assert.deepEqual([cleared.body!.settings.reenrollment_settings.preventive_delta, cleared.body!.settings.reenrollment_settings.critical_delta], [null, '3d']);
  const off = await call('PUT', '/dmsmanager/v1/dms/deltas', body({}));
  assert.deepEqual([off.body!.settings.reenrollment_settings.preventive_delta, off.body!.settings.reenrollment_settings.critical_delta], [null, null]);
  assert.equal((await call('DELETE', '/dmsmanager/v1/dms/deltas')).status, 204);
});

test('DMS list: page_size and bookmarks page through more DMSs than a page holds, each once', async () => {
  const minimal = { authorized_cas: ['factory-ca'], settings: { enrollment_settings: { enrollment_ca: 'factory-ca' } } };
  for (let i = 0; i < 5; i++) assert.equal((await call('POST', '/dmsmanager/v1/dms', { id: `paged-${i}`, name: `Paged ${i}`, ...minimal })).status, 201);
  const total = (await call('GET', '/dmsmanager/v1/stats')).body!.total as number;
  assert.ok(total > 4);
  const seen: string[] = [];
  let pages = 0;
  let bookmark: string | undefined;
  do {
    const page = await call('GET', `/dmsmanager/v1/dms?page_size=2&sort_by=id&sort_mode=desc${bookmark ? `&bookmark=${encodeURIComponent(bookmark)}` : ''}`);
    assert.equal(page.status, 200);
    assert.ok(page.body!.list.length <= 2);
    seen.push(...page.body!.list.map((d: { id: string }) => d.id));
    pages++;
    bookmark = page.body!.next ?? undefined;
  } while (bookmark);
  assert.equal(seen.length, total);
  assert.equal(new Set(seen).size, total, 'each DMS once');
  assert.deepEqual(seen, [...seen].sort().reverse());
  assert.ok(pages >= Math.ceil(total / 2));
  assert.equal((await call('GET', '/dmsmanager/v1/dms?bookmark=junk')).body!.code, 'BOOKMARK_INVALID');
  assert.equal((await call('GET', '/dmsmanager/v1/dms?page_size=0')).status, 400);
  assert.equal((await call('GET', '/dmsmanager/v1/dms?sort_by=secret')).status, 400);
  for (let i = 0; i < 5; i++) assert.equal((await call('DELETE', `/dmsmanager/v1/dms/paged-${i}`)).status, 204);
});

test('DMS certificate API: server key returned once as PKCS#8, CSR as base64 PEM, revoke', async () => {
  const keyed = await call('POST', '/dmsmanager/v1/dms/factory-1/certificate', { key: { type: 'ECDSA', bits: 256 } });
  assert.equal(keyed.status, 201, JSON.stringify(keyed.body));
  const pem = Buffer.from(keyed.body!.private_key, 'base64').toString();
  assert.match(pem, /^-----BEGIN PRIVATE KEY-----/);
  createPrivateKey(pem);
  assert.equal(keyed.body!.issuer_ca_id, 'LAMASSU-DMS-MANAGER');
  assert.match(Buffer.from(keyed.body!.certificate, 'base64').toString(), /^-----BEGIN CERTIFICATE-----/);
  const csrPem = toPem(await w.csr('factory-1'), 'CERTIFICATE REQUEST');
  const fromCsr = await call('POST', '/dmsmanager/v1/dms/factory-1/certificate', { csr: Buffer.from(csrPem).toString('base64') });
  assert.equal(fromCsr.status, 201);
  assert.equal(fromCsr.body!.private_key, undefined);
  assert.equal((await call('POST', '/dmsmanager/v1/dms/factory-1/certificate', {})).body!.code, 'DMS_CERTIFICATE_REQUEST_INVALID');
  assert.equal((await call('POST', '/dmsmanager/v1/dms/factory-1/certificate', { csr: 'bm90IGEgY3Ny' })).body!.code, 'CSR_MALFORMED');
  assert.equal((await call('GET', '/dmsmanager/v1/dms/factory-1/certificate')).body!.serial_number, fromCsr.body!.serial_number);
  const revoked = await call('POST', '/dmsmanager/v1/dms/factory-1/certificate/revoke', { revocation_reason: 'KeyCompromise' });
  assert.equal(revoked.body!.status, 'REVOKED');
  assert.equal(revoked.body!.revocation_reason, 'KeyCompromise');
});

test('device API: pre-register, get, list with bookmarks and filters, stats, timeline, decommission', async () => {
  assert.equal((await call('POST', '/devmanager/v1/devices', { id: 'pump-1', alias: 'Pump', tags: ['a'], dms_id: 'factory-1' })).status, 201);
  for (let i = 0; i < 5; i++) await call('POST', '/devmanager/v1/devices', { id: `valve-${i}`, tags: ['b'], dms_id: 'factory-1' });
  assert.equal((await call('POST', '/devmanager/v1/devices', { id: 'pump-1' })).body!.code, 'DEVICE_EXISTS');
  assert.equal((await call('POST', '/devmanager/v1/devices', { id: 'bad id' })).body!.code, 'DEVICE_ID_INVALID');
  const got = await call('GET', '/devmanager/v1/devices/pump-1');
  assert.equal(got.body!.status, 'PENDING_PROVISIONING');
  assert.equal(got.body!.dms_owner, 'factory-1');
  assert.equal(got.body!.identity, null);
  assert.equal((await call('GET', '/devmanager/v1/devices/nope')).status, 404);

  const seen: string[] = [];
  let bookmark: string | undefined;
  do {
    const page = await call('GET', `/devmanager/v1/devices?dms_id=factory-1&page_size=2&sort_by=id${bookmark ? `&bookmark=${bookmark}` : ''}`);
    seen.push(...page.body!.list.map((d: { id: string }) => d.id));
    bookmark = page.body!.next ?? undefined;
  } while (bookmark);
  assert.deepEqual(seen, ['pump-1', 'valve-0', 'valve-1', 'valve-2', 'valve-3', 'valve-4']);
  assert.equal((await call('GET', '/devmanager/v1/devices?tags=b&id=valve-1*')).body!.list.length, 1);
  assert.equal((await call('GET', '/devmanager/v1/devices/dms/factory-1?status=PENDING_PROVISIONING')).body!.list.length, 6);
  assert.equal((await call('GET', '/devmanager/v1/devices?status=BOGUS')).status, 400);
  assert.equal((await call('GET', '/devmanager/v1/devices?bookmark=junk')).body!.code, 'BOOKMARK_INVALID');

  const decommissioned = await call('DELETE', '/devmanager/v1/devices/pump-1/decommission');
  assert.equal(decommissioned.body!.status, 'DECOMMISSIONED');
  assert.equal((await call('DELETE', '/devmanager/v1/devices/pump-1/decommission')).status, 409);
  const events = (await call('GET', '/devmanager/v1/devices/pump-1/events')).body!.list.map((e: { type: string }) => e.type);
  assert.deepEqual(events, ['CREATED', 'DECOMMISSIONED']);
  const stats = await call('GET', '/devmanager/v1/stats?dms_id=factory-1');
  assert.equal(stats.body!.total, 6);
  assert.equal(stats.body!.status_distribution.DECOMMISSIONED, 1);
});
