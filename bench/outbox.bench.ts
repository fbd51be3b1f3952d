/**
 * Events that are never lost, measured (issue 10):
 *
 * 1. Outbox relay throughput (target >= 5,000 events/s): N events (default 50,000, realistic
 *    certificate.status.update envelopes) are written to a fresh outbox on SQLite and on PostgreSQL, then the
 *    product's OutboxRelay drains them into RabbitMQ through the AMQP bus with publisher confirms (rows are
 *    deleted only once confirmed); the exchange routes them to a durable queue, as a consumer group's would.
 *    Timed from relay start to the last row confirmed and deleted. The peer in the same run: bare amqplib
 *    on a confirm channel publishing the same N messages to the same exchange and queue (no database): the
 *    ceiling of any relay on this broker.
 * 2. Commit -> webhook latency at a steady rate (target p99 < 500 ms at 500 events/s): a real
 *    `lamassu serve` (ca,alerts; PostgreSQL and RabbitMQ) with one WEBHOOK alert subscription to a local HTTP
 *    receiver. Events at a fixed rate (open loop), from OUTBOX_BENCH_SOURCE: `api` (default), certificate
 *    metadata updates through the API, one event each (the whole product path); `outbox`, one transaction per
 *    event appending it to the outbox from the benchmark's own connection, as another replica's change would
 *    (the server's relay finds them by polling, every 200 ms). Latency = webhook received - the event's
 *    `time` (set inside the transaction, just before the commit: an upper bound of commit -> received).
 *
 * Environment: OUTBOX_BENCH_N (50000), OUTBOX_BENCH_RUNS (3), OUTBOX_BENCH_RATE (500 events/s),
 * OUTBOX_BENCH_SECONDS (20), OUTBOX_BENCH_PART (relay | latency | both), OUTBOX_BENCH_SOURCE (api | outbox),
 * OUTBOX_BENCH_BATCH (the relay's batch size, default the product's 500), OUTBOX_BENCH_PROFILE=<dir> (the
 * server's CPU profile into <dir>, each stage's row counts every second, the server's log). Every queue,
 * exchange, schema and directory it makes is removed at the end.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import amqp from 'amqplib';
import { Agent } from 'undici';
import { removePrefixTopology } from '../test/support/amqp-topology.ts';
import { startHttpReceiver } from '../test/support/http-receiver.ts';
import { startLamassu, type LamassuProcess } from '../test/support/lamassu-process.ts';
import { amqpUrl, needPostgres, needRabbitMq, postgresUrl } from '../test/support/services.ts';
import { freshTestDatabase, type StorageKind } from '../test/support/storage.ts';
import { syntheticCertificate, DAY } from '../test/support/sweep-fixture.ts';
import { systemClock } from '../src/domain/ports/clock.ts';
import type { CloudEvent } from '../src/domain/ports/event-bus.ts';
import { silentLogger } from '../src/domain/ports/logger.ts';
import { AmqpEventBus } from '../src/engines/eventbus/amqp-event-bus.ts';
import { OutboxRelay } from '../src/engines/outbox/outbox-relay.ts';
import { createStorage } from '../src/engines/storage/create-storage.ts';

const N = Number(process.env.OUTBOX_BENCH_N ?? 50_000);
const RUNS = Number(process.env.OUTBOX_BENCH_RUNS ?? 3);
const RATE = Number(process.env.OUTBOX_BENCH_RATE ?? 500);
const SECONDS = Number(process.env.OUTBOX_BENCH_SECONDS ?? 20);
const PART = process.env.OUTBOX_BENCH_PART ?? 'both';
const SOURCE = process.env.OUTBOX_BENCH_SOURCE ?? 'api';
const SINK_GROUP = 'bench-sink';

/** The 1-minute load average, for the record (the machine is shared). */
const load = () => `load ${loadavg()[0]!.toFixed(1)}`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;

