/**
 * Issuance throughput against cfssl (issue 12 target: >= 3x cfssl with its certificate database, both durable;
 * issue 3 had >= 2x cfssl storing nothing, kept as a second reference line; with durable
 * storage): `POST /api/ca/v1/cas/{id}/certificates/sign` on a real `lamassu serve` process (SQLite, then
 * PostgreSQL) and `cfssl serve` `/api/v1/cfssl/sign`, same machine, same run, same load client: wrk with
 * bench/issuance-load.lua rotating through a pool of pre-generated P-256 CSRs (each with its own key),
 * keep-alive connections, both servers behind TLS. Rounds are interleaved (cfssl, SQLite, PostgreSQL, ...)
 * so the shared machine's load hits every contender alike; the median round is reported.
 *
 * After each round the rows stored for the CA are counted: every 201 wrk saw must be in the database (rows
 * may exceed the 201s by the requests in flight when wrk stopped). Server RSS is read from /proc when idle
 * (after warm-up) and sampled under load (peak).
 *
 * Knobs: ISSUANCE_BENCH_SECONDS (10), ISSUANCE_BENCH_ROUNDS (3), ISSUANCE_BENCH_CONNECTIONS (64),
 * ISSUANCE_BENCH_CAS ("P-256,RSA-2048"), ISSUANCE_BENCH_TARGETS ("cfssl,sqlite,postgres,floor"; floor is
 * bench/issuance-floor-server.ts: fastify + TLS + CSR check + signature and nothing else, our stack's least cost),
 * ISSUANCE_BENCH_SERVER_ARGS (extra node arguments for our server, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p"),
 * ISSUANCE_BENCH_WORKERS (`serve --workers N` for the PostgreSQL contender; its CPU columns then count the primary only).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { bitString, contextTag, oid, sequence, set, smallInteger, tlv } from '../src/x509/der.ts';
import { extension, ExtensionOid } from '../src/x509/extensions.ts';
import { buildName } from '../src/x509/name.ts';
import { toPem } from '../src/x509/pem.ts';
import { algorithmIdentifier } from '../src/x509/signer.ts';
import { admin } from '../test/e2e/est-server.ts';
import { freePort, startLamassu, type LamassuProcess } from '../test/support/lamassu-process.ts';
import { needPostgres, postgresUrl } from '../test/support/services.ts';
import type { ToolName, ToolsOf } from './required-tools.ts';

const SECONDS = Number(process.env.ISSUANCE_BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.ISSUANCE_BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.ISSUANCE_BENCH_CONNECTIONS ?? 64);
const CAS = (process.env.ISSUANCE_BENCH_CAS ?? 'P-256,RSA-2048').split(',') as CaKind[];
const DEFAULT_TARGETS = 'cfssl-db,cfssl,sqlite,postgres,floor';
const TARGETS = (process.env.ISSUANCE_BENCH_TARGETS ?? DEFAULT_TARGETS).split(',');
const POOL = 2000;
const CLK_TCK = 100;
const here = import.meta.dirname;

/** wrk drives every target; openssl makes the keys of cfssl and the floor server; cfssl is a contender. */
export const tools: ToolsOf = (env) => {
  const targets = (env.ISSUANCE_BENCH_TARGETS ?? DEFAULT_TARGETS).split(',');
  const needed: ToolName[] = ['wrk'];
  const cfssl = targets.includes('cfssl') || targets.includes('cfssl-db');
  if (cfssl || targets.includes('floor')) needed.push('openssl');
  if (cfssl) needed.push('cfssl');
  return needed;
};
const cacheDir = path.join(os.tmpdir(), 'lamassu-issuance-bench');

type CaKind = 'P-256' | 'RSA-2048';

