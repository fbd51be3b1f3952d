/**
 * Issue 10's done-when on a broker outage: two real `lamassu serve` replicas (ca, va, alerts) on one
 * PostgreSQL database, each reaching RabbitMQ through its own TCP proxy. Both links are cut for 30 s while
 * 1,000 revocations are made, half on each replica. After the broker returns: both replicas' OCSP answer
 * revoked for all 1,000 (their caches held "good" for every one before the cut), and each of two webhook
 * subscriptions received 1,000 deliveries, one per revocation event, no duplicates.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Agent } from 'undici';
import { removePrefixTopology } from '../support/amqp-topology.ts';
import { teardown } from '../support/bounded.ts';
import { startHttpReceiver, type HttpReceiver } from '../support/http-receiver.ts';
import { isRunning, startLamassu, type LamassuProcess } from '../support/lamassu-process.ts';
import { ocspAnswer, ocspRequestsFor } from '../support/ocsp-test-pki.ts';
import { amqpUrl, needPostgres, needRabbitMq, postgresUrl } from '../support/services.ts';
import { freshTestDatabase, type TestDatabase } from '../support/storage.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';
import { fromPem } from '../../src/x509/pem.ts';

const N = 1000;
const OUTAGE_MS = 30_000;
const CONCURRENCY = 25;

interface Health {
  status: string;
  eventBus?: { ok: boolean };
  outbox?: { backlog: number };
}

describe('alerts and OCSP after a 30 s broker outage during 1,000 revocations on two replicas (PostgreSQL, RabbitMQ)', { timeout: 240_000 }, async () => {
  if (!(await needPostgres()) || !(await needRabbitMq())) {
    it('runs with PostgreSQL and RabbitMQ', { skip: 'SERVICE MISSING: PostgreSQL or RabbitMQ' }, () => {});
    return;
  }
  const prefix = `test-outage-${randomUUID().slice(0, 8)}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'lamassu-e2e-outage-'));
  let db: TestDatabase;
  const proxies: TcpProxy[] = [];
  const replicas: LamassuProcess[] = [];
  const hooks: HttpReceiver[] = [];
  /** One per replica: each has its own TLS CA (in its data directory). */
  const agents = new Map<LamassuProcess, Agent>();
  let token: string;
  let certIdOf: (serial: string) => Uint8Array;
  const serials: string[] = [];

  const api = async (replica: LamassuProcess, method: string, url: string, body?: unknown) => {
    const res = await fetch(`https://127.0.0.1:${replica.httpsPort}${url}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      // @ts-expect-error undici's dispatcher option is not in the DOM fetch types
      dispatcher: agents.get(replica),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  const health = async (replica: LamassuProcess) => (await (await fetch(`http://127.0.0.1:${replica.httpPort}/health`)).json()) as Health;
  /** A replica's OCSP answer for a serial over HTTP (nonce-less: its whole-response cache is in play). */
  const ocsp = async (replica: LamassuProcess, serial: string): Promise<string> => {
    const res = await fetch(`http://127.0.0.1:${replica.httpPort}/api/va/ocsp`, {
      method: 'POST',
      headers: { 'content-type': 'application/ocsp-request' },
      body: certIdOf(serial),
      // @ts-expect-error undici's dispatcher option is not in the DOM fetch types
      dispatcher: agents.get(replica),
    });
    return ocspAnswer(await res.arrayBuffer());
  };
  /** In slices of CONCURRENCY requests over keep-alive connections. */
  const inSlices = async <T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> => {
    const out: R[] = [];
    for (let i = 0; i < items.length; i += CONCURRENCY) out.push(...(await Promise.all(items.slice(i, i + CONCURRENCY).map(fn))));
    return out;
  };
  const countsOf = (answers: string[]) => answers.reduce<Record<string, number>>((m, a) => ({ ...m, [a]: (m[a] ?? 0) + 1 }), {});
  const waitFor = async (what: string, cond: () => boolean | Promise<boolean>, ms = 30_000) => {
    const until = Date.now() + ms;
    while (!(await cond())) {
      for (const r of replicas) assert.ok(isRunning(r), `a replica exited:\n${r.output()}`);
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}\n${replicas.map((r) => r.output().slice(-2000)).join('\n---\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  before(async () => {
    db = freshTestDatabase('postgres');
    const target = new URL(amqpUrl());
    for (let i = 0; i < 2; i++) proxies.push(await TcpProxy.start({ host: target.hostname, port: Number(target.port || 5672) }));
    for (let i = 0; i < 2; i++) hooks.push(await startHttpReceiver());
    const common = {
      LAMASSU_SERVICES: 'ca,va,alerts',
      DATABASE_URL: postgresUrl(),
      LAMASSU_POSTGRES_SCHEMA: (db.config as { schema: string }).schema,
      LAMASSU_AMQP_PREFIX: prefix,
      // One key directory for both, as a shared HSM would be: both sign OCSP answers with the CA key.
      ENGINE: 'filesystem',
      GOPEM_DATA: path.join(dir, 'keys'),
      LAMASSU_LOG_LEVEL: 'info',
    };
    // One after the other: the first creates the admin token both accept.
    for (const proxy of proxies) replicas.push(await startLamassu({ ...common, LAMASSU_AMQP_URL: proxy.via(amqpUrl()) }));
    token = replicas[0]!.token;
    for (const r of replicas) agents.set(r, new Agent({ connect: { ca: readFileSync(r.tlsCaFile) }, connections: CONCURRENCY }));
  });

  after(async () => {
    await teardown([
      ...replicas.map((r, i) => [`stopping replica ${i}`, () => r.stop()] as const),
      ...proxies.map((p) => ['proxy.close()', () => p.close()] as const),
      ...hooks.map((h) => ['closing a webhook receiver', () => h.close()] as const),
      ...[...agents.values()].map((a) => ['closing an HTTP agent', () => a.close()] as const),
      ['dropping the test database', () => db?.drop()],
      ['removing the data directory', () => rmSync(dir, { recursive: true, force: true })],
      ['removing the test topology', () => removePrefixTopology(prefix, ['va.crl', 'va.roles', 'alerts'])],
    ], 30_000);
  });

  it('after the broker returns, both replicas answer revoked for all 1,000 and each subscription got 1,000 deliveries, no duplicates', async () => {
    const [a, b] = replicas as [LamassuProcess, LamassuProcess];
    const ca = await api(a, 'POST', '/api/ca/v1/cas', { subject: { common_name: 'Outage CA' }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration: '1y' } });
    assert.equal(ca.status, 201, JSON.stringify(ca.json));
    const caId = ca.json.id as string;
    certIdOf = ocspRequestsFor(fromPem(Buffer.from((ca.json.certificate as { certificate: string }).certificate, 'base64').toString('utf8'), 'CERTIFICATE')!);
    execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=outage-device'], { cwd: dir, stdio: 'ignore' });
    const csr = readFileSync(path.join(dir, 'leaf.csr')).toString('base64');
    const issued = await inSlices(Array.from({ length: N }, (_, i) => replicas[i % 2]!), (r) => api(r, 'POST', `/api/ca/v1/cas/${caId}/certificates/sign`, { csr }));
    for (const r of issued) {
      assert.equal(r.status, 201, JSON.stringify(r.json));
      serials.push(r.json.serial_number as string);
    }

    // Two webhook subscriptions on revocations, made through either replica.
    const subscribe = async (replica: LamassuProcess, url: string, conditions: unknown[]) => {
      const r = await api(replica, 'POST', '/api/alerts/v1/user/ops/subscribe', { event_type: 'certificate.status.update', conditions, channel: { type: 'WEBHOOK', name: 'hook', config: { webhook_url: url, webhook_method: 'POST' } } });
      assert.equal(r.status, 201, JSON.stringify(r.json));
    };
    await subscribe(a, hooks[0]!.url, [{ type: 'JSON-SCHEMA', condition: JSON.stringify({ properties: { data: { properties: { status: { const: 'REVOKED' } } } } }) }]);
    await subscribe(b, hooks[1]!.url, [{ type: 'JSON-PATH', condition: '$.data.revocation_reason' }]);

    // Both know the CA and cache "good" for every certificate (B by its own rescan of the CAs).
    await waitFor("B's OCSP to know the CA", async () => (await ocsp(b, serials[0]!)) === 'good');
    for (const r of replicas) assert.deepEqual(countsOf(await inSlices(serials, (s) => ocsp(r, s))), { good: N });
    // Issuance's events have gone through (the outbox is empty) before the cut.
    await waitFor('the outbox to drain after issuance', async () => (await health(a)).outbox?.backlog === 0);

    // The broker is unreachable from both replicas for 30 s: links reset, connections refused.
    const cutAt = Date.now();
    await Promise.all(proxies.map((p) => p.refuseFor(OUTAGE_MS)));
    for (const r of replicas) await waitFor('/health to show the bus down', async () => (await health(r)).eventBus?.ok === false);
    const revocations = await inSlices(serials.map((s, i) => ({ s, r: replicas[i % 2]! })), ({ s, r }) => api(r, 'PUT', `/api/ca/v1/certificates/${s}/status`, { status: 'REVOKED', revocation_reason: 'KeyCompromise' }));
    for (const r of revocations) assert.equal(r.status, 200, JSON.stringify(r.json));
    const revokedIn = Date.now() - cutAt;
    assert.ok(revokedIn < OUTAGE_MS, `the 1,000 revocations took ${revokedIn} ms, not within the outage`);
    // Nothing reached the webhooks: every event waits in the outbox.
    assert.deepEqual(hooks.map((x) => x.received.length), [0, 0]);
    assert.ok(((await health(a)).outbox?.backlog ?? 0) >= N, JSON.stringify(await health(a)));
    // Still down for the rest of the 30 s.
    await new Promise((r) => setTimeout(r, cutAt + OUTAGE_MS - 2000 - Date.now()));
    for (const r of replicas) assert.equal((await health(r)).eventBus?.ok, false);
    assert.deepEqual(hooks.map((x) => x.received.length), [0, 0]);

    for (const r of replicas) await waitFor('/health to show the bus up again', async () => (await health(r)).eventBus?.ok === true, 20_000);
    const upAt = Date.now();
    // Both replicas answer revoked for all 1,000.
    for (const r of replicas) assert.deepEqual(countsOf(await inSlices(serials, (s) => ocsp(r, s))), { revoked: N });
    await waitFor('the outbox to drain', async () => (await health(a)).outbox?.backlog === 0);
    await waitFor('1,000 deliveries to each webhook', () => hooks.every((x) => x.received.length >= N), 60_000);
    const deliveredIn = Date.now() - upAt;
    // Anything late (a duplicate) would arrive within this.
    await new Promise((r) => setTimeout(r, 2000));
    for (const [i, hook] of hooks.entries()) {
      const events = hook.received.map((x) => JSON.parse(x.body) as { id: string; type: string; data: { serial_number: string; status: string } });
      assert.equal(events.length, N, `subscription ${i}: ${events.length} deliveries`);
      assert.equal(new Set(events.map((e) => e.id)).size, N, `subscription ${i}: distinct event ids`);
      assert.deepEqual(new Set(events.map((e) => e.data.serial_number)), new Set(serials), `subscription ${i}: one per revoked certificate`);
      assert.ok(events.every((e) => e.type === 'certificate.status.update' && e.data.status === 'REVOKED'));
    }
    for (const r of replicas) {
      assert.ok(isRunning(r), r.output());
      assert.equal((await health(r)).status, 'ok');
      assert.doesNotMatch(r.output(), /Uncaught|unhandled/i);
    }
    console.log(`revocations in ${revokedIn} ms during the outage; webhooks complete ${deliveredIn} ms after the links came back`);
  });
});