/** A certificate.status.update as the CA service writes it (~600 bytes of JSON). */
function statusEvent(i: number): CloudEvent {
  return {
    specversion: '1.0',
    id: randomUUID(),
    source: 'lamassu/ca',
    type: 'certificate.status.update',
    time: new Date().toISOString(),
    subject: `cert-${i}`,
    datacontenttype: 'application/json',
    data: {
      id: `cert-${i}`,
      serial_number: randomUUID().replaceAll('-', ''),
      issuer_ca_id: 'bench-ca',
      ca_id: null,
      subject_common_name: `device-${i}.plant-1.example.com`,
      status: 'REVOKED',
      previous_status: 'ACTIVE',
      revocation_reason: 'KeyCompromise',
      valid_to: new Date(Date.now() + 365 * DAY).toISOString(),
    },
    actor: 'bench',
  };
}

/** Declares a durable queue bound to every event type of the deployment, as a consumer group's would be. */
async function bindSink(ch: amqp.Channel, prefix: string): Promise<void> {
  await ch.assertExchange(`${prefix}-events`, 'topic', { durable: true });
  await ch.assertQueue(`${prefix}.${SINK_GROUP}`, { durable: true });
  await ch.bindQueue(`${prefix}.${SINK_GROUP}`, `${prefix}-events`, '#');
}

/** One relay run: fill the outbox, then time the product's relay draining it into RabbitMQ. */
async function relayRun(kind: StorageKind, conn: amqp.ChannelModel): Promise<number> {
  const prefix = `bench-outbox-${randomUUID().slice(0, 8)}`;
  const db = freshTestDatabase(kind);
  const storage = await createStorage(db.config);
  const ch = await conn.createChannel();
  let bus: AmqpEventBus | undefined;
  let relay: OutboxRelay | undefined;
  try {
    await bindSink(ch, prefix);
    const events = Array.from({ length: N }, (_, i) => statusEvent(i));
    for (let i = 0; i < N; i += 5000) await storage.transaction((tx) => tx.outbox.append(events.slice(i, i + 5000)));
    bus = new AmqpEventBus({ url: amqpUrl(), prefix, logger: silentLogger });
    await bus.connect();
    relay = new OutboxRelay({ outbox: storage.outbox, leases: storage.leases, bus, clock: systemClock, logger: silentLogger, holder: 'bench', ...(process.env.OUTBOX_BENCH_BATCH ? { batchSize: Number(process.env.OUTBOX_BENCH_BATCH) } : {}) });
    const started = performance.now();
    relay.start();
    while (relay.state().relayed < N) await new Promise((r) => setTimeout(r, 5));
    const seconds = (performance.now() - started) / 1000;
    if ((await storage.outbox.backlog()).count !== 0) throw new Error('outbox not empty after the relay counted every row');
    const { messageCount } = await ch.checkQueue(`${prefix}.${SINK_GROUP}`);
    if (messageCount < N) throw new Error(`the queue holds ${messageCount} of ${N} events`);
    return N / seconds;
  } finally {
    await relay?.stop();
    await bus?.close();
    await ch.close().catch(() => undefined);
    await storage.close();
    await db.drop();
    await removePrefixTopology(prefix, [SINK_GROUP]);
  }
}

/** The peer: bare amqplib, confirm channel, the same messages and topology, batches of 500 like the relay's. */
async function amqplibRun(conn: amqp.ChannelModel): Promise<number> {
  const prefix = `bench-outbox-${randomUUID().slice(0, 8)}`;
  const ch = await conn.createConfirmChannel();
  try {
    await bindSink(ch, prefix);
    const bodies = Array.from({ length: N }, (_, i) => statusEvent(i));
    const started = performance.now();
    for (let i = 0; i < N; i += 500) {
      for (const e of bodies.slice(i, i + 500)) {
        ch.publish(`${prefix}-events`, e.type, Buffer.from(JSON.stringify(e)), { persistent: true, contentType: 'application/cloudevents+json', messageId: e.id });
      }
      await ch.waitForConfirms();
    }
    return N / ((performance.now() - started) / 1000);
  } finally {
    await ch.close().catch(() => undefined);
    await removePrefixTopology(prefix, [SINK_GROUP]);
  }
}