/** The pool of PEM CSRs, made once with node:crypto and cached (key generation is the slow part). */
function csrPool(): string[] {
  const file = path.join(cacheDir, `csrs-p256-${POOL}.txt`);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim().split('\n').map((b64) => toPem(Buffer.from(b64, 'base64'), 'CERTIFICATE REQUEST'));
  mkdirSync(cacheDir, { recursive: true });
  const ders: string[] = [];
  for (let i = 0; i < POOL; i++) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const san = sequence(tlv(0x82, new TextEncoder().encode(`device-${i}.bench.example`)));
    const extReq = sequence(oid('1.2.840.113549.1.9.14'), set(sequence(extension(ExtensionOid.subjectAltName, false, san))));
    const info = sequence(
      smallInteger(0),
      buildName({ common_name: `device-${i}.bench.example`, organization: 'Lamassu Bench' }),
      new Uint8Array(publicKey.export({ format: 'der', type: 'spki' })),
      tlv(contextTag(0, true), extReq),
    );
    ders.push(Buffer.from(sequence(info, algorithmIdentifier('ecdsa-with-SHA256'), bitString(new Uint8Array(sign('sha256', info, privateKey))))).toString('base64'));
  }
  writeFileSync(file, ders.join('\n') + '\n');
  return csrPool();
}

/** utime + stime in ms of a process, or of one of its threads (`tid`; the main thread's is the pid). */
function cpuMs(pid: number, tid?: number): number {
  const fields = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

/** CPU ms of this process's children that have exited and been reaped (cutime + cstime): wrk's, once it is done. */
function reapedChildrenCpuMs(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / CLK_TCK;
}

/** CPU ms per thread name (comm) of a process: main thread, libuv-worker, worker threads, V8 helpers. */
function threadCpuMs(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = tid === String(pid) ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      byName.set(name, (byName.get(name) ?? 0) + cpuMs(pid, Number(tid)));
    } catch {
      // the thread ended between listing and reading
    }
  }
  return byName;
}

/** CPU ms of every live process named `comm` (the PostgreSQL server: its backends live through a round). */
function processesCpuMs(comm: string): number {
  let total = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) === comm) total += cpuMs(Number(pid));
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

/** Busy and total jiffies of the whole machine, from /proc/stat. */
function machineJiffies(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3]! - f[4]!, total };
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

interface WrkResult {
  requests: number;
  duration_us: number;
  status_errors: number;
  connect_errors: number;
  read_errors: number;
  write_errors: number;
  timeouts: number;
  p50_us: number;
  p99_us: number;
}

interface Round {
  perSec: number;
  p50Ms: number;
  p99Ms: number;
  cpuUsPerCert: number;
  /** Of which the main thread (event loop): the rest is worker threads, the libuv pool and GC helpers. */
  mainCpuUsPerCert: number;
  peakRssMb: number;
  ok: number;
  stored?: number;
}

/** One wrk run against `url`; the server's CPU and peak RSS are read from /proc meanwhile. */
interface WrkRun {
  r: WrkResult;
  cpuMs: number;
  mainCpuMs: number;
  peakRssMb: number;
  threadsMs: Map<string, number>;
  postgresMs: number;
  machineBusy: number;
  /** wrk's own CPU over the run, in cores. */
  clientCores: number;
}

function wrk(url: string, bodyFile: string, token: string, seconds: number, pid: number): Promise<WrkRun> {
  return new Promise((resolve, reject) => {
    const threads = Math.min(2, CONNECTIONS);
    const args = [`-t${threads}`, `-c${CONNECTIONS}`, `-d${seconds}s`, '--timeout', '10s', '-s', path.join(here, 'issuance-load.lua'), url, '--', bodyFile, token];
    const cpu0 = cpuMs(pid);
    const main0 = cpuMs(pid, pid);
    const threads0 = threadCpuMs(pid);
    const pg0 = processesCpuMs('postgres');
    const machine0 = machineJiffies();
    const client0 = reapedChildrenCpuMs();
    let peak = rssMb(pid);
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 250);
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.once('error', reject);
    child.once('exit', (code) => {
      clearInterval(sampler);
      const cpu = cpuMs(pid) - cpu0;
      const mainCpu = cpuMs(pid, pid) - main0;
      const threadsMs = new Map([...threadCpuMs(pid)].map(([name, ms]) => [name, ms - (threads0.get(name) ?? 0)]));
      const postgresMs = processesCpuMs('postgres') - pg0;
      const machine1 = machineJiffies();
      const machineBusy = (machine1.busy - machine0.busy) / (machine1.total - machine0.total);
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || !line) return reject(new Error(`wrk failed (${code}):\n${out}`));
      const clientCores = (reapedChildrenCpuMs() - client0) / (seconds * 1000);
      resolve({ r: JSON.parse(line.slice(7)) as WrkResult, cpuMs: cpu, mainCpuMs: mainCpu, peakRssMb: peak, threadsMs, postgresMs, machineBusy, clientCores });
    });
  });
}

