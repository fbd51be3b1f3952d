/**
 * The AWS IoT connector's logic over real storage (SQLite) with a scripted in-memory AWS: which events queue
 * jobs, that a redelivered event queues nothing, that jobs run in order, that a failure that may pass keeps
 * the job at the head and is retried without repeating the steps already done, and that a refusal fails only
 * its own job. (The SDK adapter and the wire protocol are tested against the AWS stand-in elsewhere.)
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { CloudLamassuGateway } from '../../domain/cloud/lamassu-gateway.ts';
import { systemClock } from '../../domain/ports/clock.ts';
import type { CloudEvent } from '../../domain/ports/event-bus.ts';
import { silentLogger } from '../../domain/ports/logger.ts';
import { MemoryEventBus } from '../../engines/eventbus/memory-event-bus.ts';
import { openTestStorage } from '../../../test/support/storage.ts';
import { AwsCallError, type AwsIotApi } from './aws-iot-api.ts';
import { AwsIotConnector } from './aws-iot-connector.ts';

const PEM = (s: string) => `-----BEGIN CERTIFICATE-----\n${Buffer.from(s).toString('base64')}\n-----END CERTIFICATE-----\n`;

/** AWS in memory: records calls; `failNext(action, kind, times)` makes the next calls of an action fail. */
function scriptedAws() {
  const calls: string[] = [];
  /** Inputs of the calls that change a CA, in order. */
  const caUpdates: unknown[] = [];
  /** Named shadows by thing name: what a device reported. */
  const shadows = new Map<string, Record<string, unknown>>();
  const failures = new Map<string, { kind: 'unreachable' | 'permanent'; times: number }>();
  const maybeFail = (action: string) => {
    const f = failures.get(action);
    if (f && f.times > 0) {
      f.times--;
      throw new AwsCallError(f.kind, action, f.kind === 'unreachable' ? 'ECONNREFUSED' : 'InvalidRequestException', 'scripted');
    }
    calls.push(action);
  };
  const api: AwsIotApi = {
    getRegistrationCode: async () => (maybeFail('GetRegistrationCode'), 'code'),
    registerCaCertificate: async () => (maybeFail('RegisterCACertificate'), { certificateId: 'ca-id', certificateArn: 'arn:ca', existed: false }),
    updateCaCertificate: async (i) => (maybeFail('UpdateCACertificate'), void caUpdates.push(i)),
    describeCaCertificate: async () => (maybeFail('DescribeCACertificate'), { status: 'ACTIVE', autoRegistrationStatus: 'DISABLE', registrationConfig: null, mode: 'SNI_ONLY' }),
    describeCertificate: async () => (maybeFail('DescribeCertificate'), { status: 'ACTIVE', caCertificateId: null }),
    createThing: async () => (maybeFail('CreateThing'), { thingArn: 'arn:thing', existed: false }),
    registerCertificate: async (i) => (maybeFail(i.caCertificatePem ? 'RegisterCertificate' : 'RegisterCertificateWithoutCA'), { certificateId: `id-${i.certificatePem.length}`, certificateArn: `arn:cert:${i.certificatePem.length}`, existed: false }),
    updateCertificate: async (i) => maybeFail(`UpdateCertificate:${i.newStatus}`),
    createPolicy: async () => maybeFail('CreatePolicy'),
    getPolicy: async () => (maybeFail('GetPolicy'), undefined),
    listPolicyVersions: async () => (maybeFail('ListPolicyVersions'), []),
    createPolicyVersion: async () => (maybeFail('CreatePolicyVersion'), '2'),
    deletePolicyVersion: async () => maybeFail('DeletePolicyVersion'),
    attachPolicy: async () => maybeFail('AttachPolicy'),
    attachThingPrincipal: async () => maybeFail('AttachThingPrincipal'),
    detachThingPrincipal: async () => maybeFail('DetachThingPrincipal'),
    createThingGroup: async () => maybeFail('CreateThingGroup'),
    addThingToThingGroup: async () => maybeFail('AddThingToThingGroup'),
    describeThing: async () => ({}),
    listThingPrincipals: async () => [],
    dataEndpoint: async () => 'https://data',
    updateThingShadow: async () => maybeFail('UpdateThingShadow'),
    getThingShadow: async (i) => shadows.get(i.thingName),
  };
  return { api, calls, caUpdates, shadows, failNext: (action: string, kind: 'unreachable' | 'permanent', times = 1) => failures.set(action, { kind, times }) };
}

