/**
 * Events are never lost between a commit and the broker: the real `lamassu serve` (SQLite, then PostgreSQL)
 * reaches RabbitMQ through a TCP proxy; the link is cut, changes are made (issuance, holds, releases,
 * revocations), so their events can only be in the outbox; the server is killed with SIGKILL and started
 * again with the link up. A consumer bound to the deployment's exchange then gets every event, in order per
 * certificate, each id once; /health and /metrics showed the backlog while the link was down.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import amqp from 'amqplib';
import { Agent } from 'undici';
import { removePrefixTopology } from '../support/amqp-topology.ts';
import { startLamassu, type LamassuProcess } from '../support/lamassu-process.ts';
import { amqpUrl, needPostgres, needRabbitMq, postgresUrl } from '../support/services.ts';
import { freshTestDatabase, storageKinds } from '../support/storage.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';

const CERTS = 15;
const ISSUED_WHILE_DOWN = 10;

interface Seen {
  id: string;
  type: string;
  subject?: string;
  data: { status?: string; revocation_reason?: string | null; serial_number?: string };
}

for (const kind of storageKinds) {
  describe(`outbox: kill -9 with events waiting for the broker (${kind})`, { timeout: 120_000 }, async () => {
    if (!(await needRabbitMq()) || (kind === 'postgres' && !(await needPostgres()))) {
      it('runs with RabbitMQ and PostgreSQL', { skip: 'SERVICE MISSING: RabbitMQ or PostgreSQL' }, () => {});
      return;
    }

    it('every event arrives after the restart, in order per certificate, each id once', async () => {
      const prefix = `test-outbox-${randomUUID().slice(0, 8)}`;
      const dataDir = mkdtempSync(path.join(tmpdir(), 'lamassu-e2e-outbox-'));
      const db = kind === 'postgres' ? freshTestDatabase('postgres') : undefined;
      const env = {
        LAMASSU_SERVICES: 'ca,va',
        LAMASSU_AMQP_PREFIX: prefix,
        ...(db ? { DATABASE_URL: postgresUrl(), LAMASSU_POSTGRES_SCHEMA: (db.config as { schema: string }).schema } : {}),
      };
      const target = new URL(amqpUrl());
      const proxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 5672) });
      const conn = await amqp.connect(amqpUrl());
      const seen: Seen[] = [];
      let server: LamassuProcess | undefined;
      const agent = new Agent({ connect: { rejectUnauthorized: false }, connections: 8 });
      try {
        server = await startLamassu({ ...env, LAMASSU_AMQP_URL: proxy.via(amqpUrl()), LAMASSU_LOG_LEVEL: 'info' }, { dataDir });
        const token = server.token;
        // The consumer: its own queue on the deployment's exchange, every event type.
        const ch = await conn.createChannel();
        const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true });
        await ch.bindQueue(queue, `${prefix}-events`, '#');
        await ch.consume(queue, (msg) => {
          if (!msg) return;
          seen.push(JSON.parse(msg.content.toString('utf8')) as Seen);
          ch.ack(msg);
        });

        let current = server;
        const api = async (method: string, url: string, body?: unknown) => {
          const res = await fetch(`https://127.0.0.1:${current.httpsPort}${url}`, {
            method,
            headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
            body: body ? JSON.stringify(body) : undefined,
            // @ts-expect-error undici's dispatcher option is not in the DOM fetch types
            dispatcher: agent,
          });
          return { status: res.status, json: (await res.json()) as Record<string, unknown> };
        };
        const health = async () => (await fetch(`http://127.0.0.1:${current.httpPort}/health`).then((r) => r.json())) as {
          status: string;
          eventBus?: { ok: boolean };
          outbox?: { ok: boolean; backlog: number; oldestAgeMs: number };
        };
        const metric = async (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(await (await fetch(`http://127.0.0.1:${current.httpPort}/metrics`)).text())?.[1]);
        const waitFor = async (what: string, cond: () => boolean | Promise<boolean>, ms = 20_000) => {
          const until = Date.now() + ms;
          while (!(await cond())) {
            if (Date.now() > until) throw new Error(`timed out waiting for ${what}\n${current.output().slice(-3000)}`);
            await new Promise((r) => setTimeout(r, 50));
          }
        };

        const ca = await api('POST', '/api/ca/v1/cas', { subject: { common_name: 'Outbox CA' }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration: '1y' } });
        assert.equal(ca.status, 201, JSON.stringify(ca.json));
        const caId = ca.json.id as string;
        execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=outbox-device'], { cwd: dataDir, stdio: 'ignore' });
        const csr = readFileSync(path.join(dataDir, 'leaf.csr')).toString('base64');
        const issue = async (n: number) => {
          const answers = await Promise.all(Array.from({ length: n }, () => api('POST', `/api/ca/v1/cas/${caId}/certificates/sign`, { csr })));
          return answers.map((r) => {
            assert.equal(r.status, 201, JSON.stringify(r.json));
            return { id: r.json.id as string | undefined, serial: r.json.serial_number as string };
          });
        };
        const issued = await issue(CERTS);
        // With the link up, the events arrive at once (the relay is woken by the commit).
        await waitFor('the events of the link-up phase', () => seen.filter((e) => e.type === 'certificate.create').length === CERTS && seen.some((e) => e.type === 'ca.create'));
        const before = seen.length;

        // Cut the link and keep it cut: everything from now on can only wait in the outbox.
        await proxy.refuseFor(600_000);
        await waitFor('/health to show the bus down', async () => (await health()).eventBus?.ok === false);
        const steps = [
          { status: 'REVOKED', revocation_reason: 'CertificateHold' },
          { status: 'ACTIVE' },
          { status: 'REVOKED', revocation_reason: 'KeyCompromise' },
        ];
        for (const step of steps) {
          const answers = await Promise.all(issued.map((c) => api('PUT', `/api/ca/v1/certificates/${c.serial}/status`, step)));
          for (const r of answers) assert.equal(r.status, 200, JSON.stringify(r.json));
        }
        const issuedWhileDown = await issue(ISSUED_WHILE_DOWN);
        const expected = CERTS * steps.length + ISSUED_WHILE_DOWN;
        const down = await health();
        assert.equal(down.status, 'degraded');
        assert.ok(down.outbox && down.outbox.backlog >= expected, JSON.stringify(down));
        assert.ok((await metric('lamassu_outbox_backlog_events')) >= expected);
        assert.equal(seen.length, before, 'nothing reached the broker while the link was down');

        // Between commit and publish: the process dies with every one of those events unsent.
        process.kill(current.pid, 'SIGKILL');
        await waitFor('the server to die', () => {
          try {
            process.kill(current.pid, 0);
            return false;
          } catch {
            return true;
          }
        });
        await proxy.close();
        current = server = await startLamassu({ ...env, LAMASSU_AMQP_URL: amqpUrl(), LAMASSU_LOG_LEVEL: 'info' }, { dataDir });

        await waitFor('every event after the restart', () => seen.length >= before + expected);
        await waitFor('the outbox to drain', async () => (await health()).outbox?.backlog === 0);
        const after = seen.slice(before);
        assert.equal(after.length, expected, 'no more than the events of the changes');
        assert.equal(new Set(seen.map((e) => e.id)).size, seen.length, 'each event id once');
        for (const c of issued) {
          const history = after.filter((e) => e.type === 'certificate.status.update' && e.data.serial_number === c.serial).map((e) => `${e.data.status}/${e.data.revocation_reason}`);
          assert.deepEqual(history, ['REVOKED/CertificateHold', 'ACTIVE/null', 'REVOKED/KeyCompromise'], `order for ${c.serial}`);
        }
        const created = new Set(after.filter((e) => e.type === 'certificate.create').map((e) => e.data.serial_number));
        for (const c of issuedWhileDown) assert.ok(created.has(c.serial), `certificate.create of ${c.serial}`);
        assert.equal((await health()).status, 'ok');
        assert.equal(await metric('lamassu_outbox_backlog_events'), 0);
      } finally {
        await server?.stop();
        await proxy.close().catch(() => undefined);
        await conn.close().catch(() => undefined);
        await agent.close();
        await db?.drop();
        rmSync(dataDir, { recursive: true, force: true });
        await removePrefixTopology(prefix, ['va.crl', 'va.roles']);
      }
    });
  });
}