/** A contender: where to POST, what, and how to count what it stored. */
interface Target {
  name: string;
  pid: number;
  url: string;
  bodyFile: string;
  token: string;
  idleRssMb: number;
  storedRows?: () => Promise<number>;
  stop(): Promise<void>;
}

async function measureRound(t: Target): Promise<Round> {
  const before = t.storedRows ? await t.storedRows() : 0;
  const { r, cpuMs: cpu, mainCpuMs, peakRssMb, threadsMs, postgresMs, machineBusy, clientCores } = await wrk(t.url, t.bodyFile, t.token, SECONDS, t.pid);
  const errors = r.status_errors + r.connect_errors + r.read_errors + r.write_errors + r.timeouts;
  if (r.status_errors > 0 || r.requests === 0) throw new Error(`${t.name}: ${r.status_errors} error statuses out of ${r.requests}`);
  const ok = r.requests - r.status_errors;
  const round: Round = {
    perSec: ok / (r.duration_us / 1e6),
    p50Ms: r.p50_us / 1000,
    p99Ms: r.p99_us / 1000,
    cpuUsPerCert: (cpu * 1000) / ok,
    mainCpuUsPerCert: (mainCpuMs * 1000) / ok,
    peakRssMb,
    ok,
  };
  if (t.storedRows) {
    // Let the requests cut off by wrk's stop finish before counting.
    await new Promise((res) => setTimeout(res, 500));
    round.stored = (await t.storedRows()) - before;
    if (round.stored < ok) throw new Error(`${t.name}: wrk saw ${ok} certificates, only ${round.stored} rows stored`);
  }
  console.log(
    `  ${t.name}: ${round.perSec.toFixed(0)}/s, p50 ${round.p50Ms.toFixed(1)} ms, p99 ${round.p99Ms.toFixed(1)} ms, ` +
      `${round.cpuUsPerCert.toFixed(0)} us CPU/cert (main thread ${round.mainCpuUsPerCert.toFixed(0)}), peak RSS ${peakRssMb.toFixed(0)} MB` +
      (round.stored === undefined ? '' : `, ${round.stored} rows stored for ${ok} 201s`) +
      (errors > 0 ? `, socket errors ${errors}` : '') +
      `, load ${os.loadavg()[0]!.toFixed(1)}, machine busy ${(100 * machineBusy).toFixed(0)}%, wrk ${clientCores.toFixed(2)} cores`,
  );
  const perCert = (ms: number) => ((ms * 1000) / ok).toFixed(0);
  const threadList = [...threadsMs].filter(([, ms]) => ms > 0).sort((a, b) => b[1] - a[1]);
  console.log(`    CPU us/cert by thread: ${threadList.map(([name, ms]) => `${name} ${perCert(ms)}`).join(', ')}` +
    (t.name.includes('postgres') ? `; PostgreSQL server ${perCert(postgresMs)}` : ''));
  return round;
}

function jsonLines(file: string, bodies: string[]): string {
  writeFileSync(file, bodies.join('\n') + '\n');
  return file;
}

/** A self-signed CA (and a TLS key and certificate) for cfssl, made with openssl. */
function openssl(dir: string, kind: CaKind): void {
  const newkey = kind === 'P-256' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:2048'];
  execFileSync('openssl', ['req', '-x509', ...newkey, '-nodes', '-keyout', path.join(dir, 'ca-key.pem'), '-out', path.join(dir, 'ca.pem'),
    '-subj', `/CN=cfssl bench ${kind} CA`, '-days', '3650', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], { stdio: 'ignore' });
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(dir, 'tls-key.pem'),
    '-out', path.join(dir, 'tls.pem'), '-subj', '/CN=localhost', '-days', '30', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
}