/** CA metadata by id (a test changes it, then sends ca.metadata.update). */
const caMetadata = new Map<string, Record<string, unknown>>([['bound-ca', { 'lamassu.io/iot/aws': { register: true, mode: 'SNI_ONLY' } }]]);

const lamassu: CloudLamassuGateway = {
  ca: async (id) => ({ id, status: 'ACTIVE', metadata: caMetadata.get(id) ?? {}, certificatePem: PEM(id) }),
  cas: async () => [],
  dmsMetadata: async (id) => (id === 'bound-dms' ? { 'lamassu.io/iot/aws': { policies: ['p1'], groups: ['g1'] } } : {}),
  device: async (id) => ({ id, dmsId: 'bound-dms', status: 'ACTIVE', tags: [], metadata: { model: 'x' }, activeCertificates: [] }),
  certificate: async (serial) => ({ serialNumber: serial, issuerCaId: 'ca', status: 'ACTIVE', revocationReason: null, pem: PEM(`cert-${serial}`) }),
  verificationCertificate: async () => PEM('verification'),
};

const ev = (type: string, data: Record<string, unknown>, id = randomUUID()): CloudEvent => ({ specversion: '1.0', id, source: 'test', type, time: new Date().toISOString(), data });
const enrolled = (device: string, serial: string, dms = 'bound-dms') => ev('dms.enroll', { dms_id: dms, device_id: device, serial_number: serial, ca_id: 'ca', slot: 'default' });

