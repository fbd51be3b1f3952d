/**
 * The cloud proxy and the AWS IoT Core connector end to end: the real `lamassu serve` (SQLite, in-process bus)
 * with the ca, va, dms, devices, cloudproxy and aws-connector services, openssl and curl as the device's EST
 * client, and a local HTTP server standing in for AWS IoT Core (test/support/fake-aws-iot.ts; there is no AWS
 * here). The server's AWS SDK talks to the stand-in through AWS_ENDPOINT_URL_IOT(_DATA_PLANE) with test
 * credentials, and the stand-in checks every request's SigV4 signature.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { FakeAwsIot, fakeAwsEnv } from '../support/fake-aws-iot.ts';
import { startLamassu, type LamassuProcess } from '../support/lamassu-process.ts';
import { admin } from './est-server.ts';
import { until } from '../support/until.ts';

const run = promisify(execFile);
const CONNECTOR = 'aws-iot';
const KEY = `lamassu.io/iot/${CONNECTOR}`;
const POLICY = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:Connect', Resource: '*' }] };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ROLE = 'arn:aws:iam::123456789012:role/lamassu-jitp';
/** A JITP template as AWS documents them: the thing named after the certificate's CN, the certificate active, a policy. */
const TEMPLATE = {
  Parameters: { 'AWS::IoT::Certificate::CommonName': { Type: 'String' }, 'AWS::IoT::Certificate::Id': { Type: 'String' } },
  Resources: {
    thing: { Type: 'AWS::IoT::Thing', Properties: { ThingName: { Ref: 'AWS::IoT::Certificate::CommonName' } } },
    certificate: { Type: 'AWS::IoT::Certificate', Properties: { CertificateId: { Ref: 'AWS::IoT::Certificate::Id' }, Status: 'ACTIVE' } },
    policy: { Type: 'AWS::IoT::Policy', Properties: { PolicyName: 'lamassu-device' } },
  },
};
/** The AWS calls that change something (a synchronization that finds AWS in line makes none of them). */
const writes = (calls: { action: string }[]) => calls.map((c) => c.action).filter((a) => !/^(Describe|List|Get)/.test(a));