async function relayBenchmark(): Promise<void> {
  const conn = await amqp.connect(amqpUrl());
  try {
    const kinds: StorageKind[] = (await needPostgres()) ? ['sqlite', 'postgres'] : ['sqlite'];
    const results: Record<string, number[]> = { amqplib: [] };
    for (const k of kinds) results[k] = [];
    for (let run = 1; run <= RUNS; run++) {
      // Interleaved, so a noisy moment of the shared machine hits every contender alike.
      for (const k of kinds) results[k]!.push(await relayRun(k, conn));
      results.amqplib!.push(await amqplibRun(conn));
      console.log(`run ${run} (${new Date().toISOString().slice(11, 16)} UTC, ${load()}): ${Object.entries(results).map(([k, v]) => `${k} ${Math.round(v.at(-1)!)}/s`).join(', ')}`);
    }
    const peer = median(results.amqplib!);
    console.log(`\nOutbox relay, ${N} events, medians of ${RUNS} runs (events/s):`);
    console.log('| contender | events/s (runs) | median | vs bare amqplib |');
    console.log('| --- | --- | ---: | ---: |');
    for (const [k, v] of Object.entries(results)) {
      const name = k === 'amqplib' ? 'bare amqplib confirm channel (no database)' : `OutboxRelay, ${k === 'sqlite' ? 'SQLite' : 'PostgreSQL'} -> RabbitMQ`;
      console.log(`| ${name} | ${v.map(Math.round).join(' / ')} | ${Math.round(median(v))} | ${Math.round((median(v) / peer) * 100)}% |`);
    }
  } finally {
    await conn.close();
  }
}

