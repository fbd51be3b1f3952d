/**
 * EST simpleenroll throughput (issue 5 target: >= 200/s): a real `lamassu serve` process, a P-256 CA, a
 * DMS authenticating by its DMS certificate, and a NEW mutual-TLS connection for every enrollment (no
 * session resumption, `Connection: close`), on SQLite and on PostgreSQL. Each TLS context is built once
 * (the server's at start, the client's here) and reused for every connection.
 *
 * The TLS handshake's share is measured two ways: server CPU of handshake-only connections (connect,
 * handshake, close) against server CPU of full enrollments (both from /proc/<pid>/stat), and the
 * client-observed share of each enrollment's latency spent before `secureConnect`.
 *
 * Issue 12: enrollments/s against the handshake-only ceiling (connections/s of connect + handshake + close,
 * measured right before and right after each row's enrollments on the same server, mean of the two), and
 * the same again with TLS session resumption (the client offers the ticket of its previous connection, as a
 * device that re-enrolls and kept its ticket would): resumed enrollments against resumed handshakes.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import tls from 'node:tls';
import pg from 'pg';
import { SoftwareServerKeyGenerator } from '../src/engines/dms/software-server-key-generator.ts';
import { buildName } from '../src/x509/name.ts';
import { admin, pemOf, } from '../test/e2e/est-server.ts';
import { startLamassu, type LamassuProcess } from '../test/support/lamassu-process.ts';
import { needPostgres, postgresUrl } from '../test/support/services.ts';

const ENROLLMENTS = Number(process.env.EST_BENCH_N ?? 1000);
const CONCURRENCY = Number(process.env.EST_BENCH_CONCURRENCY ?? 8);
const CLK_TCK = 100;

/** utime + stime of a process in ms. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

interface Target {
  server: LamassuProcess;
  context: tls.SecureContext;
  maxVersion: tls.SecureVersion;
  /** Resume this TLS session (kept up to date from the server's tickets) instead of a full handshake. */
  resume?: { session?: Buffer };
}

/** Peak and current resident set of a process and its children (a `--workers` server), MB. */
function rssMb(pid: number): { peak: number; now: number } {
  const pids = [pid, ...childPids(pid)];
  let peak = 0;
  let now = 0;
  for (const p of pids) {
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      peak += Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
      now += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
    } catch {
      // gone meanwhile
    }
  }
  return { peak, now };
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

interface Outcome {
  handshakeMs: number;
  totalMs: number;
}

/** One new TLS connection; with a body, one HTTP request on it, read to the end (the server closes). */
function connection(t: Target, request?: Buffer): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    let handshakeMs = 0;
    const socket = tls.connect({
      host: '127.0.0.1',
      port: t.server.httpsPort,
      servername: 'localhost',
      secureContext: t.context,
      minVersion: t.maxVersion,
      maxVersion: t.maxVersion,
      ...(t.resume?.session ? { session: t.resume.session } : {}),
    });
    if (t.resume) socket.on('session', (s: Buffer) => (t.resume!.session = s));
    const chunks: Buffer[] = [];
    socket.once('secureConnect', () => {
      handshakeMs = performance.now() - start;
      if (!request) return socket.end();
      socket.write(request);
    });
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.once('error', reject);
    socket.once('close', () => {
      if (request) {
        const head = Buffer.concat(chunks).subarray(0, 16).toString('latin1');
        if (!head.startsWith('HTTP/1.1 200')) return reject(new Error(`enrollment failed: ${Buffer.concat(chunks).toString('latin1').slice(0, 300)}`));
      }
      resolve({ handshakeMs, totalMs: performance.now() - start });
    });
  });
}

/** Runs `jobs` with CONCURRENCY workers; returns wall ms, server CPU ms and the outcomes. */
async function drive(t: Target, jobs: (Buffer | undefined)[]) {
  const outcomes: Outcome[] = [];
  let next = 0;
  const pids = [t.server.pid, ...childPids(t.server.pid)];
  const serverCpu = () => pids.reduce((sum, p) => sum + cpuMs(p), 0);
  const cpu0 = serverCpu();
  const client0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < jobs.length) outcomes.push(await connection(t, jobs[next++]));
    }),
  );
  const wallMs = performance.now() - t0;
  const client = process.cpuUsage(client0);
  // The load client is this process: its CPU in cores, to see whether it left the server room.
  return { wallMs, serverCpuMs: serverCpu() - cpu0, clientCores: (client.user + client.system) / 1000 / wallMs, outcomes };
}

/** Base64 CSRs of fresh P-256 keys, one device each, made before the clock starts. */
async function csrBodies(prefix: string, n: number): Promise<string[]> {
  const gen = new SoftwareServerKeyGenerator();
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const { csrDer } = await gen.generate({ type: 'ECDSA', bits: 256 }, buildName({ common_name: `${prefix}-${i}` }));
    out.push(Buffer.from(csrDer).toString('base64'));
  }
  return out;
}

