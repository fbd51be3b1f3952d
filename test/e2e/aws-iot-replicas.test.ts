/**
 * The AWS IoT connector in a process of its own: replica A runs the PKI (ca, va, dms, devices, cloudproxy),
 * replica B only `cloudproxy,aws-connector`; they share PostgreSQL and RabbitMQ (real services) and one key
 * directory, as replicas do. A device enrolled on A appears in AWS through B (events over RabbitMQ), a
 * revocation on A is REVOKED there within 2 s, and A's cloud proxy lists the connector B registered. AWS is
 * the local stand-in (test/support/fake-aws-iot.ts; there is no AWS here), checking SigV4 on every request.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { removePrefixTopology } from '../support/amqp-topology.ts';
import { FakeAwsIot, fakeAwsEnv } from '../support/fake-aws-iot.ts';
import { startLamassu, type LamassuProcess } from '../support/lamassu-process.ts';
import { amqpUrl, needPostgres, needRabbitMq, postgresUrl } from '../support/services.ts';
import { freshTestDatabase, type TestDatabase } from '../support/storage.ts';
import { admin } from './est-server.ts';
import { until } from '../support/until.ts';

const run = promisify(execFile);

describe('AWS IoT connector in its own process, over PostgreSQL and RabbitMQ', { timeout: 180_000 }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lamassu-e2e-aws-replicas-'));
  const prefix = `lamassu-test-aws-${randomUUID().slice(0, 8)}`;
  let db: TestDatabase | undefined;
  let aws: FakeAwsIot;
  let a: LamassuProcess | undefined;
  let b: LamassuProcess | undefined;
  let ready = false;

  before(async () => {
    if (!(await needPostgres()) || !(await needRabbitMq())) return;
    db = freshTestDatabase('postgres');
    aws = await FakeAwsIot.start();
    const common = {
      DATABASE_URL: postgresUrl(),
      LAMASSU_POSTGRES_SCHEMA: (db.config as { schema: string }).schema,
      LAMASSU_AMQP_URL: amqpUrl(),
      LAMASSU_AMQP_PREFIX: prefix,
      // One key directory for both, as a shared HSM would be: B signs AWS's verification certificate with the CA key.
      ENGINE: 'filesystem',
      GOPEM_DATA: path.join(dir, 'keys'),
    };
    a = await startLamassu({ ...common, LAMASSU_SERVICES: 'ca,va,dms,devices,cloudproxy' }, { deadlineMs: 60_000 });
    b = await startLamassu(
      {
        ...common,
        LAMASSU_SERVICES: 'cloudproxy,aws-connector',
        ...fakeAwsEnv(aws.url, dir),
        LAMASSU_AWS_RETRY_BASE: '250ms',
        LAMASSU_AWS_ROTATION_CHECK: '300ms',
      },
      { deadlineMs: 60_000 },
    );
    ready = true;
  });
  after(async () => {
    await b?.stop();
    await a?.stop();
    await aws?.close();
    if (ready) await removePrefixTopology(prefix, ['va.crl', 'va.roles', 'devices', 'devices.expiring', 'cloud-aws-iot']);
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an enrollment on A reaches AWS through B; a revocation on A is REVOKED there within 2 s; A lists the connector', async (t) => {
    if (!ready) return t.skip('SERVICE MISSING: PostgreSQL or RabbitMQ');
    const api = async (method: string, url: string, body?: unknown) => (await admin(a!, method, url, body)).json;
    await api('POST', '/api/ca/v1/cas', { id: 'rep-ca', subject: { common_name: 'Replica CA' }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration: '1y' }, metadata: { 'lamassu.io/iot/aws-iot': { register: true } } });
    await until('CA registered in AWS (verification certificate signed on B)', () => aws.cas.size === 1, 15_000);
    await api('POST', '/api/dmsmanager/v1/dms', {
      id: 'rep-dms',
      name: 'Replica DMS',
      authorized_cas: ['rep-ca'],
      metadata: { 'lamassu.io/iot/aws-iot': { policies: [{ policy_name: 'p', policy_document: { Version: '2012-10-17', Statement: [] } }] } },
      settings: {
        enrollment_settings: { enrollment_ca: 'rep-ca', est_rfc7030_settings: { auth_mode: 'HTTP_BASIC', http_basic: { username: 'u', password: 'replica password' } } },
        reenrollment_settings: { reenrollment_delta: '3650d' },
      },
    });
    await run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'd.key', '-subj', '/CN=rep-dev-1', '-outform', 'DER', '-out', 'd.csr'], { cwd: dir });
    const { stdout } = await run('curl', ['-sS', '--cacert', a!.tlsCaFile, '--resolve', `localhost:${a!.httpsPort}:127.0.0.1`, '-u', 'u:replica password', '-H', 'Content-Type: application/pkcs10', '--data-binary', '@d.csr', '-o', 'd.p7', '-w', '%{http_code}', `https://localhost:${a!.httpsPort}/.well-known/est/rep-dms/simpleenroll`], { cwd: dir });
    assert.equal(stdout, '200', readFileSync(path.join(dir, 'd.p7'), 'utf8'));
    const thing = await until('thing in AWS', () => (aws.things.get('rep-dev-1')?.principals.size ? aws.things.get('rep-dev-1') : undefined), 15_000);
    const cert = [...aws.certificates.values()].find((c) => thing.principals.has(c.arn))!;
    assert.ok(cert.caId, 'registered with its CA');

    const state = await api('GET', '/api/cloudproxy/v1/connectors/aws-iot/devices/rep-dev-1');
    assert.equal(state.resources.length, 1);
    assert.equal(state.live, null, 'A does not run the connector: no live read, the stored state only');
    const serial = state.resources[0].key as string;
    const at = Date.now();
    await api('PUT', `/api/ca/v1/certificates/${serial}/status`, { status: 'REVOKED', revocation_reason: 'KeyCompromise' });
    await until('REVOKED in AWS', () => cert.status === 'REVOKED', 2000);
    assert.ok(Date.now() - at < 2000);
    const listed = (await api('GET', '/api/cloudproxy/v1/connectors')) as { id: string; status: string; backlog: number }[];
    assert.deepEqual(listed.map((c) => [c.id, c.status, c.backlog]), [['aws-iot', 'CONNECTED', 0]]);
    assert.deepEqual(aws.badSignatures, []);
  });

  it('a re-enrollment on A: B keeps the old certificate active (the wait is in PostgreSQL, seen from A) until the device reports the new one; a synchronization with ?wait answers its counts', async (t) => {
    if (!ready) return t.skip('SERVICE MISSING: PostgreSQL or RabbitMQ');
    const api = async (method: string, url: string, body?: unknown) => (await admin(a!, method, url, body)).json;
    const curl = async (auth: string[], csr: string, out: string, op: string) =>
      (await run('curl', ['-sS', '--cacert', a!.tlsCaFile, '--resolve', `localhost:${a!.httpsPort}:127.0.0.1`, ...auth, '-H', 'Content-Type: application/pkcs10', '--data-binary', `@${csr}`, '-o', out, '-w', '%{http_code}', `https://localhost:${a!.httpsPort}/.well-known/est/rep-dms/${op}`], { cwd: dir })).stdout;
    const certOf = async (p7: string, pem: string) => {
      await run('openssl', ['base64', '-d', '-in', p7, '-out', `${p7}.der`], { cwd: dir });
      await run('openssl', ['pkcs7', '-inform', 'DER', '-in', `${p7}.der`, '-print_certs', '-out', pem], { cwd: dir });
      return (await run('openssl', ['x509', '-in', pem, '-noout', '-serial'], { cwd: dir })).stdout.trim().split('=')[1]!.toLowerCase();
    };
    await run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'r1.key', '-subj', '/CN=rep-dev-2', '-outform', 'DER', '-out', 'r1.csr'], { cwd: dir });
    assert.equal(await curl(['-u', 'u:replica password'], 'r1.csr', 'r1.p7', 'simpleenroll'), '200');
    const oldSerial = await certOf('r1.p7', 'r1.pem');
    const thing = await until('rep-dev-2 in AWS', () => (aws.things.get('rep-dev-2')?.principals.size ? aws.things.get('rep-dev-2') : undefined), 15_000);
    const old = [...aws.certificates.values()].find((c) => thing.principals.has(c.arn))!;
    await run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'r2.key', '-subj', '/CN=rep-dev-2', '-outform', 'DER', '-out', 'r2.csr'], { cwd: dir });
    assert.equal(await curl(['--cert', 'r1.pem', '--key', 'r1.key'], 'r2.csr', 'r2.p7', 'simplereenroll'), '200');
    const newSerial = await certOf('r2.p7', 'r2.pem');
    await until('both certificates attached', () => thing.principals.size === 2, 15_000);
    const waiting = await until('the wait recorded', async () => {
      const state = await api('GET', '/api/cloudproxy/v1/connectors/aws-iot/devices/rep-dev-2');
      return state.resources.find((r: { recheck_at: string | null }) => r.recheck_at);
    });
    assert.equal(waiting.key.replace(/^0+/, ''), oldSerial.replace(/^0+/, ''));
    assert.equal(old.status, 'ACTIVE');
    aws.report('rep-dev-2', 'lamassu', { identity: { serial_number: newSerial } });
    await until('old certificate retired by B', () => old.status === 'REVOKED' && thing.principals.size === 1, 10_000);

    const r = await admin(a!, 'POST', '/api/cloudproxy/v1/connectors/aws-iot/synchronize?wait=60');
    assert.equal(r.status, 200);
    assert.equal(r.json.status, 'DONE');
    assert.equal(r.json.result.certificates_checked, 3);
    assert.equal(r.json.result.certificates_updated, 0);
    assert.deepEqual(aws.badSignatures, []);
  });
});