describe('cloud proxy and AWS IoT connector end to end (lamassu serve, EST with curl, AWS IoT stand-in)', { timeout: 240_000 }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lamassu-e2e-aws-'));
  const dataDir = mkdtempSync(path.join(tmpdir(), 'lamassu-e2e-aws-data-'));
  let aws: FakeAwsIot;
  let server: LamassuProcess | undefined;
  let env: Record<string, string>;

  before(async () => {
    aws = await FakeAwsIot.start();
    env = {
      LAMASSU_SERVICES: 'ca,va,dms,devices,cloudproxy,aws-connector',
      ...fakeAwsEnv(aws.url, dir),
      LAMASSU_AWS_RETRY_BASE: '250ms',
      LAMASSU_AWS_RETRY_MAX: '2s',
      LAMASSU_AWS_REQUEST_TIMEOUT: '2s',
      // Re-enrollment: a superseded certificate's device is looked at every 300 ms, and it is retired 8 s after at the latest.
      LAMASSU_AWS_ROTATION_CHECK: '300ms',
      LAMASSU_AWS_ROTATION_GRACE: '8s',
    };
    server = await startLamassu(env, { dataDir });
    await api('POST', '/api/ca/v1/cas', { id: 'fleet-ca', subject: { common_name: 'Fleet CA' }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration: '1y' }, metadata: { [KEY]: { register: true } } });
    await api('POST', '/api/dmsmanager/v1/dms', {
      id: 'aws-line',
      name: 'AWS line',
      authorized_cas: ['fleet-ca'],
      metadata: { [KEY]: { registration_mode: 'auto', policies: [{ policy_name: 'lamassu-device', policy_document: POLICY }], groups: ['fleet'] } },
      settings: {
        enrollment_settings: { enrollment_ca: 'fleet-ca', est_rfc7030_settings: { auth_mode: 'HTTP_BASIC', http_basic: { username: 'line', password: 'line password 1' } } },
        reenrollment_settings: { reenrollment_delta: '3650d' },
      },
    });
  });
  after(async () => {
    await server?.stop();
    await aws?.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  const api = async (method: string, url: string, body?: unknown, expect?: number) => (await admin(server!, method, url, body, expect)).json;
  const proxy = (method: string, url: string, body?: unknown, expect?: number) => api(method, `/api/cloudproxy/v1${url}`, body, expect);
  const openssl = async (...args: string[]) => (await run('openssl', args, { cwd: dir })).stdout;

  /** A device enrolls over EST (curl, HTTP Basic) with a CSR whose CN is its id; answers its certificate's serial. */
  async function enroll(deviceId: string): Promise<string> {
    await openssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${deviceId}.key`, '-subj', `/CN=${deviceId}`, '-outform', 'DER', '-out', `${deviceId}.csr`);
    const s = server!;
    const { stdout } = await run('curl', [
      '-sS', '--cacert', s.tlsCaFile, '--resolve', `localhost:${s.httpsPort}:127.0.0.1`, '-u', 'line:line password 1',
      '-H', 'Content-Type: application/pkcs10', '--data-binary', `@${deviceId}.csr`, '-o', `${deviceId}.p7.b64`, '-w', '%{http_code}',
      `https://localhost:${s.httpsPort}/.well-known/est/aws-line/simpleenroll`,
    ], { cwd: dir });
    assert.equal(stdout, '200', readFileSync(path.join(dir, `${deviceId}.p7.b64`), 'utf8'));
    await openssl('base64', '-d', '-in', `${deviceId}.p7.b64`, '-out', `${deviceId}.p7.der`);
    await openssl('pkcs7', '-inform', 'DER', '-in', `${deviceId}.p7.der`, '-print_certs', '-out', `${deviceId}.pem`);
    const serial = (await openssl('x509', '-in', `${deviceId}.pem`, '-noout', '-serial')).trim().split('=')[1]!.toLowerCase();
    return serial;
  }

  /** The device re-enrolls over EST with its current certificate (TLS client authentication); answers the new serial. */
  async function reenroll(deviceId: string, current: string, next: string): Promise<string> {
    await openssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${next}.key`, '-subj', `/CN=${deviceId}`, '-outform', 'DER', '-out', `${next}.csr`);
    const s = server!;
    const { stdout } = await run('curl', [
      '-sS', '--cacert', s.tlsCaFile, '--resolve', `localhost:${s.httpsPort}:127.0.0.1`, '--cert', `${current}.pem`, '--key', `${current}.key`,
      '-H', 'Content-Type: application/pkcs10', '--data-binary', `@${next}.csr`, '-o', `${next}.p7.b64`, '-w', '%{http_code}',
      `https://localhost:${s.httpsPort}/.well-known/est/aws-line/simplereenroll`,
    ], { cwd: dir });
    assert.equal(stdout, '200', readFileSync(path.join(dir, `${next}.p7.b64`), 'utf8'));
    await openssl('base64', '-d', '-in', `${next}.p7.b64`, '-out', `${next}.p7.der`);
    await openssl('pkcs7', '-inform', 'DER', '-in', `${next}.p7.der`, '-print_certs', '-out', `${next}.pem`);
    return (await openssl('x509', '-in', `${next}.pem`, '-noout', '-serial')).trim().split('=')[1]!.toLowerCase();
  }

  const same = (a: string, b: string) => a.replace(/^0+/, '').toLowerCase() === b.replace(/^0+/, '').toLowerCase();

  const awsCertOf = (deviceId: string) => {
    // pkcs7 -print_certs writes subject and issuer lines before the PEM block.
    const pem = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/.exec(readFileSync(path.join(dir, `${deviceId}.pem`), 'utf8'))![0];
    return [...aws.certificates.values()].find((c) => c.pem.replace(/\s/g, '') === pem.replace(/\s/g, ''));
  };
  const revoke = (serial: string, reason = 'KeyCompromise') => api('PUT', `/api/ca/v1/certificates/${serial}/status`, { status: 'REVOKED', revocation_reason: reason });

  it('registers itself in the cloud proxy; the API refuses unknown connectors and bad settings with stable codes; it is in the OpenAPI document', async () => {
    const list = (await proxy('GET', '/connectors')) as { id: string; type: string; status: string; backlog: number }[];
    const me = list.find((c) => c.id === CONNECTOR);
    assert.ok(me, JSON.stringify(list));
    assert.equal(me.type, 'AWS_IOT');
    assert.ok(['CONNECTED', 'DEGRADED', 'DISCONNECTED'].includes(me.status));
    await assert.rejects(proxy('GET', '/connectors/nope'), /404 .*CONNECTOR_NOT_FOUND/);
    await assert.rejects(proxy('PUT', `/connectors/${CONNECTOR}/config`, { shadow_name: 'bad name!' }), /400 .*CONNECTOR_CONFIG_INVALID/);
    await assert.rejects(proxy('PUT', `/connectors/${CONNECTOR}/config`, { region: 'x' }), /400 /);
    const configured = await proxy('PUT', `/connectors/${CONNECTOR}/config`, { enabled: true, shadow_name: 'lamassu' });
    assert.deepEqual(configured.config, { enabled: true, shadow_name: 'lamassu' });
    await assert.rejects(proxy('GET', `/connectors/${CONNECTOR}/devices/unknown-device`), /404 .*CLOUD_DEVICE_NOT_FOUND/);
    const doc = (await api('GET', '/api/docs/json')) as { paths: Record<string, unknown> };
    for (const p of ['/api/cloudproxy/v1/connectors', '/api/cloudproxy/v1/connectors/{id}', '/api/cloudproxy/v1/connectors/{id}/config', '/api/cloudproxy/v1/connectors/{id}/synchronize', '/api/cloudproxy/v1/connectors/{id}/devices/{deviceId}']) {
      assert.ok(doc.paths[p], `${p} in the OpenAPI document`);
    }
  });

  it('registers a CA in AWS with a verification certificate signed through our CA service, and a SNI_ONLY CA without one', async () => {
    const caPem = Buffer.from((await api('GET', '/api/ca/v1/cas/fleet-ca')).certificate.certificate, 'base64').toString('utf8');
    const registered = await until('fleet-ca registered in AWS', () => [...aws.cas.values()].find((c) => c.pem.replace(/\s/g, '') === caPem.replace(/\s/g, '')));
    assert.equal(registered.mode, 'DEFAULT');
    assert.equal(registered.status, 'ACTIVE');
    const call = aws.callsOf('RegisterCACertificate')[0]!;
    assert.match(String(call.input.verificationCertificate), /BEGIN CERTIFICATE/);
    assert.equal(aws.callsOf('GetRegistrationCode').length, 1);

    await api('POST', '/api/ca/v1/cas', { id: 'sni-ca', subject: { common_name: 'SNI CA' }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration: '1y' }, metadata: { [KEY]: { register: true, mode: 'SNI_ONLY' } } });
    const sni = await until('sni-ca registered', () => [...aws.cas.values()].find((c) => c.mode === 'SNI_ONLY'));
    assert.equal(aws.callsOf('GetRegistrationCode').length, 1, 'no registration code for SNI_ONLY');
    assert.equal(sni.status, 'ACTIVE');
    // A CA without the metadata key stays out of AWS.
    await api('POST', '/api/ca/v1/cas', { id: 'private-ca', subject: { common_name: 'Private CA' }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration: '1y' } });
    await sleep(500);
    assert.equal(aws.cas.size, 2);
    // Metadata added later (JSON Patch) asks for the registration then.
    await api('PATCH', '/api/ca/v1/cas/private-ca/metadata', { patches: [{ op: 'add', path: `/${KEY.replace(/\//g, '~1')}`, value: { register: true, mode: 'SNI_ONLY' } }] });
    await until('private-ca registered after its metadata changed', () => aws.cas.size === 3);
    assert.deepEqual(aws.badSignatures, []);
  });

  it('JITP: a CA whose metadata gives a provisioning template is registered with auto-registration and the template; a changed template or auto-registration follows (UpdateCACertificate)', async () => {
    await api('POST', '/api/ca/v1/cas', {
      id: 'jitp-ca',
      subject: { common_name: 'JITP CA' },
      key_metadata: { type: 'ECDSA', bits: 256 },
      ca_expiration: { type: 'Duration', duration: '1y' },
      metadata: { [KEY]: { register: true, provisioning: { template_body: TEMPLATE, role_arn: ROLE } } },
    });
    const caPem = Buffer.from((await api('GET', '/api/ca/v1/cas/jitp-ca')).certificate.certificate, 'base64').toString('utf8');
    const registered = await until('jitp-ca registered in AWS', () => [...aws.cas.values()].find((c) => c.pem.replace(/\s/g, '') === caPem.replace(/\s/g, '')));
    const call = aws.callsOf('RegisterCACertificate').find((c) => String(c.input.caCertificate).replace(/\s/g, '') === caPem.replace(/\s/g, ''))!;
    assert.equal(call.input.allowAutoRegistration, 'true', 'auto-registration asked for with the registration');
    const sent = call.input.registrationConfig as { templateBody: string; roleArn: string };
    assert.deepEqual(JSON.parse(sent.templateBody), TEMPLATE);
    assert.equal(sent.roleArn, ROLE);
    assert.equal(registered.autoRegistration, true);
    assert.equal(registered.status, 'ACTIVE');
    assert.deepEqual(JSON.parse(registered.registrationConfig!.templateBody!), TEMPLATE);

    // Another template (a JITP provisioning template by name): UpdateCACertificate with the new registration config.
    const pointer = `/${KEY.replace(/\//g, '~1')}`;
    await api('PATCH', '/api/ca/v1/cas/jitp-ca/metadata', { patches: [{ op: 'replace', path: `${pointer}/provisioning`, value: { template_name: 'fleet-jitp', role_arn: ROLE } }] });
    await until('template name pushed', () => registered.registrationConfig?.templateName === 'fleet-jitp');
    const update = aws.callsOf('UpdateCACertificate').find((c) => c.input.certificateId === registered.id)!;
    assert.deepEqual(update.input, { certificateId: registered.id, newStatus: null, newAutoRegistrationStatus: 'ENABLE', registrationConfig: { templateName: 'fleet-jitp', roleArn: ROLE } });
    // Auto-registration turned off (the template stays in AWS, unused).
    await api('PATCH', '/api/ca/v1/cas/jitp-ca/metadata', { patches: [{ op: 'add', path: `${pointer}/auto_registration`, value: false }] });
    await until('auto-registration disabled', () => registered.autoRegistration === false);
    // Metadata that changes nothing the connector follows queues nothing.
    const updates = aws.callsOf('UpdateCACertificate').length;
    await api('PATCH', '/api/ca/v1/cas/jitp-ca/metadata', { patches: [{ op: 'add', path: '/owner', value: 'ops' }] });
    await sleep(500);
    assert.equal(aws.callsOf('UpdateCACertificate').length, updates);
    // A template AWS would refuse (no role for a template body) fails its job with the reason, and nothing is sent.
    await api('PATCH', '/api/ca/v1/cas/jitp-ca/metadata', { patches: [{ op: 'replace', path: `${pointer}/provisioning`, value: { template_body: TEMPLATE } }] });
    const failed = await until('CA_CONFIG job failed', async () => {
      const me = await proxy('GET', `/connectors/${CONNECTOR}`);
      return me.failed === 1 && me;
    });
    assert.equal(failed.status, 'DEGRADED');
    assert.match(String(failed.status_detail), /template_body needs role_arn/);
    assert.equal(aws.callsOf('UpdateCACertificate').length, updates);
    await api('PATCH', '/api/ca/v1/cas/jitp-ca/metadata', { patches: [{ op: 'replace', path: `${pointer}/provisioning`, value: { template_body: TEMPLATE, role_arn: ROLE } }] });
    await until('template body back', () => registered.registrationConfig?.templateBody !== undefined && aws.callsOf('UpdateCACertificate').length === updates + 1);
    assert.deepEqual(aws.badSignatures, []);
  });

  it('an enrollment through the bound DMS creates the thing, registers the certificate with its CA, attaches the policy and the thing, puts it in its group', async () => {
    const serial = await enroll('dev-aws-1');
    const thing = await until('thing dev-aws-1', () => (aws.things.get('dev-aws-1')?.principals.size ? aws.things.get('dev-aws-1') : undefined));
    const cert = awsCertOf('dev-aws-1');
    assert.ok(cert, 'the enrolled certificate is in AWS');
    assert.equal(cert.status, 'ACTIVE');
    assert.ok(cert.caId, 'registered with its CA (RegisterCertificate), not without');
    assert.deepEqual([...thing.principals], [cert.arn]);
    assert.equal(thing.attributes.lamassu_dms, 'aws-line');
    await until('in group fleet', () => thing.groups.has('fleet'));
    assert.ok(aws.policies.get('lamassu-device')?.targets.has(cert.arn), 'policy attached to the certificate');
    assert.deepEqual(JSON.parse(aws.policies.get('lamassu-device')!.document), POLICY);

    const state = await proxy('GET', `/connectors/${CONNECTOR}/devices/dev-aws-1`);
    assert.ok(same(state.resources[0].key, serial), `${state.resources[0].key} is the serial ${serial} (openssl pads a leading zero nibble, the API does not)`);
    assert.equal(state.resources[0].status, 'ACTIVE');
    assert.equal(state.resources[0].arn, cert.arn);
    assert.equal(state.live.thing.thingName, 'dev-aws-1');
    assert.deepEqual(state.live.principals, [cert.arn]);
    assert.equal(state.jobs[0].status, 'DONE');
  });

  it("a DMS's changed policy document becomes the policy's new default version in AWS; at 5 versions the oldest is deleted first", async () => {
    const pointer = `/${KEY.replace(/\//g, '~1')}/policies/0/policy_document`;
    const doc = (n: number) => ({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:Connect', Resource: `arn:aws:iot:eu-west-1:123456789012:client/v${n}` }] });
    const policy = aws.policies.get('lamassu-device')!;
    assert.equal(policy.versions.length, 1);
    for (let n = 2; n <= 6; n++) {
      await api('PATCH', '/api/dmsmanager/v1/dms/aws-line/metadata', { patches: [{ op: 'replace', path: pointer, value: doc(n) }] });
      await until(`version ${n} the default`, () => (JSON.parse(aws.policies.get('lamassu-device')!.document) as { Statement: { Resource: string }[] }).Statement[0]!.Resource.endsWith(`/v${n}`));
    }
    const versions = aws.policies.get('lamassu-device')!.versions;
    assert.deepEqual(versions.map((v) => [v.versionId, v.isDefault]), [['2', false], ['3', false], ['4', false], ['5', false], ['6', true]]);
    assert.deepEqual(aws.callsOf('DeletePolicyVersion').map((c) => c.input), [{ policyName: 'lamassu-device', policyVersionId: '1' }]);
    assert.ok(aws.callsOf('CreatePolicyVersion').every((c) => c.input.setAsDefault === 'true'));
    assert.equal(aws.callsOf('CreatePolicyVersion').length, 5);
    // The same document again, or metadata the connector does not follow: no new version.
    await api('PATCH', '/api/dmsmanager/v1/dms/aws-line/metadata', { patches: [{ op: 'add', path: '/owner', value: 'ops' }] });
    await sleep(500);
    assert.equal(aws.callsOf('CreatePolicyVersion').length, 5);
    // The next device is enrolled under the current document without asking AWS about the policy again.
    const gets = aws.callsOf('GetPolicy').length;
    await enroll('dev-aws-policy');
    await until('dev-aws-policy in AWS', () => aws.things.get('dev-aws-policy')?.principals.size);
    assert.equal(aws.callsOf('GetPolicy').length, gets);
    assert.ok(aws.policies.get('lamassu-device')!.targets.has(awsCertOf('dev-aws-policy')!.arn));
  });

  it('a revocation here is REVOKED there within 2 s; a hold is INACTIVE there and a release ACTIVE again', async () => {
    const held = await enroll('dev-aws-hold');
    await until('dev-aws-hold in AWS', () => aws.things.get('dev-aws-hold')?.principals.size);
    await revoke(held, 'CertificateHold');
    await until('hold -> INACTIVE', () => awsCertOf('dev-aws-hold')?.status === 'INACTIVE', 2000);
    await api('PUT', `/api/ca/v1/certificates/${held}/status`, { status: 'ACTIVE' });
    await until('release -> ACTIVE', () => awsCertOf('dev-aws-hold')?.status === 'ACTIVE', 2000);

    const serial = await enroll('dev-aws-2');
    await until('dev-aws-2 in AWS', () => aws.things.get('dev-aws-2')?.principals.size);
    const at = Date.now();
    await revoke(serial);
    await until('REVOKED in AWS', () => awsCertOf('dev-aws-2')?.status === 'REVOKED', 2000);
    assert.ok(Date.now() - at < 2000);
    assert.equal(aws.callsOf('UpdateCertificate').filter((c) => c.input.certificateId === awsCertOf('dev-aws-2')!.id).length, 1);
  });

  it('a shadow request asks the device to re-enroll through its "lamassu" named shadow; its reported state is read back', async () => {
    await enroll('dev-aws-3');
    await until('dev-aws-3 in AWS', () => aws.things.get('dev-aws-3')?.principals.size);
    const job = await proxy('POST', `/connectors/${CONNECTOR}/devices/dev-aws-3/reenroll`, undefined, 202);
    assert.equal(job.kind, 'SHADOW');
    const shadow = await until('shadow written', () => aws.shadows.get('dev-aws-3/lamassu') as { state: { desired: { identity_actions: Record<string, number> } } } | undefined);
    assert.equal(typeof shadow.state.desired.identity_actions.UPDATE_CERTIFICATE, 'number');
    aws.report('dev-aws-3', 'lamassu', { identity: { serial: 'abc' } });
    const state = await proxy('GET', `/connectors/${CONNECTOR}/devices/dev-aws-3`);
    assert.deepEqual(state.live.shadow.state.reported, { identity: { serial: 'abc' } });
    assert.equal(state.live.shadow.name, 'lamassu');
    await assert.rejects(proxy('POST', `/connectors/${CONNECTOR}/devices/nobody/reenroll`), /404 .*CLOUD_DEVICE_NOT_FOUND/);
  });

  it('a re-enrollment registers the new certificate at once; the old one stays ACTIVE until the device reports the new serial in its shadow, then is revoked and detached there', async () => {
    const oldSerial = await enroll('dev-aws-re');
    await until('dev-aws-re in AWS', () => aws.things.get('dev-aws-re')?.principals.size);
    const old = awsCertOf('dev-aws-re')!;
    const newSerial = await reenroll('dev-aws-re', 'dev-aws-re', 'dev-aws-re-2');
    const thing = aws.things.get('dev-aws-re')!;
    await until('new certificate attached', () => thing.principals.size === 2);
    const renewed = awsCertOf('dev-aws-re-2')!;
    assert.equal(renewed.status, 'ACTIVE');
    assert.ok(aws.policies.get('lamassu-device')!.targets.has(renewed.arn));
    // Revoked here as superseded, but the device may still be connected with it: still usable there.
    assert.equal((await api('GET', `/api/ca/v1/certificates/${oldSerial}`)).status, 'REVOKED');
    await sleep(1000);
    assert.equal(old.status, 'ACTIVE');
    assert.ok(thing.principals.has(old.arn));
    const pending = (await proxy('GET', `/connectors/${CONNECTOR}/devices/dev-aws-re`)).resources.find((r: { key: string }) => same(r.key, oldSerial));
    assert.ok(pending.recheck_at, 'a check of the device is pending');
    assert.ok(same(pending.details.superseded_by, newSerial));

    // The device connects with its new certificate and says so in its shadow.
    aws.report('dev-aws-re', 'lamassu', { identity: { serial_number: newSerial.toUpperCase().match(/.{1,2}/g)!.join(':') } });
    await until('old certificate retired', () => old.status === 'REVOKED' && !thing.principals.has(old.arn), 4000);
    assert.deepEqual([...thing.principals], [renewed.arn]);
    assert.equal(renewed.status, 'ACTIVE');
    // Recorded a moment after the calls to AWS.
    const retired = await until('the rotation recorded', async () =>
      (await proxy('GET', `/connectors/${CONNECTOR}/devices/dev-aws-re`)).resources.find((r: { key: string; details: { rotation?: unknown } }) => same(r.key, oldSerial) && r.details.rotation), 4000);
    assert.equal(retired.details.rotation.because, 'in_use');
    assert.equal(retired.recheck_at, null);
    assert.equal(aws.callsOf('UpdateCertificate').filter((c) => c.input.certificateId === old.id).length, 1, 'revoked there once');
  });

  it('a re-enrolled device never seen with its new certificate: the old one is retired there when the grace period (8 s here) is over', async () => {
    await enroll('dev-aws-quiet');
    await until('dev-aws-quiet in AWS', () => aws.things.get('dev-aws-quiet')?.principals.size);
    const old = awsCertOf('dev-aws-quiet')!;
    const at = Date.now();
    await reenroll('dev-aws-quiet', 'dev-aws-quiet', 'dev-aws-quiet-2');
    await until('new certificate attached', () => aws.things.get('dev-aws-quiet')!.principals.size === 2);
    await until('old certificate revoked there after the grace period', () => old.status === 'REVOKED', 15_000);
    assert.ok(Date.now() - at >= 7000, `retired after ${Date.now() - at} ms, before the grace period`);
    // Revoked, then detached, then recorded: three steps, the last two a moment after the first.
    await until('old certificate detached', () => !aws.things.get('dev-aws-quiet')!.principals.has(old.arn), 4000);
    assert.deepEqual([...aws.things.get('dev-aws-quiet')!.principals], [awsCertOf('dev-aws-quiet-2')!.arn]);
    const retired = await until('the rotation recorded', async () =>
      (await proxy('GET', `/connectors/${CONNECTOR}/devices/dev-aws-quiet`)).resources.find((r: { details: { rotation?: unknown } }) => r.details.rotation), 4000);
    assert.equal(retired.details.rotation.because, 'grace_expired');
  });

  it('decommissioning a device revokes its certificate in AWS and detaches it from the thing', async () => {
    await enroll('dev-aws-4');
    await until('dev-aws-4 in AWS', () => aws.things.get('dev-aws-4')?.principals.size);
    await api('DELETE', '/api/devmanager/v1/devices/dev-aws-4/decommission');
    await until('detached', () => aws.things.get('dev-aws-4')?.principals.size === 0);
    assert.equal(awsCertOf('dev-aws-4')?.status, 'REVOKED');
    assert.equal(aws.callsOf('UpdateCertificate').filter((c) => c.input.certificateId === awsCertOf('dev-aws-4')!.id).length, 1, 'revoked once');
  });

  it('AWS away for 30 s (and the server restarted meanwhile): a backlog builds, then drains in order; nothing lost, nothing done twice', async () => {
    const before = aws.calls.length;
    const downAt = Date.now();
    await aws.down();
    const a = await enroll('dev-aws-5');
    const b = await enroll('dev-aws-6');
    await revoke(a);
    const c = await enroll('dev-aws-7');
    await api('DELETE', '/api/devmanager/v1/devices/dev-aws-7/decommission');
    // Three enrollments, two revocations (one by the decommission), one decommission.
    const waiting = await until('DISCONNECTED with a backlog of 6', async () => {
      const me = await proxy('GET', `/connectors/${CONNECTOR}`);
      return me.status === 'DISCONNECTED' && me.backlog === 6 && me;
    });

    // The backlog is in the database: a restart keeps it.
    await server!.stop();
    server = await startLamassu(env, { dataDir });
    assert.equal((await proxy('GET', `/connectors/${CONNECTOR}`)).backlog, waiting.backlog);

    await sleep(Math.max(0, 30_000 - (Date.now() - downAt)));
    assert.equal(aws.calls.length, before, 'nothing reached AWS while it was away');
    await aws.up();
    await until('backlog drained', async () => {
      const me = await proxy('GET', `/connectors/${CONNECTOR}`);
      return me.backlog === 0 && me.status === 'CONNECTED';
    }, 20_000);

    assert.equal(awsCertOf('dev-aws-5')?.status, 'REVOKED');
    assert.equal(awsCertOf('dev-aws-6')?.status, 'ACTIVE');
    assert.equal(awsCertOf('dev-aws-7')?.status, 'REVOKED');
    assert.equal(aws.things.get('dev-aws-7')?.principals.size, 0);
    assert.equal(aws.things.get('dev-aws-6')?.principals.size, 1);
    const during = aws.calls.slice(before);
    for (const action of ['CreateThing', 'RegisterCertificate', 'AttachThingPrincipal', 'AddThingToThingGroup']) {
      const keys = during.filter((x) => x.action === action).map((x) => JSON.stringify(x.input));
      assert.equal(new Set(keys).size, keys.length, `${action} done twice: ${keys.join('\n')}`);
      assert.equal(keys.length, 3, `${action} once per device`);
    }
    const updates = during.filter((x) => x.action === 'UpdateCertificate').map((x) => JSON.stringify(x.input));
    assert.equal(updates.length, 2, updates.join('\n'));
    assert.equal(new Set(updates).size, 2);
    const serials = (await proxy('GET', `/connectors/${CONNECTOR}/devices/dev-aws-6`)).resources.map((r: { key: string }) => r.key.replace(/^0+/, ''));
    assert.deepEqual(serials, [b.replace(/^0+/, '')]);
    assert.ok(c);
    assert.deepEqual(aws.badSignatures, []);
  });

  it('a synchronization (CAs, then certificates) reads AWS, finds it in line and changes nothing; the last synchronization is recorded', async () => {
    const before = aws.calls.length;
    const job = await proxy('POST', `/connectors/${CONNECTOR}/synchronize`, undefined, 202);
    assert.equal(job.kind, 'SYNC');
    const me = await until('synchronized', async () => {
      const c = await proxy('GET', `/connectors/${CONNECTOR}`);
      return c.last_sync_at && c.backlog === 0 && c;
    });
    assert.ok(Date.parse(me.last_sync_at) > 0);
    const during = aws.calls.slice(before);
    assert.deepEqual(writes(during), []);
    assert.ok(during.some((c) => c.action === 'DescribeCACertificate') && during.some((c) => c.action === 'DescribeCertificate') && during.some((c) => c.action === 'ListThingPrincipals'), 'it asked AWS');
    const done = await proxy('GET', `/connectors/${CONNECTOR}/jobs/${job.id}`);
    assert.equal(done.status, 'DONE');
    assert.equal(done.result.certificates_checked, aws.certificates.size);
    assert.equal(done.result.cas_checked, aws.cas.size);
    for (const k of ['cas_registered', 'cas_updated', 'certificates_registered', 'certificates_updated', 'certificates_unrepairable', 'things_created', 'principals_attached', 'principals_detached', 'policies_updated']) assert.equal(done.result[k], 0, k);
    await assert.rejects(proxy('GET', `/connectors/${CONNECTOR}/jobs/nope`), /404 .*CONNECTOR_JOB_NOT_FOUND/);
  });

  it('a synchronization repairs what was changed by hand in AWS (a revoked certificate active there, a thing deleted, a certificate deleted, a CA deactivated, a policy version) and reports the counts', async () => {
    const revoked = awsCertOf('dev-aws-2')!;
    revoked.status = 'ACTIVE';
    aws.things.delete('dev-aws-6');
    const gone = awsCertOf('dev-aws-1')!;
    aws.things.get('dev-aws-1')!.principals.delete(gone.arn);
    aws.certificates.delete(gone.id);
    const fleetPem = Buffer.from((await api('GET', '/api/ca/v1/cas/fleet-ca')).certificate.certificate, 'base64').toString('utf8');
    const fleet = [...aws.cas.values()].find((c) => c.pem.replace(/\s/g, '') === fleetPem.replace(/\s/g, ''))!;
    fleet.status = 'INACTIVE';
    const policy = aws.policies.get('lamassu-device')!;
    const ours = policy.document;
    for (const v of policy.versions) v.isDefault = false;
    policy.versions.push({ versionId: '99', document: JSON.stringify({ Version: '2012-10-17', Statement: [] }), isDefault: true, createDate: Date.now() / 1000 });
    policy.versions.splice(0, 1);
    policy.document = policy.versions.at(-1)!.document;

    const before = aws.calls.length;
    const job = await proxy('POST', `/connectors/${CONNECTOR}/synchronize?wait=60`, undefined, 200);
    assert.equal(job.status, 'DONE', JSON.stringify(job));
    assert.equal(job.result.certificates_updated, 1);
    assert.equal(job.result.certificates_registered, 1);
    assert.equal(job.result.things_created, 1);
    assert.equal(job.result.principals_attached, 2);
    assert.equal(job.result.cas_updated, 1);
    assert.equal(job.result.policies_updated, 1);
    assert.equal(job.result.certificates_unrepairable, 0);

    assert.equal(revoked.status, 'REVOKED');
    const recreated = aws.things.get('dev-aws-6')!;
    assert.deepEqual([...recreated.principals], [awsCertOf('dev-aws-6')!.arn]);
    assert.equal(recreated.attributes.lamassu_dms, 'aws-line');
    const back = awsCertOf('dev-aws-1')!;
    assert.equal(back.status, 'ACTIVE');
    assert.ok(back.caId, 'registered again with its CA');
    assert.ok(aws.things.get('dev-aws-1')!.principals.has(back.arn));
    assert.ok(aws.policies.get('lamassu-device')!.targets.has(back.arn));
    assert.equal(fleet.status, 'ACTIVE');
    assert.equal(aws.policies.get('lamassu-device')!.document, ours);
    assert.deepEqual(aws.calls.slice(before).filter((c) => c.action === 'UpdateCertificate').map((c) => c.input), [{ certificateId: revoked.id, newStatus: 'REVOKED' }]);

    // AWS is in line again.
    const again = await proxy('POST', `/connectors/${CONNECTOR}/synchronize?wait=60`, undefined, 200);
    for (const k of ['cas_updated', 'certificates_registered', 'certificates_updated', 'things_created', 'principals_attached', 'policies_updated']) assert.equal(again.result[k], 0, k);
    assert.deepEqual(aws.badSignatures, []);
  });
});
