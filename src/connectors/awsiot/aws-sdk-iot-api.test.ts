/**
 * The SDK adapter against the AWS IoT stand-in (test/support/fake-aws-iot.ts; there is no AWS here): every call
 * the connector makes goes through the real AWS SDK v3 with SigV4, and the stand-in verifies each signature.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FAKE_AWS_CREDENTIALS, FAKE_AWS_REGION, FakeAwsIot } from '../../../test/support/fake-aws-iot.ts';
import { AwsCallError } from './aws-iot-api.ts';
import { AwsSdkIotApi, awsCertificateId } from './aws-sdk-iot-api.ts';

describe('AwsSdkIotApi against the AWS IoT stand-in', () => {
  let fake: FakeAwsIot;
  let api: AwsSdkIotApi;
  const dir = mkdtempSync(path.join(tmpdir(), 'lamassu-aws-api-'));
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
  const pki: { ca: string; device: string; verification: (cn: string) => string } = {} as never;

  before(async () => {
    fake = await FakeAwsIot.start();
    process.env.AWS_ACCESS_KEY_ID = FAKE_AWS_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = FAKE_AWS_CREDENTIALS.secretAccessKey;
    api = new AwsSdkIotApi({ region: FAKE_AWS_REGION, iotEndpoint: fake.url, iotDataEndpoint: fake.url, requestTimeoutMs: 2000 });
    const o = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    o('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/CN=Test CA', '-days', '2', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
    const issue = (name: string, cn: string) => {
      o('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
      o('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '1');
      return readFileSync(path.join(dir, `${name}.pem`), 'utf8');
    };
    pki.ca = readFileSync(path.join(dir, 'ca.pem'), 'utf8');
    pki.device = issue('device', 'device-1');
    pki.verification = (cn) => issue('verification', cn);
  });
  after(async () => {
    api?.close();
    await fake?.close();
    rmSync(dir, { recursive: true, force: true });
    process.env.AWS_ACCESS_KEY_ID = saved.id;
    process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
    if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
    if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
  });

  it('registers a CA with a verification certificate, then a device certificate with it; a repeat is recognised, not an error', async () => {
    const code = await api.getRegistrationCode();
    const ca = await api.registerCaCertificate({ caCertificatePem: pki.ca, verificationCertificatePem: pki.verification(code), allowAutoRegistration: false });
    assert.equal(ca.certificateId, awsCertificateId(pki.ca));
    assert.equal(ca.existed, false);
    const again = await api.registerCaCertificate({ caCertificatePem: pki.ca, verificationCertificatePem: pki.verification(code), allowAutoRegistration: false });
    assert.deepEqual(again, { ...ca, existed: true });

    await api.createThing({ thingName: 'device-1', attributes: { model: 'x1' } });
    const cert = await api.registerCertificate({ certificatePem: pki.device, caCertificatePem: pki.ca, status: 'ACTIVE' });
    assert.equal(fake.certificates.get(cert.certificateId)?.status, 'ACTIVE');
    await api.createPolicy({ policyName: 'devices', policyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [] }) });
    await api.createPolicy({ policyName: 'devices', policyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: '*', Resource: '*' }] }) });
    assert.equal(JSON.parse(fake.policies.get('devices')!.document).Statement.length, 0, 'an existing policy is left as it is');
    await api.attachPolicy({ policyName: 'devices', target: cert.certificateArn });
    await api.attachThingPrincipal({ thingName: 'device-1', principal: cert.certificateArn });
    await api.createThingGroup({ thingGroupName: 'fleet' });
    await api.addThingToThingGroup({ thingGroupName: 'fleet', thingName: 'device-1' });
    assert.deepEqual(await api.listThingPrincipals('device-1'), [cert.certificateArn]);
    await api.updateCertificate({ certificateId: cert.certificateId, newStatus: 'REVOKED' });
    assert.equal(fake.certificates.get(cert.certificateId)?.status, 'REVOKED');
    await api.detachThingPrincipal({ thingName: 'device-1', principal: cert.certificateArn });
    assert.deepEqual(await api.listThingPrincipals('device-1'), []);
    assert.equal((await api.describeThing('device-1'))?.thingName, 'device-1');
    assert.equal(await api.describeThing('nobody'), undefined);
    assert.deepEqual(fake.badSignatures, []);
  });

  it('describes CA and device certificates; sets and reads back auto-registration and a JITP template; unknown ids are undefined', async () => {
    const caId = awsCertificateId(pki.ca);
    const template = JSON.stringify({ Parameters: { 'AWS::IoT::Certificate::CommonName': { Type: 'String' } }, Resources: { thing: { Type: 'AWS::IoT::Thing', Properties: { ThingName: { Ref: 'AWS::IoT::Certificate::CommonName' } } } } });
    const roleArn = 'arn:aws:iam::123456789012:role/lamassu-jitp';
    assert.deepEqual(await api.describeCaCertificate(caId), { status: 'ACTIVE', autoRegistrationStatus: 'DISABLE', registrationConfig: null, mode: 'DEFAULT' });
    await api.updateCaCertificate({ certificateId: caId, newAutoRegistrationStatus: 'ENABLE', registrationConfig: { templateBody: template, roleArn } });
    assert.deepEqual(await api.describeCaCertificate(caId), { status: 'ACTIVE', autoRegistrationStatus: 'ENABLE', registrationConfig: { templateBody: template, roleArn }, mode: 'DEFAULT' });
    assert.deepEqual(fake.callsOf('UpdateCACertificate').at(-1)!.input, { certificateId: caId, newStatus: null, newAutoRegistrationStatus: 'ENABLE', registrationConfig: { templateBody: template, roleArn } });
    await assert.rejects(api.updateCaCertificate({ certificateId: caId, registrationConfig: { templateBody: '{"no":"resources"}', roleArn } }), (e: unknown) => e instanceof AwsCallError && e.kind === 'permanent' && e.awsCode === 'InvalidRequestException');
    assert.equal(await api.describeCaCertificate('0'.repeat(64)), undefined);

    const device = awsCertificateId(pki.device);
    assert.deepEqual(await api.describeCertificate(device), { status: 'REVOKED', caCertificateId: caId });
    assert.equal(await api.describeCertificate('f'.repeat(64)), undefined);
    assert.deepEqual(fake.badSignatures, []);
  });

  it('policy versions: the default version read back, new default versions, at most 5 (the oldest deleted first), the default never deleted', async () => {
    const doc = (n: number) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:Connect', Resource: `arn:aws:iot:eu-west-1:123456789012:client/v${n}` }] });
    await api.createPolicy({ policyName: 'versioned', policyDocument: doc(1) });
    assert.deepEqual(await api.getPolicy('versioned'), { document: doc(1), defaultVersionId: '1' });
    assert.equal(await api.getPolicy('nope'), undefined);
    for (let n = 2; n <= 5; n++) assert.equal(await api.createPolicyVersion({ policyName: 'versioned', policyDocument: doc(n) }), String(n));
    assert.deepEqual(await api.getPolicy('versioned'), { document: doc(5), defaultVersionId: '5' });
    await assert.rejects(api.createPolicyVersion({ policyName: 'versioned', policyDocument: doc(6) }), (e: unknown) => e instanceof AwsCallError && e.kind === 'permanent' && e.awsCode === 'VersionsLimitExceededException');
    const versions = await api.listPolicyVersions('versioned');
    assert.deepEqual(versions.map((v) => [v.versionId, v.isDefault]), [['1', false], ['2', false], ['3', false], ['4', false], ['5', true]]);
    assert.ok(versions[0]!.createdAt instanceof Date);
    await assert.rejects(api.deletePolicyVersion({ policyName: 'versioned', versionId: '5' }), (e: unknown) => e instanceof AwsCallError && e.awsCode === 'DeleteConflictException');
    await api.deletePolicyVersion({ policyName: 'versioned', versionId: '1' });
    await api.deletePolicyVersion({ policyName: 'versioned', versionId: '1' });
    assert.equal(await api.createPolicyVersion({ policyName: 'versioned', policyDocument: doc(6) }), '6');
    assert.deepEqual(fake.callsOf('CreatePolicyVersion').at(-1)!.input, { policyName: 'versioned', setAsDefault: 'true', policyDocument: doc(6) });
    assert.deepEqual(fake.badSignatures, []);
  });

  it('writes and reads a named shadow on the data plane (signed for iotdata)', async () => {
    await api.updateThingShadow({ thingName: 'device-1', shadowName: 'lamassu', payload: { state: { desired: { identity_actions: { UPDATE_CERTIFICATE: 1 } } } } });
    const shadow = await api.getThingShadow({ thingName: 'device-1', shadowName: 'lamassu' });
    assert.deepEqual((shadow?.state as { desired: unknown }).desired, { identity_actions: { UPDATE_CERTIFICATE: 1 } });
    assert.equal(await api.getThingShadow({ thingName: 'device-1', shadowName: 'other' }), undefined);
    assert.deepEqual(fake.badSignatures, []);
  });

  it('classifies failures: refused for good, signed with the wrong secret, AWS unreachable', async () => {
    await assert.rejects(api.attachPolicy({ policyName: 'missing', target: 'arn:x' }), (e: unknown) => e instanceof AwsCallError && e.kind === 'permanent' && e.awsCode === 'ResourceNotFoundException');
    const wrong = new AwsSdkIotApi({ region: FAKE_AWS_REGION, iotEndpoint: fake.url, requestTimeoutMs: 2000 });
    process.env.AWS_SECRET_ACCESS_KEY = 'not-the-secret';
    try {
      await assert.rejects(wrong.getRegistrationCode(), (e: unknown) => e instanceof AwsCallError && e.kind === 'permanent');
      assert.match(fake.badSignatures.at(-1) ?? '', /signature does not match/);
    } finally {
      process.env.AWS_SECRET_ACCESS_KEY = FAKE_AWS_CREDENTIALS.secretAccessKey;
      wrong.close();
    }
    await fake.down();
    try {
      await assert.rejects(api.getRegistrationCode(), (e: unknown) => e instanceof AwsCallError && e.kind === 'unreachable');
    } finally {
      await fake.up();
    }
    assert.equal(typeof (await api.getRegistrationCode()), 'string');
  });
});
