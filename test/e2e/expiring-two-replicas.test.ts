/**
 * Issue 10's done-when on expiry: 10,000 certificates crossing a preventive delta give 10,000
 * `certificate.expiring` events, one each, across sweeps on two replicas. Two real `lamassu serve`
 * processes on one PostgreSQL database and RabbitMQ, sweeping every second behind the sweep lease. The
 * certificates are written in bulk through the repository (setup only), their preventive thresholds spread
 * over a few seconds ahead, so several sweeps find them: first on replica A (which took the lease at
 * start), then, once A stops and gives the lease up, on B. A consumer of the deployment's exchange counts
 * the events; more sweeps afterwards announce nothing.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import amqp from 'amqplib';
import { Agent } from 'undici';
import { removePrefixTopology } from '../support/amqp-topology.ts';
import { teardown } from '../support/bounded.ts';
import { startLamassu, type LamassuProcess } from '../support/lamassu-process.ts';
import { amqpUrl, needPostgres, needRabbitMq, postgresUrl } from '../support/services.ts';
import { freshTestDatabase, type TestDatabase } from '../support/storage.ts';
import { DAY, syntheticCertificate } from '../support/sweep-fixture.ts';
import { createStorage } from '../../src/engines/storage/create-storage.ts';

const N = 10_000;
const PREVENTIVE = 30 * DAY;
/** The certificates' preventive thresholds fall in [first, first + SPREAD_MS]. */
const SPREAD_MS = 6000;

interface Expiring {
  id: string;
  type: string;
  subject: string;
  data: { serial_number: string; delta: string; delta_value: string; delta_source: string; issuer_ca_id: string };
}

describe('certificate.expiring across sweeps on two replicas (PostgreSQL, RabbitMQ)', { timeout: 180_000 }, async () => {
  if (!(await needPostgres()) || !(await needRabbitMq())) {
    it('runs with PostgreSQL and RabbitMQ', { skip: 'SERVICE MISSING: PostgreSQL or RabbitMQ' }, () => {});
    return;
  }
  const prefix = `test-expiring-${randomUUID().slice(0, 8)}`;
  let db: TestDatabase;
  let a: LamassuProcess;
  let b: LamassuProcess;
  let agent: Agent;
  let conn: amqp.ChannelModel;
  const seen: Expiring[] = [];

  before(async () => {
    db = freshTestDatabase('postgres');
    const env = {
      LAMASSU_SERVICES: 'ca',
      DATABASE_URL: postgresUrl(),
      LAMASSU_POSTGRES_SCHEMA: (db.config as { schema: string }).schema,
      LAMASSU_AMQP_URL: amqpUrl(),
      LAMASSU_AMQP_PREFIX: prefix,
      LAMASSU_STATUS_SWEEP_INTERVAL: '1s',
      LAMASSU_LOG_LEVEL: 'info',
    };
    // A first: it runs the sweep at start and so holds the sweep lease; B's sweeps skip while A lives.
    a = await startLamassu(env);
    b = await startLamassu(env);
    agent = new Agent({ connect: { ca: readFileSync(a.tlsCaFile) } });
    conn = await amqp.connect(amqpUrl());
    const ch = await conn.createChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true });
    await ch.bindQueue(queue, `${prefix}-events`, 'certificate.expiring');
    await ch.consume(queue, (msg) => {
      if (!msg) return;
      seen.push(JSON.parse(msg.content.toString('utf8')) as Expiring);
      ch.ack(msg);
    });
  });

  after(async () => {
    await teardown([
      ['stopping replica A', () => a?.stop()],
      ['stopping replica B', () => b?.stop()],
      ['closing the AMQP connection', () => conn?.close()],
      ['closing the HTTP agent', () => agent?.close()],
      ['dropping the test database', () => db?.drop()],
      ['removing the test topology', () => removePrefixTopology(prefix, [])],
    ], 30_000);
  });

  it('10,000 certificates crossing the preventive delta: 10,000 events, one per certificate, from sweeps on both replicas', async () => {
    const ca = await fetch(`https://127.0.0.1:${a.httpsPort}/api/ca/v1/cas`, {
      method: 'POST',
      headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ subject: { common_name: 'Expiry CA' }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration: '10y' }, expiration_deltas: { preventive_delta: '30d', critical_delta: null } }),
      // @ts-expect-error undici's dispatcher option is not in the DOM fetch types
      dispatcher: agent,
    });
    const caJson = (await ca.json()) as { id: string; expiration_deltas: unknown };
    assert.equal(ca.status, 201, JSON.stringify(caJson));
    assert.deepEqual(caJson.expiration_deltas, { preventive_delta: '30d', critical_delta: null });

    // Setup: the certificates the CA would have issued under its deltas, written in bulk.
    const first = Date.now() + 3000;
    const storage = await createStorage(db.config);
    try {
      const certs = Array.from({ length: N }, (_, i) => ({
        ...syntheticCertificate(i, { issuerCaId: caJson.id, notAfter: first + PREVENTIVE + Math.floor((i * SPREAD_MS) / N), thresholdMs: 1000, status: 'ACTIVE' }, `exp-${prefix}`),
        expiry: { source: 'ca' as const, deltas: { preventiveMs: PREVENTIVE, criticalMs: null }, stage: 'none' as const, profileId: null, dmsId: null },
      }));
      for (let i = 0; i < N; i += 2500) await storage.certificates.insertMany(certs.slice(i, i + 2500));
    } finally {
      await storage.close();
    }

    // A sweeps the first half of the crossings, then stops (giving its leases up); B sweeps the rest.
    await new Promise((r) => setTimeout(r, first + SPREAD_MS / 2 - Date.now()));
    await a.stop();
    const until = first + SPREAD_MS + 20_000;
    while (seen.length < N) {
      assert.ok(Date.now() < until, `only ${seen.length} certificate.expiring events of ${N}\n${b.output().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // Three more sweeps on B announce nothing again.
    await new Promise((r) => setTimeout(r, 3500));

    assert.equal(seen.length, N, 'no event twice');
    assert.equal(new Set(seen.map((e) => e.id)).size, N, 'distinct event ids');
    assert.equal(new Set(seen.map((e) => e.data.serial_number)).size, N, 'one event per certificate');
    for (const e of seen) {
      assert.equal(e.type, 'certificate.expiring');
      assert.deepEqual([e.data.delta, e.data.delta_value, e.data.delta_source, e.data.issuer_ca_id], ['preventive', '30d', 'ca', caJson.id]);
    }
    // Each replica's sweeps announced a share, adding up to N.
    const announcedBy = (p: LamassuProcess) =>
      p
        .output()
        .split('\n')
        .filter((l) => l.includes('status sweep changed certificates'))
        .reduce((n, l) => n + (JSON.parse(l) as { expiring: number }).expiring, 0);
    const [byA, byB] = [announcedBy(a), announcedBy(b)];
    assert.ok(byA > 0 && byB > 0, `both replicas swept: A ${byA}, B ${byB}`);
    assert.equal(byA + byB, N);
    const sweepsOf = (p: LamassuProcess) => p.output().split('\n').filter((l) => l.includes('status sweep changed certificates')).length;
    assert.ok(sweepsOf(a) + sweepsOf(b) >= 2, 'more than one sweep found crossings');
    console.log(`announced by A: ${byA} in ${sweepsOf(a)} sweeps; by B: ${byB} in ${sweepsOf(b)} sweeps`);
  });
});