describe('AWS IoT connector: events to jobs, jobs in order with retries', () => {
  let opened: Awaited<ReturnType<typeof openTestStorage>>;
  let aws: ReturnType<typeof scriptedAws>;
  let connector: AwsIotConnector;
  let stop: () => Promise<void>;
  const bus = new MemoryEventBus(silentLogger);

  before(async () => {
    opened = await openTestStorage('sqlite');
    aws = scriptedAws();
    connector = new AwsIotConnector({
      id: 'aws',
      repo: opened.storage.connectors,
      leases: opened.storage.leases,
      api: aws.api,
      lamassu,
      clock: systemClock,
      random: { uuid: () => randomUUID(), bytes: (n) => new Uint8Array(n) },
      logger: silentLogger,
      holder: 'test',
      retry: { baseMs: 20, maxMs: 100 },
      settings: {},
      pollMs: 20,
      rotation: { checkMs: 30, graceMs: 1500 },
    });
    stop = await connector.start(bus);
  });
  after(async () => {
    await stop?.();
    await bus.close();
    await opened?.dispose();
  });

  const idle = async () => {
    for (let i = 0; i < 200; i++) {
      const c = (await opened.storage.connectors.get('aws'))!;
      if (c.backlog === 0) return c;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.fail('backlog not drained');
  };

  it('queues jobs only for bound CAs, bound DMSs and certificates it enrolled; a redelivered event queues nothing', async () => {
    assert.equal(await connector.handleEvent(ev('ca.create', { id: 'plain-ca' })), 0);
    const created = ev('ca.create', { id: 'bound-ca' });
    assert.equal(await connector.handleEvent(created), 1);
    assert.equal(await connector.handleEvent(created), 0, 'redelivered');
    assert.equal(await connector.handleEvent(enrolled('dev-x', 'aa', 'other-dms')), 0);
    assert.equal(await connector.handleEvent(ev('certificate.status.update', { serial_number: 'zz', status: 'REVOKED', revocation_reason: 'KeyCompromise' })), 0, 'not a certificate it enrolled');
    assert.equal(await connector.handleEvent(ev('device.decommission', { id: 'dev-x' })), 0);
    await idle();
    assert.deepEqual(aws.calls.splice(0), ['RegisterCACertificate'], 'SNI_ONLY: no registration code');
  });

  it('an enrollment runs its steps once even when AWS goes away half-way; later jobs wait for it', async () => {
    aws.failNext('RegisterCertificateWithoutCA', 'unreachable', 3);
    await connector.handleEvent(enrolled('dev-1', '01'));
    await connector.handleEvent(ev('certificate.status.update', { serial_number: '01', status: 'REVOKED', revocation_reason: 'CertificateHold' }));
    const c = await idle();
    assert.equal(c.status, 'CONNECTED');
    assert.deepEqual(aws.calls.splice(0), ['CreateThing', 'RegisterCertificateWithoutCA', 'AttachPolicy', 'AttachThingPrincipal', 'CreateThingGroup', 'AddThingToThingGroup', 'UpdateCertificate:INACTIVE']);
    const jobs = await opened.storage.connectors.listJobs('aws', { key: '01', kind: 'ENROLL', limit: 1 });
    assert.equal(jobs[0]!.attempts, 4);
    assert.deepEqual(jobs[0]!.progress, ['thing', 'certificate', 'policy:p1', 'principal', 'group:g1']);
  });

  it('a refusal fails its own job (DEGRADED) and the next job runs; decommission revokes and detaches', async () => {
    aws.failNext('CreateThing', 'permanent');
    await connector.handleEvent(enrolled('dev-2', '02'));
    await connector.handleEvent(enrolled('dev-3', '03'));
    await idle();
    const failed = (await opened.storage.connectors.listJobs('aws', { key: '02', kind: 'ENROLL', limit: 1 }))[0]!;
    assert.equal(failed.status, 'FAILED');
    assert.match(failed.lastError ?? '', /InvalidRequestException/);
    assert.equal((await opened.storage.connectors.get('aws'))!.failed, 1);
    assert.deepEqual(aws.calls.splice(0), ['CreateThing', 'RegisterCertificateWithoutCA', 'AttachPolicy', 'AttachThingPrincipal', 'CreateThingGroup', 'AddThingToThingGroup']);

    await connector.handleEvent(ev('device.decommission', { id: 'dev-3' }));
    await connector.handleEvent(ev('certificate.status.update', { serial_number: '03', status: 'REVOKED', revocation_reason: 'CessationOfOperation' }));
    await idle();
    assert.deepEqual(aws.calls.splice(0), ['UpdateCertificate:REVOKED', 'DetachThingPrincipal'], 'revoked once, detached once');
  });

  it('a paused connector (enabled: false) keeps its backlog until it is enabled again', async () => {
    await opened.storage.connectors.setConfig('aws', { enabled: false });
    await connector.handleEvent(enrolled('dev-4', '04'));
    await new Promise((r) => setTimeout(r, 150));
    assert.deepEqual(aws.calls, []);
    assert.equal((await opened.storage.connectors.get('aws'))!.backlog, 1);
    await opened.storage.connectors.setConfig('aws', {});
    connector.wake();
    await idle();
    assert.equal(aws.calls.length, 6);
  });

  const resource = (serial: string) => opened.storage.connectors.getResource('aws', 'CERTIFICATE', serial);
  const eventually = async <T>(what: string, fn: () => Promise<T | undefined | false>, ms = 5000): Promise<T> => {
    for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) {
      const v = await fn();
      if (v) return v;
    }
    return assert.fail(`timed out: ${what}`);
  };

  it('a re-enrollment registers the new certificate and keeps the old one until the device reports the new serial in its shadow', async () => {
    await connector.handleEvent(enrolled('dev-5', '05'));
    await idle();
    aws.calls.splice(0);
    await connector.handleEvent(ev('dms.reenroll', { dms_id: 'bound-dms', device_id: 'dev-5', serial_number: '0505', ca_id: 'ca', slot: 'default' }));
    await idle();
    assert.deepEqual(aws.calls.splice(0), ['CreateThing', 'RegisterCertificateWithoutCA', 'AttachPolicy', 'AttachThingPrincipal', 'CreateThingGroup', 'AddThingToThingGroup']);
    const pending = (await resource('05'))!;
    assert.equal(pending.status, 'ACTIVE', 'still usable in AWS');
    assert.ok(pending.recheckAt, 'a check is pending');
    assert.equal(pending.details.superseded_by, '0505');
    // The superseded certificate's revocation here (reason Superseded) waits for the rotation too.
    await connector.handleEvent(ev('certificate.status.update', { serial_number: '05', status: 'REVOKED', revocation_reason: 'Superseded' }));
    await idle();
    assert.deepEqual(aws.calls.splice(0), []);

    aws.shadows.set('dev-5', { state: { reported: { identity: { serial_number: '05:05' } } } });
    const done = await eventually('old certificate retired', async () => {
      const r = await resource('05');
      return r?.status !== 'ACTIVE' && r;
    });
    assert.equal(done.status, 'INACTIVE');
    assert.equal(done.recheckAt, null);
    assert.equal((done.details.rotation as { because: string }).because, 'in_use');
    assert.deepEqual(aws.calls.splice(0), ['UpdateCertificate:INACTIVE', 'DetachThingPrincipal']);
    assert.equal((await resource('0505'))!.status, 'ACTIVE');
  });

  it('a device never seen with its new certificate: the old one is deactivated when the grace period ends', async () => {
    await connector.handleEvent(enrolled('dev-6', '06'));
    await connector.handleEvent(ev('dms.reenroll', { dms_id: 'bound-dms', device_id: 'dev-6', serial_number: '0606', ca_id: 'ca', slot: 'default' }));
    await idle();
    aws.calls.splice(0);
    const done = await eventually('grace period over', async () => {
      const r = await resource('06');
      return r?.status !== 'ACTIVE' && r;
    });
    const rotation = done.details.rotation as { because: string; completed_at: number };
    assert.equal(rotation.because, 'grace_expired');
    assert.ok(rotation.completed_at >= (done.details.deactivate_after as number), 'not before the grace period is over');
    assert.equal((done.details.deactivate_after as number) - (done.details.superseded_at as number), 1500);
    assert.deepEqual(aws.calls.splice(0), ['UpdateCertificate:INACTIVE', 'DetachThingPrincipal']);
  });

  it("a CA's new provisioning template is pushed to AWS once (UpdateCACertificate); an expiring certificate asks the device through its shadow; a revoked CA is deactivated", async () => {
    const roleArn = 'arn:aws:iam::123456789012:role/jitp';
    caMetadata.set('bound-ca', { 'lamassu.io/iot/aws': { register: true, mode: 'SNI_ONLY', provisioning: { template_name: 'jitp-fleet', role_arn: roleArn } } });
    const changed = ev('ca.metadata.update', { id: 'bound-ca' });
    assert.equal(await connector.handleEvent(changed), 1);
    await idle();
    assert.equal(await connector.handleEvent(ev('ca.metadata.update', { id: 'bound-ca' })), 0, 'nothing new to push');
    assert.deepEqual(aws.calls.splice(0), ['UpdateCACertificate']);
    assert.deepEqual(aws.caUpdates.splice(0), [{ certificateId: 'ca-id', newAutoRegistrationStatus: 'ENABLE', registrationConfig: { templateName: 'jitp-fleet', roleArn } }]);

    await connector.handleEvent(ev('certificate.expiring', { serial_number: '0505', delta: 'preventive' }));
    await connector.handleEvent(ev('certificate.expiring', { serial_number: 'unknown', delta: 'preventive' }));
    await idle();
    assert.deepEqual(aws.calls.splice(0), ['UpdateThingShadow']);

    await connector.handleEvent(ev('ca.status.update', { id: 'bound-ca', status: 'REVOKED' }));
    await connector.handleEvent(ev('ca.status.update', { id: 'plain-ca', status: 'REVOKED' }));
    await idle();
    assert.deepEqual(aws.calls.splice(0), ['UpdateCACertificate']);
  });

  it('a synchronization skips (and counts) what AWS refuses for good, does the rest, and records its counts on the job', async () => {
    aws.failNext('DescribeCertificate', 'permanent');
    const id = randomUUID();
    await opened.storage.connectors.enqueue([{ id, connectorId: 'aws', eventId: `api:${id}`, kind: 'SYNC', key: 'aws', deviceId: null, payload: {}, createdAt: new Date() }]);
    connector.wake();
    await idle();
    const job = (await opened.storage.connectors.getJob('aws', id))!;
    assert.equal(job.status, 'DONE');
    const result = job.result as { failed: number; errors: string[]; certificates_checked: number };
    assert.equal(result.failed, 1);
    assert.match(result.errors[0]!, /^certificate .*: DescribeCertificate: InvalidRequestException/);
    const certificates = await opened.storage.connectors.listResources('aws', 'CERTIFICATE');
    assert.equal(result.certificates_checked, certificates.length);
    assert.ok(aws.calls.filter((c) => c === 'DescribeCertificate').length === certificates.length - 1, 'the others were still asked');
    assert.ok((await opened.storage.connectors.get('aws'))!.lastSyncAt);
  });
});