const httpRequest = (body: string) =>
  Buffer.from(
    'POST /.well-known/est/bench/simpleenroll HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/pkcs10\r\n' +
      `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
  );

async function setUp(server: LamassuProcess): Promise<{ cert: string; key: string }> {
  await admin(server, 'POST', '/api/ca/v1/cas', {
    id: 'bench-ca',
    subject: { common_name: 'Bench CA' },
    key_metadata: { type: 'ECDSA', bits: 256 },
    ca_expiration: { type: 'Duration', duration: '10y' },
  });
  await admin(server, 'POST', '/api/dmsmanager/v1/dms', {
    id: 'bench',
    name: 'Bench DMS',
    authorized_cas: ['bench-ca'],
    settings: { enrollment_settings: { enrollment_ca: 'bench-ca', est_rfc7030_settings: { auth_mode: 'DMS_CERTIFICATE' } } },
  });
  const res = (await admin(server, 'POST', '/api/dmsmanager/v1/dms/bench/certificate', { key: { type: 'ECDSA', bits: 256 } })).json;
  return { cert: pemOf(res.certificate), key: pemOf(res.private_key) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(storage: string, env: Record<string, string>, versions: tls.SecureVersion[]): Promise<string[]> {
  // EST_BENCH_SERVER_ARGS="--cpu-prof --cpu-prof-dir=/tmp/x" profiles the server.
  const server = await startLamassu(env, { nodeArgs: process.env.EST_BENCH_SERVER_ARGS?.split(' ').filter(Boolean) ?? [] });
  const rows: string[] = [];
  try {
    const dms = await setUp(server);
    // The one client context: DMS certificate and key, trusting the server's TLS CA.
    const context = tls.createSecureContext({ cert: dms.cert, key: dms.key, ca: readFileSync(server.tlsCaFile) });
    for (const maxVersion of versions) {
      const tag = `${storage}-${maxVersion}-${Date.now()}`;
      const bodies = await csrBodies(tag, 2 * ENROLLMENTS + 100);
      for (const resumed of [false, true]) {
        const t: Target = { server, context, maxVersion, ...(resumed ? { resume: {} } : {}) };
        const own = resumed ? bodies.slice(ENROLLMENTS + 50) : bodies.slice(0, ENROLLMENTS + 50);
        // Warm-up: JIT, caches, database pages (and, resumed, the first ticket).
        await drive(t, own.slice(ENROLLMENTS).map(httpRequest));
        // The ceiling is measured right before and right after the enrollments; its mean is the row's ceiling.
        const before = await drive(t, Array.from({ length: ENROLLMENTS }, () => undefined));
        const enroll = await drive(t, own.slice(0, ENROLLMENTS).map(httpRequest));
        const after = await drive(t, Array.from({ length: ENROLLMENTS }, () => undefined));
        const perSec = (ENROLLMENTS * 1000) / enroll.wallMs;
        const hsPerSec = (2 * ENROLLMENTS * 1000) / (before.wallMs + after.wallMs);
        const latencyShare = enroll.outcomes.reduce((s, o) => s + o.handshakeMs, 0) / enroll.outcomes.reduce((s, o) => s + o.totalMs, 0);
        const cpuPerEnroll = enroll.serverCpuMs / ENROLLMENTS;
        const cpuPerHandshake = (before.serverCpuMs + after.serverCpuMs) / (2 * ENROLLMENTS);
        const rss = rssMb(server.pid);
        rows.push(
          `| ${storage} | ${maxVersion}${resumed ? ' resumed' : ''} | **${perSec.toFixed(0)}** | ${hsPerSec.toFixed(0)} | **${((100 * perSec) / hsPerSec).toFixed(0)}%** | ${cpuPerEnroll.toFixed(2)} | ${cpuPerHandshake.toFixed(2)} (${((100 * cpuPerHandshake) / cpuPerEnroll).toFixed(0)}%) | ` +
            `${median(enroll.outcomes.map((o) => o.totalMs)).toFixed(1)} | ${(100 * latencyShare).toFixed(0)}% | ${rss.peak.toFixed(0)} | ${enroll.clientCores.toFixed(2)} | ${os.loadavg()[0]!.toFixed(1)} |`,
        );
        console.log(rows.at(-1));
      }
    }
  } finally {
    await server.stop();
  }
  return rows;
}

export async function run(): Promise<void> {
  console.log(`EST simpleenroll, ${ENROLLMENTS} enrollments per row, ${CONCURRENCY} concurrent clients, a new mutual-TLS connection each`);
  console.log(
    '| storage | TLS | enrollments/s | handshake-only conn/s (ceiling) | of ceiling | server CPU ms/enrollment | of which TLS handshake ms (share) | median latency ms | handshake share of client latency | server peak RSS MB | load client CPU (cores) | load avg |',
  );
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  // EST_BENCH_STORAGE=sqlite or =postgres runs one of the two.
  const only = process.env.EST_BENCH_STORAGE;
  // EST_BENCH_WORKERS=N runs `lamassu serve` with N worker processes.
  const workers: Record<string, string> = process.env.EST_BENCH_WORKERS ? { LAMASSU_WORKERS: process.env.EST_BENCH_WORKERS } : {};
  console.log(`server: ${workers.LAMASSU_WORKERS ?? 'default'} worker process(es)`);
  if (only !== 'postgres') await measure('SQLite', { ...workers }, ['TLSv1.3', 'TLSv1.2']);
  if (only === 'sqlite') return;
  if (!(await needPostgres())) {
    console.log('| PostgreSQL | - | SKIPPED: PostgreSQL not reachable | | | | | | | | |');
    return;
  }
  const schema = `bench_est_${process.pid}`;
  try {
    await measure('PostgreSQL', { ...workers, DATABASE_URL: postgresUrl(), LAMASSU_POSTGRES_SCHEMA: schema }, ['TLSv1.3', 'TLSv1.2']);
  } finally {
    const client = new pg.Client({ connectionString: postgresUrl() });
    await client.connect();
    await client.query(`drop schema if exists ${schema} cascade`);
    await client.end();
  }
}
