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
    updateCaCertificate: async () => maybeFail('UpdateCACertificate'),
    createThing: async () => (maybeFail('CreateThing'), { thingArn: 'arn:thing', existed: false }),
    registerCertificate: async (i) => (maybeFail(i.caCertificatePem ? 'RegisterCertificate' : 'RegisterCertificateWithoutCA'), { certificateId: `id-${i.certificatePem.length}`, certificateArn: `arn:cert:${i.certificatePem.length}`, existed: false }),
    updateCertificate: async (i) => maybeFail(`UpdateCertificate:${i.newStatus}`),
    createPolicy: async () => maybeFail('CreatePolicy'),
    attachPolicy: async () => maybeFail('AttachPolicy'),
    attachThingPrincipal: async () => maybeFail('AttachThingPrincipal'),
    detachThingPrincipal: async () => maybeFail('DetachThingPrincipal'),
    createThingGroup: async () => maybeFail('CreateThingGroup'),
    addThingToThingGroup: async () => maybeFail('AddThingToThingGroup'),
    describeThing: async () => ({}),
    listThingPrincipals: async () => [],
    dataEndpoint: async () => 'https://data',
    updateThingShadow: async () => maybeFail('UpdateThingShadow'),
    getThingShadow: async () => undefined,
  };
  return { api, calls, failNext: (action: string, kind: 'unreachable' | 'permanent', times = 1) => failures.set(action, { kind, times }) };
}

const lamassu: CloudLamassuGateway = {
  ca: async (id) => ({ id, status: 'ACTIVE', metadata: id === 'bound-ca' ? { 'lamassu.io/iot/aws': { register: true, mode: 'SNI_ONLY' } } : {}, certificatePem: PEM(id) }),
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

  it('a re-enrollment deactivates and detaches the earlier certificate; an expiring certificate asks the device through its shadow; a revoked CA is deactivated', async () => {
    await connector.handleEvent(enrolled('dev-5', '05'));
    await idle();
    aws.calls.splice(0);
    await connector.handleEvent(ev('dms.reenroll', { dms_id: 'bound-dms', device_id: 'dev-5', serial_number: '0505', ca_id: 'ca', slot: 'default' }));
    await idle();
    assert.deepEqual(aws.calls.splice(0), ['CreateThing', 'RegisterCertificateWithoutCA', 'AttachPolicy', 'AttachThingPrincipal', 'CreateThingGroup', 'AddThingToThingGroup', 'UpdateCertificate:INACTIVE', 'DetachThingPrincipal']);
    assert.equal((await opened.storage.connectors.getResource('aws', 'CERTIFICATE', '05'))!.status, 'INACTIVE');

    await connector.handleEvent(ev('certificate.expiring', { serial_number: '0505', delta: 'preventive' }));
    await connector.handleEvent(ev('certificate.expiring', { serial_number: 'unknown', delta: 'preventive' }));
    await idle();
    assert.deepEqual(aws.calls.splice(0), ['UpdateThingShadow']);

    await connector.handleEvent(ev('ca.status.update', { id: 'bound-ca', status: 'REVOKED' }));
    await connector.handleEvent(ev('ca.status.update', { id: 'plain-ca', status: 'REVOKED' }));
    await idle();
    assert.deepEqual(aws.calls.splice(0), ['UpdateCACertificate']);
  });
});