/** One latency run against a real server: RATE events/s for SECONDS, commit -> webhook received. */
async function latencyRun(): Promise<{ p50: number; p99: number; max: number; sent: number; received: number; achievedRate: number }> {
  const prefix = `bench-alerts-${randomUUID().slice(0, 8)}`;
  const db = freshTestDatabase('postgres');
  const dir = mkdtempSync(path.join(tmpdir(), 'lamassu-bench-outbox-'));
  const hook = await startHttpReceiver();
  let server: LamassuProcess | undefined;
  let agent: Agent | undefined;
  // Everything made so far is removed in `finally`, also when the server does not come up.
  const cleanUp = async () => {
    if (server && process.env.OUTBOX_BENCH_PROFILE) console.log(server.output().slice(-3000));
    await server?.stop();
    await agent?.close();
    await hook.close();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
    await removePrefixTopology(prefix, ['alerts']);
  };
  try {
    server = await startLamassu(
      {
        LAMASSU_SERVICES: 'ca,alerts',
        DATABASE_URL: postgresUrl(),
        LAMASSU_POSTGRES_SCHEMA: (db.config as { schema: string }).schema,
        LAMASSU_AMQP_URL: amqpUrl(),
        LAMASSU_AMQP_PREFIX: prefix,
      },
      { deadlineMs: 60_000, ...(process.env.OUTBOX_BENCH_PROFILE ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${process.env.OUTBOX_BENCH_PROFILE}`] } : {}) },
    );
    const up = server;
    agent = new Agent({ connect: { ca: readFileSync(up.tlsCaFile) }, connections: 32 });
    const dispatcher = agent;
    const api = async (method: string, url: string, body?: unknown) => {
      const res = await fetch(`https://127.0.0.1:${up.httpsPort}${url}`, {
        method,
        headers: { authorization: `Bearer ${up.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
        // @ts-expect-error undici's dispatcher option is not in the DOM fetch types
        dispatcher,
      });
      const json = (await res.json()) as Record<string, unknown>;
      if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };
    const ca = await api('POST', '/api/ca/v1/cas', { subject: { common_name: 'Bench CA' }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration: '1y' } });
    // Certificates to update: written in bulk (setup), the events come from the API's metadata updates.
    const storage = await createStorage(db.config);
    const serials: string[] = [];
    try {
      const certs = Array.from({ length: 200 }, (_, i) => syntheticCertificate(i, { issuerCaId: ca.id as string, notAfter: Date.now() + 365 * DAY, thresholdMs: DAY, status: 'ACTIVE' }, 'bench'));
      await storage.certificates.insertMany(certs);
      serials.push(...certs.map((c) => c.serialNumber));
    } finally {
      await storage.close();
    }
    await api('POST', '/api/alerts/v1/user/bench/subscribe', { event_type: 'certificate.metadata.update', conditions: [], channel: { type: 'WEBHOOK', name: 'bench', config: { webhook_url: hook.url, webhook_method: 'POST' } } });
    // Warm-up: connections, caches, JIT.
    for (let i = 0; i < 200; i++) await api('PUT', `/api/ca/v1/certificates/${serials[i % serials.length]}/metadata`, { warmup: i });
    await hook.waitFor(200, 30_000);
    hook.received.length = 0;

    const total = RATE * SECONDS;
    const started = performance.now();
    let sampler: NodeJS.Timeout | undefined;
    let stopSampling = async () => {};
    if (process.env.OUTBOX_BENCH_PROFILE) {
      const pgc = new (await import('pg')).default.Client({ connectionString: postgresUrl() });
      await pgc.connect();
      stopSampling = async () => {
        clearInterval(sampler);
        await pgc.end();
      };
      const schema = (db.config as { schema: string }).schema;
      sampler = setInterval(async () => {
        const q = async (sql: string) => (await pgc.query(sql)).rows;
        const [o] = await q(`select count(*) n from ${schema}.outbox`);
        const [e] = await q(`select count(*) n from ${schema}.alert_events`);
        const d = await q(`select status, count(*) n from ${schema}.alert_deliveries group by status`);
        console.log(`t=${Math.round(performance.now() - started)} sent=${sent} outbox=${o.n} events=${e.n} deliveries=${JSON.stringify(d.map((r) => `${r.status}:${r.n}`))} hook=${hook.received.length}`);
      }, 1000);
    }
    let sent = 0;
    let failed = 0;
    const inFlight = new Set<Promise<void>>();
    // Events committed to the outbox by a writer of our own (as another replica's changes are), or API calls.
    const writer = SOURCE === 'outbox' ? await createStorage(db.config) : undefined;
    const emit = (i: number): Promise<unknown> =>
      writer
        ? writer.transaction((tx) => tx.outbox.append([{ ...statusEvent(i), type: 'certificate.metadata.update', time: new Date().toISOString() }]))
        : api('PUT', `/api/ca/v1/certificates/${serials[i % serials.length]}/metadata`, { n: i });
    // Open loop: event i leaves at started + i / RATE, whether or not earlier ones have been answered.
    while (sent < total) {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * RATE) + 1);
      while (sent < due) {
        const p = emit(sent++)
          .then(() => undefined, () => void failed++)
          .finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    await Promise.all(inFlight);
    await writer?.close();
    const achievedRate = total / ((performance.now() - started) / 1000);
    await hook.waitFor(total - failed, 60_000).catch(() => undefined);
    await stopSampling();
    const received = hook.received.map((r) => ({ at: r.at, event: JSON.parse(r.body) as CloudEvent }));
    const duplicates = received.length - new Set(received.map((r) => r.event.id)).size;
    if (duplicates > 0) console.log(`  ${duplicates} duplicate deliveries (same event id twice)`);
    const latencies = received.map((r) => r.at - Date.parse(r.event.time)).sort((a, b) => a - b);
    if (failed > 0) console.log(`  ${failed} requests failed`);
    return { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: latencies.at(-1)!, sent: total, received: latencies.length, achievedRate };
  } finally {
    await cleanUp();
  }
}

async function latencyBenchmark(): Promise<void> {
  const runs = [];
  for (let run = 1; run <= RUNS; run++) {
    const r = await latencyRun();
    runs.push(r);
    console.log(`run ${run} (${new Date().toISOString().slice(11, 16)} UTC, ${load()}, source ${SOURCE}): ${r.received}/${r.sent} received, ${Math.round(r.achievedRate)} events/s offered; p50 ${r.p50} ms, p99 ${r.p99} ms, max ${r.max} ms`);
  }
  console.log(`\nCommit -> webhook received at ${RATE} events/s for ${SECONDS} s, medians of ${RUNS} runs: p50 ${median(runs.map((r) => r.p50))} ms, p99 ${median(runs.map((r) => r.p99))} ms (runs ${runs.map((r) => r.p99).join(' / ')}), max ${median(runs.map((r) => r.max))} ms`);
}

export async function run(): Promise<void> {
  if (!(await needRabbitMq())) throw new Error('the outbox benchmark needs RabbitMQ');
  if (PART !== 'latency') await relayBenchmark();
  if (PART !== 'relay') {
    if (!(await needPostgres())) throw new Error('the latency benchmark needs PostgreSQL');
    await latencyBenchmark();
  }
}