function post(url: string, body: string, token = ''): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: 'POST', rejectUnauthorized: false, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.once('error', reject);
    req.end(body);
  });
}

/**
 * cfssl's certificate database for sqlite3 (the tables of its certdb/sqlite migration 001, which the Debian
 * package does not ship), switched to WAL, with synchronous FULL (`_sync=FULL`), so each certificate is
 * committed durably before cfssl answers, as ours are.
 */
const CFSSL_SQLITE_SCHEMA = `
create table certificates (
  serial_number blob not null, authority_key_identifier blob not null, ca_label blob, status blob not null,
  reason int, created_at timestamp, expiry timestamp, revoked_at timestamp, pem blob not null,
  primary key (serial_number, authority_key_identifier));
create index certificates_created_at on certificates (created_at);
create index certificates_revoked_at on certificates (revoked_at);
create table ocsp_responses (
  serial_number blob not null, authority_key_identifier blob not null, body blob not null, expiry timestamp,
  primary key (serial_number, authority_key_identifier),
  foreign key (serial_number, authority_key_identifier) references certificates (serial_number, authority_key_identifier));`;

/** `withDb`: cfssl stores every certificate in its sqlite3 certificate database (`-db-config`). */
async function startCfssl(kind: CaKind, csrs: string[], withDb = false): Promise<Target> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lamassu-bench-cfssl-'));
  openssl(dir, kind);
  const dbArgs: string[] = [];
  let storedRows: (() => Promise<number>) | undefined;
  let db: Database.Database | undefined;
  if (withDb) {
    const file = path.join(dir, 'certs.db');
    const init = new Database(file);
    // WAL (kept in the file) as ours: with the rollback journal, 64 concurrent inserts make cfssl answer
    // errors (SQLITE_BUSY). go-sqlite3 builds SQLite with WAL synchronous NORMAL (2 fdatasyncs for 50 inserts,
    // counted with strace); `_sync=FULL` makes it one per insert (52 for 50), durable as ours.
    init.pragma('journal_mode = WAL');
    init.exec(CFSSL_SQLITE_SCHEMA);
    init.close();
    writeFileSync(path.join(dir, 'db.json'), JSON.stringify({ driver: 'sqlite3', data_source: `${file}?_busy_timeout=10000&_sync=FULL` }));
    dbArgs.push('-db-config', 'db.json');
    db = new Database(file, { readonly: true, fileMustExist: true });
    const count = db.prepare('select count(*) as n from certificates');
    storedRows = async () => Number((count.get() as { n: number }).n);
  }
  // Same validity as our default profile; cfssl copies subject and SANs from the CSR.
  writeFileSync(path.join(dir, 'cfg.json'), JSON.stringify({ signing: { default: { expiry: '8760h', usages: ['digital signature', 'key encipherment', 'client auth'] } } }));
  const port = await freePort();
  // Log level 2 (warning), as our server runs at warn: no log line per certificate on either side.
  const child: ChildProcess = spawn('cfssl', ['serve', '-address', '127.0.0.1', '-port', String(port), '-ca', 'ca.pem', '-ca-key', 'ca-key.pem', '-config', 'cfg.json',
    '-tls-cert', 'tls.pem', '-tls-key', 'tls-key.pem', '-loglevel', '2', ...dbArgs], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  const url = `https://127.0.0.1:${port}/api/v1/cfssl/sign`;
  const body = (pem: string) => JSON.stringify({ certificate_request: pem });
  for (let i = 0; ; i++) {
    const r = await post(url, body(csrs[0]!)).catch(() => undefined);
    if (r?.status === 200 && (JSON.parse(r.text) as { success: boolean }).success) break;
    if (i > 100) throw new Error(`cfssl serve did not come up: ${r?.text ?? ''}\n${err}`);
    await new Promise((res) => setTimeout(res, 100));
  }
  return {
    name: withDb ? `cfssl + sqlite3 certdb ${kind}` : `cfssl, no database ${kind}`,
    pid: child.pid!,
    url,
    bodyFile: jsonLines(path.join(dir, 'bodies.txt'), csrs.map(body)),
    token: '',
    idleRssMb: rssMb(child.pid!),
    ...(storedRows ? { storedRows } : {}),
    async stop() {
      child.kill('SIGTERM');
      await exited;
      db?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** bench/issuance-floor-server.ts with the same CA key type (cfssl's helper makes the keys). */
async function startFloor(kind: CaKind, csrs: string[]): Promise<Target> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lamassu-bench-floor-'));
  openssl(dir, kind);
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'issuance-floor-server.ts'), String(port), dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`floor server exited (${code})`)));
  });
  const url = `https://127.0.0.1:${port}/sign`;
  const bodies = csrs.map((pem) => JSON.stringify({ csr: Buffer.from(pem).toString('base64') }));
  const first = await post(url, bodies[0]!);
  if (first.status !== 201) throw new Error(`floor server: ${first.status} ${first.text}`);
  return {
    name: `floor (fastify + TLS + verify + sign, nothing stored) ${kind}`,
    pid: child.pid!,
    url,
    bodyFile: jsonLines(path.join(dir, 'bodies.txt'), bodies),
    token: '',
    idleRssMb: 0,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startOurServer(kind: CaKind, storage: 'sqlite' | 'postgres', csrs: string[]): Promise<Target> {
  const schema = `bench_issuance_${process.pid}`;
  const env: Record<string, string> = { LAMASSU_SERVICES: 'ca' };
  if (storage === 'postgres') Object.assign(env, { DATABASE_URL: postgresUrl(), LAMASSU_POSTGRES_SCHEMA: schema });
  // ISSUANCE_BENCH_WORKERS=N: `serve --workers N` for the PostgreSQL contender (SQLite takes one process).
  const workers = storage === 'postgres' ? Number(process.env.ISSUANCE_BENCH_WORKERS ?? 1) : 1;
  if (workers > 1) env.LAMASSU_WORKERS = String(workers);
  const server: LamassuProcess = await startLamassu(env, { nodeArgs: process.env.ISSUANCE_BENCH_SERVER_ARGS?.split(' ').filter(Boolean) ?? [] });
  // /health answers once the first worker is up; the others start after it.
  if (workers > 1) await new Promise((r) => setTimeout(r, 5000));
  const caId = `bench-${kind.toLowerCase()}`;
  await admin(server, 'POST', '/api/ca/v1/cas', {
    id: caId,
    subject: { common_name: `Lamassu bench ${kind} CA` },
    key_metadata: kind === 'P-256' ? { type: 'ECDSA', bits: 256 } : { type: 'RSA', bits: 2048 },
    ca_expiration: { type: 'Duration', duration: '10y' },
  });
  const url = `https://127.0.0.1:${server.httpsPort}/api/ca/v1/cas/${caId}/certificates/sign`;
  const bodies = csrs.map((pem) => JSON.stringify({ csr: Buffer.from(pem).toString('base64') }));
  const first = await post(url, bodies[0]!, server.token);
  if (first.status !== 201) throw new Error(`sign failed: ${first.status} ${first.text}`);

  let storedRows: () => Promise<number>;
  let closeDb: () => Promise<void>;
  if (storage === 'sqlite') {
    const db = new Database(path.join(server.dataDir, 'lamassu.db'), { readonly: true, fileMustExist: true });
    const count = db.prepare('select count(*) as n from certificates c join certificate_blobs b on b.id = c.id where c.issuer_ca_id = ?');
    storedRows = async () => Number((count.get(caId) as { n: number }).n);
    closeDb = async () => void db.close();
  } else {
    const client = new pg.Client({ connectionString: postgresUrl() });
    await client.connect();
    storedRows = async () =>
      Number((await client.query(`select count(*) as n from ${schema}.certificates c join ${schema}.certificate_blobs b on b.id = c.id where c.issuer_ca_id = $1`, [caId])).rows[0].n);
    closeDb = async () => {
      await client.query(`drop schema if exists ${schema} cascade`).catch(() => undefined);
      await client.end();
    };
  }
  return {
    // With workers, the CPU columns count the primary only (the workers are its children).
    name: `lamassu ${storage} ${kind}${workers > 1 ? ` (${workers} workers)` : ''}`,
    pid: server.pid,
    url,
    bodyFile: jsonLines(path.join(server.dataDir, 'bodies.txt'), bodies),
    token: server.token,
    idleRssMb: 0,
    storedRows,
    async stop() {
      await server.stop();
      await closeDb();
    },
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function run(): Promise<void> {
  const csrs = csrPool();
  const usePg = TARGETS.includes('postgres') && (await needPostgres());
  console.log(`Issuance: wrk -t2 -c${CONNECTIONS} -d${SECONDS}s, keep-alive TLS, ${csrs.length} P-256 CSRs rotating, ${ROUNDS} interleaved rounds; ${os.cpus().length} cores`);
  const rows: string[] = [];
  for (const kind of CAS) {
    const targets: Target[] = [];
    try {
      if (TARGETS.includes('cfssl-db')) targets.push(await startCfssl(kind, csrs, true));
      if (TARGETS.includes('cfssl')) targets.push(await startCfssl(kind, csrs));
      if (TARGETS.includes('sqlite')) targets.push(await startOurServer(kind, 'sqlite', csrs));
      if (usePg) targets.push(await startOurServer(kind, 'postgres', csrs));
      if (TARGETS.includes('floor')) targets.push(await startFloor(kind, csrs));
      // Warm-up (JIT, caches, connections), then the idle RSS.
      for (const t of targets) {
        await wrk(t.url, t.bodyFile, t.token, 2, t.pid);
        await new Promise((res) => setTimeout(res, 1000));
        t.idleRssMb = rssMb(t.pid);
      }
      const rounds = new Map<Target, Round[]>(targets.map((t) => [t, []]));
      for (let i = 0; i < ROUNDS; i++) {
        console.log(`${kind} round ${i + 1}/${ROUNDS}`);
        for (const t of targets) rounds.get(t)!.push(await measureRound(t));
      }
      // The machine is shared and its load swings within seconds: the ratio is taken round by round (each
      // contender against cfssl's run in the same round), then the median of those. The like-for-like peer is
      // cfssl with its certificate database; cfssl storing nothing is the second reference.
      const peerOf = (name: string) => {
        const t = targets.find((x) => x.name.startsWith(name));
        return t && rounds.get(t)!;
      };
      const cfsslDb = peerOf('cfssl + sqlite3');
      const cfssl = peerOf('cfssl, no database');
      const ratioCell = (rs: Round[], peer: Round[] | undefined) => {
        if (!peer) return '-';
        const ratios = rs.map((r, i) => r.perSec / peer[i]!.perSec);
        return `**${median(ratios).toFixed(2)}x** (${ratios.map((x) => x.toFixed(2)).join(' / ')})`;
      };
      for (const t of targets) {
        const rs = rounds.get(t)!;
        const rate = median(rs.map((r) => r.perSec));
        rows.push(
          `| ${t.name} | **${rate.toFixed(0)}** (${rs.map((r) => r.perSec.toFixed(0)).join(' / ')}) | ` +
            `${ratioCell(rs, cfsslDb)} | ${ratioCell(rs, cfssl)} | ` +
            `${median(rs.map((r) => r.p50Ms)).toFixed(1)} | ${median(rs.map((r) => r.p99Ms)).toFixed(1)} | ${median(rs.map((r) => r.cpuUsPerCert)).toFixed(0)} (${median(rs.map((r) => r.mainCpuUsPerCert)).toFixed(0)}) | ` +
            `${t.idleRssMb.toFixed(0)} | ${Math.max(...rs.map((r) => r.peakRssMb)).toFixed(0)} | ` +
            `${t.storedRows ? rs.map((r) => `${r.stored}/${r.ok}`).join(', ') : 'not stored'} |`,
        );
      }
    } finally {
      for (const t of targets) await t.stop();
    }
  }
  console.log('\n| server, CA | certs/s median (rounds) | vs cfssl + certdb, same round (rounds) | vs cfssl without database | p50 ms | p99 ms | server CPU us/cert (main thread) | idle RSS MB | peak RSS MB under load | rows stored / 201s |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const r of rows) console.log(r);
  console.log(`load average at the end: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
}
