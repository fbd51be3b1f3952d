/**
 * Lamassu v3 contract: the real `lamassu serve`, sent the requests Lamassu's OpenAPI documents write (bodies
 * and queries as a Lamassu client sends them), every response validated against JSON Schemas of Lamassu's
 * documented models (test/contract/lamassu-schemas.ts). Routes we do not serve are listed, with the reason,
 * in docs/lamassu-compatibility.md. Run `npm run build` first.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import * as S from '../contract/lamassu-schemas.ts';
import { lamassuDmsBody } from '../contract/lamassu-requests.ts';
import { opensslCsr } from '../support/csr-fixture.ts';
import { startLamassu, type LamassuProcess } from '../support/lamassu-process.ts';
import { toPem } from '../../src/x509/pem.ts';

const run = promisify(execFile);
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats.default(ajv);
const q = encodeURIComponent;

describe('Lamassu v3 contract against lamassu serve', { timeout: 120_000 }, () => {
  let server: LamassuProcess;
  const checked: string[] = [];

  before(async () => {
    server = await startLamassu({}, { deadlineMs: 30_000 });
  });
  after(async () => {
    await server?.stop();
  });

  /** One request as curl sends it; the body parsed when JSON. */
  async function call(method: string, url: string, body?: unknown, auth = true) {
    const args = ['-sS', '--cacert', server.tlsCaFile, '-X', method, '-w', '\n%{http_code}'];
    if (auth) args.push('-H', `Authorization: Bearer ${server.token}`);
    if (body !== undefined) args.push('-H', 'content-type: application/json', '--data-binary', JSON.stringify(body));
    const { stdout } = await run('curl', [...args, `https://127.0.0.1:${server.httpsPort}${url}`], { maxBuffer: 16 * 1024 * 1024 });
    const nl = stdout.lastIndexOf('\n');
    const text = stdout.slice(0, nl);
    return { status: Number(stdout.slice(nl + 1)), body: text ? (JSON.parse(text) as any) : undefined };
  }

  /** The request answers `status` and its body is valid against Lamassu's model. */
  async function contract(method: string, url: string, status: number, schema: object, body?: unknown, auth = true): Promise<any> {
    const res = await call(method, url, body, auth);
    assert.equal(res.status, status, `${method} ${url}: ${JSON.stringify(res.body).slice(0, 400)}`);
    const validate = ajv.compile(schema);
    assert.ok(validate(res.body), `${method} ${url} does not match Lamassu's model: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(res.body).slice(0, 600)}`);
    checked.push(`${method} ${url.replace(/\?.*/, '')}`);
    return res.body;
  }

  const csr = (cn: string) => Buffer.from(toPem(opensslCsr({ key: 'p256', subj: `/CN=${cn}` }), 'CERTIFICATE REQUEST')).toString('base64');

  it('health per service (no token), as Lamassu clients read it', async () => {
    for (const prefix of ['ca', 'dmsmanager', 'devmanager', 'va', 'alerts']) await contract('GET', `/api/${prefix}/health`, 200, S.ServiceHealth, undefined, false);
  });

  it('CA service: engines, CAs, certificates, metadata, status, stats', async () => {
    const engines = await contract('GET', '/api/ca/v1/engines', 200, { type: 'array', minItems: 1, items: S.CryptoEngineProvider });
    const engineId = engines.find((e: any) => e.default).id as string;
    const ca = await contract('POST', '/api/ca/v1/cas', 201, S.CACertificate, {
      subject: { common_name: 'Contract Root', organization: 'Lamassu', country: 'ES' },
      key_metadata: { type: 'ECDSA', bits: 256 },
      ca_expiration: { type: 'Duration', duration: '10y' },
      engine_id: engineId,
      metadata: { env: 'contract' },
    });
    assert.equal(ca.certificate.engine_id, engineId);
    await contract('GET', `/api/ca/v1/cas?page_size=25&sort_by=&sort_mode=asc&filter=${q('status[eq]ACTIVE')}&filter=${q('subject.common_name[eq]Contract Root')}`, 200, S.iterableList(S.CACertificate));
    await contract('GET', `/api/ca/v1/cas/${ca.id}`, 200, S.CACertificate);
    const expiring = await contract('PUT', `/api/ca/v1/cas/${ca.id}/issuance-expiration`, 200, S.CACertificate, { type: 'Duration', duration: '90d' });
    assert.deepEqual(expiring.issuance_expiration, { type: 'Duration', duration: '90d' });
    const patched = await contract('PATCH', `/api/ca/v1/cas/${ca.id}/metadata`, 200, S.CACertificate, { patches: [{ op: 'add', path: '/lamassu.io~1ca~1expiration-deltas', value: [] }] });
    assert.deepEqual(patched.metadata, { env: 'contract', 'lamassu.io/ca/expiration-deltas': [] });
    await contract('PUT', `/api/ca/v1/cas/${ca.id}/metadata`, 200, S.CACertificate, { patches: [{ op: 'remove', path: '/env' }] });

    const cert = await contract('POST', `/api/ca/v1/cas/${ca.id}/certificates/sign`, 201, S.Certificate, { csr: csr('contract-device') });
    await contract('GET', `/api/ca/v1/cas/${ca.id}/certificates?page_size=25&sort_by=valid_to&sort_mode=desc`, 200, S.iterableList(S.Certificate));
    const list = await contract('GET', `/api/ca/v1/certificates?filter=${q('subject.common_name[eq]contract-device')}&filter=${q('issuer_meta.id[eq]' + ca.id)}`, 200, S.iterableList(S.Certificate));
    assert.equal(list.list.length, 1);
    assert.equal(list.next, '');
    await contract('GET', `/api/ca/v1/certificates/${cert.serial_number}`, 200, S.Certificate);
    await contract('PUT', `/api/ca/v1/certificates/${cert.serial_number}/metadata`, 200, S.Certificate, { patches: [{ op: 'add', path: '/owner', value: 'line-7' }] });
    const revoked = await contract('PUT', `/api/ca/v1/certificates/${cert.serial_number}/status`, 200, S.Certificate, { status: 'REVOKED', revocation_reason: 'KeyCompromise' });
    assert.equal(revoked.status, 'REVOKED');
    const message = Buffer.from('payload').toString('base64');
    const signed = await contract('POST', `/api/ca/v1/cas/${ca.id}/signature/sign`, 200, S.SignResponse, { message, message_type: 'raw', signature_algorithm: 'ECDSA_SHA_256' });
    const verified = await contract('POST', `/api/ca/v1/cas/${ca.id}/signature/verify`, 200, S.VerifyResponse, { message, message_type: 'raw', signature_algorithm: 'ECDSA_SHA_256', signature: signed.signed_data });
    assert.equal(verified.valid, true);
    const digest = createHash('sha256').update('payload').digest().toString('base64');
    const digestSigned = await contract('POST', `/api/ca/v1/cas/${ca.id}/signature/sign`, 200, S.SignResponse, { message: digest, message_type: 'hash', signature_algorithm: 'ECDSA_SHA_256' });
    const digestVerified = await contract('POST', `/api/ca/v1/cas/${ca.id}/signature/verify`, 200, S.VerifyResponse, { message, message_type: 'raw', signature_algorithm: 'ECDSA_SHA_256', signature: digestSigned.signed_data });
    assert.equal(digestVerified.valid, true, 'a signature over the digest is one over the message');
    await contract('GET', '/api/ca/v1/stats', 200, S.CAStats);
    await contract('GET', `/api/ca/v1/stats/${ca.id}`, 200, S.CAStats);
    // Lamassu's filtered stats: ca_filter counts CAs, cert_filter certificates, each on its own.
    const caStats = await contract('GET', `/api/ca/v1/stats?ca_filter=${q('id[eq]' + ca.id)}&cert_filter=${q('status[eq]REVOKED')}&cert_filter=${q('issuer_meta.id[eq]' + ca.id)}`, 200, S.CAStats);
    assert.equal(caStats.cas.total, 1);
    assert.equal(caStats.certificates.total, 1);
    await contract('GET', `/api/ca/v1/stats/${ca.id}?cert_filter=${q('subject.common_name[eq]contract-device')}`, 200, S.CAStats);

    // CreateCA with Lamassu's profile for the CA's own certificate (its validity, no ca_expiration).
    const owned = await contract('POST', '/api/ca/v1/cas', 201, S.CACertificate, {
      subject: { common_name: 'Contract Profiled Root' },
      key_metadata: { type: 'ECDSA', bits: 256 },
      ca_issuance_profile: {
        validity: { type: 'Duration', duration: '365d' },
        sign_as_ca: true,
        honor_subject: true,
        honor_extensions: true,
        crypto_enforcement: { enabled: true, allow_rsa_keys: false, allowed_rsa_key_sizes: [], allow_ecdsa_keys: true, allowed_ecdsa_key_sizes: [256, 384] },
      },
    });
    assert.equal(new Date(owned.certificate.valid_to).getTime() - new Date(owned.certificate.valid_from).getTime(), 365 * 24 * 3600 * 1000);

    // ImportCA with Lamassu's ca_chain (root first, as its Go client sorts it) and ca_type.
    const dir = mkdtempSync(path.join(tmpdir(), 'lamassu-contract-'));
    try {
      const openssl = (...args: string[]) => run('openssl', args, { cwd: dir });
      await openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'root.key', '-subj', '/CN=Contract External Root', '-days', '365', '-out', 'root.pem');
      await openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'sub.key', '-subj', '/CN=Contract External Sub', '-out', 'sub.csr');
      writeFileSync(path.join(dir, 'ca.ext'), '[v3_ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
      await openssl('x509', '-req', '-in', 'sub.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-set_serial', '0x2a', '-days', '300', '-extfile', 'ca.ext', '-extensions', 'v3_ca', '-out', 'sub.pem');
      const b64 = (name: string) => Buffer.from(readFileSync(path.join(dir, name), 'utf8')).toString('base64');
      const imported = await contract('POST', '/api/ca/v1/cas/import', 201, S.CACertificate, { id: 'contract-external-sub', ca: b64('sub.pem'), ca_chain: [b64('root.pem')], ca_type: 'EXTERNAL' });
      assert.equal(imported.level, 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    // Lamassu's other spellings of the lists, and the CA's default profile.
    const byCn = await contract('GET', `/api/ca/v1/cas/cn/${q('Contract Root')}?page_size=25`, 200, S.iterableList(S.CACertificate));
    assert.deepEqual(byCn.list.map((c: any) => c.id), [ca.id]);
    await contract('GET', `/api/ca/v1/cas/${ca.id}/certificates/status/REVOKED?page_size=25`, 200, S.iterableList(S.Certificate));
    await contract('GET', `/api/ca/v1/cas/${ca.id}/certificates/${cert.serial_number}`, 200, S.Certificate);
    await contract('GET', '/api/ca/v1/certificates/status/ACTIVE?page_size=25', 200, S.iterableList(S.Certificate));
    await contract('GET', `/api/ca/v1/certificates/expiration?expires_after=${q(new Date().toISOString())}&expires_before=${q(new Date(Date.now() + 3e11).toISOString())}`, 200, S.iterableList(S.Certificate));
    await contract('GET', `/api/ca/v1/cas?filter=${q('metadata[jsonpath]exists($.env)')}`, 200, S.iterableList(S.CACertificate));
    const profile = await call('POST', '/api/ca/v1/profiles', { id: 'contract-profile', name: 'contract', validity: { type: 'Duration', duration: '30d' } });
    assert.equal(profile.status, 201, JSON.stringify(profile.body));
    const moved = await contract('POST', `/api/ca/v1/cas/${ca.id}/profile`, 200, S.CACertificate, { profile_id: 'contract-profile' });
    assert.equal(moved.profile_id, 'contract-profile');
    const role = await contract('GET', `/api/va/v1/roles/${ca.certificate.subject_key_id}`, 200, S.VARole);
    assert.equal(role.ca_ski, ca.certificate.subject_key_id);
  });

  it('DMS manager: a DMS created with Lamassu\'s body, listed, updated, metadata patched, stats', async () => {
    const enrollment = await call('POST', '/api/ca/v1/cas', { id: 'contract-enroll', subject: { common_name: 'Contract Enrollment' }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration: '5y' } });
    assert.equal(enrollment.status, 201);
    const body = lamassuDmsBody('contract-dms', 'contract-enroll', 'contract-enroll');
    await contract('POST', '/api/dmsmanager/v1/dms', 201, S.DMS, body);
    const got = await contract('GET', '/api/dmsmanager/v1/dms/contract-dms', 200, S.DMS);
    assert.deepEqual(got.settings.reenrollment_settings.preventive_delta, '31d');
    await contract('GET', `/api/dmsmanager/v1/dms?page_size=25&filter=${q('name[ct_ic]lamassu')}`, 200, S.iterableList(S.DMS));
    const { id: _id, ...update } = body;
    await contract('PUT', '/api/dmsmanager/v1/dms/contract-dms', 200, S.DMS, { ...update, name: 'Renamed line' });
    await contract('PATCH', '/api/dmsmanager/v1/dms/contract-dms/metadata', 200, S.DMS, { patches: [{ op: 'replace', path: '/site', value: 'plant-8' }] });
    await contract('GET', '/api/dmsmanager/v1/stats', 200, S.DMSStats);
  });

  it('device manager: pre-registration with icon, lists, metadata, stats', async () => {
    await contract('POST', '/api/devmanager/v1/devices', 201, S.Device, { id: 'contract-dev-1', alias: 'pump', tags: ['iot'], metadata: { line: 7 }, dms_id: 'contract-dms', icon: 'CgSmartphoneChip', icon_color: '#0068D1-#FFFFFF' });
    await contract('GET', '/api/devmanager/v1/devices/contract-dev-1', 200, S.Device);
    await contract('GET', `/api/devmanager/v1/devices?sort_by=creation_timestamp&sort_mode=desc&filter=${q('tags[ct]iot')}`, 200, S.iterableList(S.Device));
    await contract('GET', '/api/devmanager/v1/devices/dms/contract-dms', 200, S.iterableList(S.Device));
    await contract('PATCH', '/api/devmanager/v1/devices/contract-dev-1/metadata', 200, S.Device, { patches: [{ op: 'add', path: '/shadow', value: { v: 1 } }] });
    await contract('GET', '/api/devmanager/v1/stats', 200, S.DeviceStats);
    await contract('GET', `/api/devmanager/v1/devices?filter=${q('metadata[jsonpath]$.line == 7')}`, 200, S.iterableList(S.Device));
  });

  it('identity: bind-identity, the slot in Lamassu\'s shape, PUT idslot, decommission and delete', async () => {
    const issue = async () => (await call('POST', '/api/ca/v1/cas/contract-enroll/certificates/sign', { csr: csr('contract-dev-1') })).body.serial_number as string;
    const first = await issue();
    const bound = await contract('POST', '/api/dmsmanager/v1/dms/bind-identity', 200, S.BindIdentityToDeviceOutput, { device_id: 'contract-dev-1', certificate_serial_number: first, bind_mode: 'RE-PROVISIONED' });
    assert.equal(bound.device.identity.versions[bound.device.identity.active_version], first);
    const device = await contract('GET', '/api/devmanager/v1/devices/contract-dev-1', 200, S.DeviceWithEvents);
    const second = await issue();
    const slot = device.identity;
    const updated = await contract('PUT', '/api/devmanager/v1/devices/contract-dev-1/idslot', 200, S.DeviceWithEvents, {
      status: 'ACTIVE',
      active_version: slot.active_version + 1,
      type: 'x509',
      versions: { ...slot.versions, [slot.active_version + 1]: second },
    });
    assert.equal(updated.identity.versions[updated.identity.active_version], second);
    await contract('DELETE', '/api/devmanager/v1/devices/contract-dev-1/decommission', 200, S.DeviceWithEvents);
    const gone = await call('DELETE', '/api/devmanager/v1/devices/contract-dev-1');
    assert.equal(gone.status, 204);
    checked.push('DELETE /api/devmanager/v1/devices/contract-dev-1');
  });

  it('alerts: latest events, subscribe, subscriptions, unsubscribe', async () => {
    await contract('GET', '/api/alerts/v1/events/latest', 200, { type: 'array', minItems: 1, items: S.AlertLatestEvent });
    const sub = await contract('POST', '/api/alerts/v1/user/contract-user/subscribe', 201, S.Subscription, {
      event_type: 'certificate.status.update',
      conditions: [{ type: 'JSON-PATH', condition: '$.data.serial_number' }],
      channel: { type: 'WEBHOOK', name: 'ops', config: { webhook_url: 'https://hooks.example.com/lamassu', webhook_method: 'POST' } },
    });
    await contract('GET', '/api/alerts/v1/user/contract-user/subscriptions', 200, { type: 'array', minItems: 1, items: S.Subscription });
    await contract('POST', `/api/alerts/v1/user/contract-user/unsubscribe/${sub.id}`, 200, { type: 'array', maxItems: 0, items: S.Subscription });
  });

  it('every checked route is listed as served in docs/lamassu-compatibility.md', async () => {
    const { readFileSync } = await import('node:fs');
    const doc = readFileSync(path.resolve(import.meta.dirname, '../../docs/lamassu-compatibility.md'), 'utf8');
    const served = new Set(
      [...doc.matchAll(/^\| ([A-Z/]+) \| `([^`]+)` \| (?:served|partly)/gm)].flatMap(([, m, p]) => m!.split('/').map((method) => `${method} ${p}`)),
    );
    const generic = (route: string) =>
      route
        .replace(/\/cas\/cn\/[^/]+/, '/cas/cn/{cn}')
        .replace(/\/cas\/(?!cn\/|import$)[^/]+/, '/cas/{id}')
        .replace(/\/stats\/[^/]+/, '/stats/{id}')
        .replace(/\/status\/[A-Z_]+$/, '/status/{status}')
        .replace(/\/certificates\/[0-9a-f]+(?=\/|$)/, '/certificates/{sn}')
        .replace(/\/roles\/[^/]+/, '/roles/{id}')
        .replace(/\/user\/[^/]+/, '/user/{userId}')
        .replace(/\/unsubscribe\/[^/]+/, '/unsubscribe/{subId}')
        .replace(/\/dms\/(?!dms|bind-identity)[^/?]+/, '/dms/{id}')
        .replace(/\/devices\/dms\/[^/]+/, '/devices/dms/{id}')
        .replace(/\/devices\/(?!dms)[^/]+/, '/devices/{id}');
    for (const route of new Set(checked.map(generic))) assert.ok(served.has(route), `${route} is checked here but not listed as served or partly`);
  });
});
