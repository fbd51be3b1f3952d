/**
 * Two real `lamassu serve` replicas on PostgreSQL and RabbitMQ; replica B reaches the broker only through a
 * TCP proxy that breaks the link three ways (reset, refuse for a while, accept and close at once). Replica A
 * revokes certificates during each fault. Neither process exits; B's /health and /metrics show the bus down
 * and up again; every revocation is answered revoked by B's OCSP (over HTTP) within 1 s of B's link coming
 * back (in fact at once: while its link is down, B's OCSP reads the database).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Agent } from 'undici';
import { removeTestTopology } from '../support/amqp-topology.ts';
import { teardown } from '../support/bounded.ts';
import { isRunning, startLamassu, type LamassuProcess } from '../support/lamassu-process.ts';
import { ocspAnswer, ocspRequestsFor } from '../support/ocsp-test-pki.ts';
import { amqpUrl, needPostgres, needRabbitMq, postgresUrl } from '../support/services.ts';
import { freshTestDatabase, type TestDatabase } from '../support/storage.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';
import { fromPem } from '../../src/x509/pem.ts';

const PER_FAULT = 100;
const FAULTS = ['drop', 'refuse', 'accept-and-close'] as const;

interface Health {
  status: string;
  eventBus?: { ok: boolean };
}

describe('event bus faults on two replicas (PostgreSQL, RabbitMQ through a TCP proxy)', { timeout: 90_000 }, async () => {
  if (!(await needPostgres()) || !(await needRabbitMq())) {
    it('runs with PostgreSQL and RabbitMQ', { skip: 'SERVICE MISSING: PostgreSQL or RabbitMQ' }, () => {});
    return;
  }
  const exchange = `lamassu-test-${randomUUID()}`;
  const queuePrefix = `test-${randomUUID()}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'lamassu-e2e-bus-'));
  let db: TestDatabase;
  let proxy: TcpProxy;
  let a: LamassuProcess;
  let b: LamassuProcess;
  let agent: Agent;
  let caId: string;
  let certIdOf: (serial: string) => Uint8Array;
  const serials: string[] = [];

  const api = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(`https://127.0.0.1:${a.httpsPort}${url}`, {
      method,
      headers: { authorization: `Bearer ${a.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      // @ts-expect-error undici's dispatcher option is not in the DOM fetch types
      dispatcher: agent,
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  const health = async (replica: LamassuProcess) => {
    const res = await fetch(`http://127.0.0.1:${replica.httpPort}/health`);
    return { code: res.status, body: (await res.json()) as Health };
  };
  const metric = async (replica: LamassuProcess, name: string) => {
    const text = await (await fetch(`http://127.0.0.1:${replica.httpPort}/metrics`)).text();
    return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
  };
  /** B's OCSP answer for a serial over HTTP (nonce-less, so B's whole-response cache is in play too). */
  const statusOnB = async (serial: string): Promise<string> => {
    const res = await fetch(`http://127.0.0.1:${b.httpPort}/api/va/ocsp`, {
      method: 'POST',
      headers: { 'content-type': 'application/ocsp-request' },
      body: certIdOf(serial),
    });
    return ocspAnswer(await res.arrayBuffer());
  };
  const statusesOnB = async (list: string[]) => {
    const out: string[] = [];
    for (let i = 0; i < list.length; i += 50) out.push(...(await Promise.all(list.slice(i, i + 50).map(statusOnB))));
    return out;
  };
  const waitFor = async (what: string, cond: () => Promise<boolean>, ms = 15_000) => {
    const until = Date.now() + ms;
    while (!(await cond())) {
      assert.ok(isRunning(a) && isRunning(b), `a replica exited:\nA:\n${a.output()}\nB:\n${b.output()}`);
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  before(async () => {
    db = freshTestDatabase('postgres');
    const schema = (db.config as { schema: string }).schema;
    const target = new URL(amqpUrl());
    proxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 5672) });
    const common = {
      LAMASSU_SERVICES: 'ca,va',
      DATABASE_URL: postgresUrl(),
      LAMASSU_POSTGRES_SCHEMA: schema,
      LAMASSU_AMQP_EXCHANGE: exchange,
      LAMASSU_AMQP_QUEUE_PREFIX: queuePrefix,
      // One key directory for both, as a shared HSM would be: B signs OCSP answers with the CA key too.
      ENGINE: 'filesystem',
      GOPEM_DATA: path.join(dir, 'keys'),
    };
    a = await startLamassu({ ...common, LAMASSU_AMQP_URL: amqpUrl() });
    b = await startLamassu({ ...common, LAMASSU_AMQP_URL: proxy.via(amqpUrl()), LAMASSU_LOG_LEVEL: 'info' });
    agent = new Agent({ connect: { ca: readFileSync(a.tlsCaFile) }, connections: 16 });

    const ca = await api('POST', '/api/ca/v1/cas', { subject: { common_name: 'Bus Faults CA' }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration: '1y' } });
    assert.equal(ca.status, 201, JSON.stringify(ca.json));
    caId = ca.json.id as string;
    const pem = Buffer.from((ca.json.certificate as { certificate: string }).certificate, 'base64').toString('utf8');
    certIdOf = ocspRequestsFor(fromPem(pem, 'CERTIFICATE')!);
    execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=bus-fault-device'], { cwd: dir, stdio: 'ignore' });
    const csr = readFileSync(path.join(dir, 'leaf.csr')).toString('base64');
    for (let i = 0; i < PER_FAULT * FAULTS.length; i += 25) {
      const batch = await Promise.all(Array.from({ length: 25 }, () => api('POST', `/api/ca/v1/cas/${caId}/certificates/sign`, { csr })));
      for (const r of batch) {
        assert.equal(r.status, 201, JSON.stringify(r.json));
        serials.push(r.json.serial_number as string);
      }
    }
  });

  after(async () => {
    await teardown([
      ['stopping replica A', () => a?.stop()],
      ['stopping replica B', () => b?.stop()],
      ['proxy.close()', () => proxy?.close()],
      ['closing the HTTP agent', () => agent?.close()],
      ['dropping the test database', () => db?.drop()],
      ['removing the data directory', () => rmSync(dir, { recursive: true, force: true })],
      ['removing the test topology', () => removeTestTopology({ exchange, queuePrefix, groups: ['va.crl', 'va.roles'] })],
    ], 30_000);
  });

  it('no replica exits; each revocation made during a fault is answered revoked by B within 1 s of its link coming back', async () => {
    // B learns of the new CA by its own rescan (the ca.create event went to one replica of the group).
    let last = '';
    await waitFor('B to know the CA', async () => (last = await statusOnB(serials[0]!)) === 'good').catch((err) => {
      throw new Error(`${err.message}: ${last}\n${b.output()}`);
    });
    // B caches "good" for every certificate first.
    assert.deepEqual(new Set(await statusesOnB(serials)), new Set(['good']));
    assert.equal(await metric(b, 'lamassu_event_bus_connected'), 1);
    const revoked: string[] = [];
    for (const [i, fault] of FAULTS.entries()) {
      if (fault === 'drop') proxy.drop();
      if (fault === 'refuse') await proxy.refuseFor(3000);
      if (fault === 'accept-and-close') {
        proxy.setMode('accept-and-close');
        proxy.drop();
      }
      // B notices at once and says so: still 200 (it serves on), degraded, eventBus down.
      await waitFor(`B's /health to show the bus down (${fault})`, async () => (await health(b)).body.eventBus?.ok === false);
      const down = await health(b);
      assert.equal(down.code, 200);
      assert.equal(down.body.status, 'degraded');
      assert.equal(await metric(b, 'lamassu_event_bus_connected'), 0);

      const batch = serials.slice(i * PER_FAULT, (i + 1) * PER_FAULT);
      for (let j = 0; j < batch.length; j += 25) {
        const answers = await Promise.all(
          batch.slice(j, j + 25).map((serial) => api('PUT', `/api/ca/v1/certificates/${serial}/status`, { status: 'REVOKED', revocation_reason: 'KeyCompromise' })),
        );
        for (const r of answers) assert.equal(r.status, 200, JSON.stringify(r.json));
      }
      revoked.push(...batch);
      if (fault === 'accept-and-close') {
        await new Promise((r) => setTimeout(r, 500));
        proxy.setMode('pass');
      }

      await waitFor(`B's /health to show the bus up again (${fault})`, async () => (await health(b)).body.eventBus?.ok === true);
      const upAt = Date.now();
      const up = await health(b);
      assert.deepEqual([up.code, up.body.status], [200, 'ok']);
      for (;;) {
        const answers = await statusesOnB(revoked);
        const stale = revoked.filter((_, k) => answers[k] !== 'revoked');
        if (stale.length === 0) break;
        assert.ok(Date.now() - upAt < 1000, `${fault}: B still answers not-revoked for ${stale.length} of ${revoked.length} more than 1 s after its link came back`);
      }
      assert.ok(isRunning(a) && isRunning(b), `a replica exited:\nA:\n${a.output()}\nB:\n${b.output()}`);
    }
    assert.equal(await metric(b, 'lamassu_event_bus_reconnects_total'), FAULTS.length);
    assert.equal(await metric(b, 'lamassu_event_bus_disconnects_total'), FAULTS.length);
    // B logged each loss and each recovery.
    assert.equal(b.output().match(/message broker connection lost/g)?.length, FAULTS.length, b.output());
    assert.equal(b.output().match(/message broker connection restored/g)?.length, FAULTS.length, b.output());
    assert.doesNotMatch(b.output(), /Emitted 'error' event|Uncaught|unhandled/i);
  });
});
