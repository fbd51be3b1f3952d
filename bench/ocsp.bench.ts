/**
 * OCSP throughput and latency: our VA (a real `lamassu serve` process, services ca,va, SQLite) against
 * `openssl ocsp -index` answering for the same CA key and the same certificates in the same run.
 *
 * - keep-alive: wrk, 50 connections, GET and POST, against our server (openssl ocsp speaks HTTP/1.0 and
 *   closes every connection, so wrk gets nothing from it);
 * - a new connection per request: a small Node client (50 concurrent), GET and POST, against both;
 * - the floor: bench/ocsp-floor-server.ts (bare node:http, fixed answer of our size) under the same wrk load,
 *   the most one Node process answers here; each row also gives the load client's CPU in cores.
 * Then revocation latency (revoke call returns -> OCSP says revoked) and end-to-end CRL generation
 * from the database for 100k and 1M revoked entries.
 *
 * Every phase runs `OCSP_BENCH_SECONDS` (default 10) seconds. Requests are nonce-less (RFC 5019), one
 * per certificate, rotated over 50 certificates, 10 of them revoked.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { lamassuBin, freePort } from '../test/support/lamassu-process.ts';
import { postgresUrl } from '../test/support/services.ts';
import { withServerNodeFlags } from '../src/server-node-flags.ts';
import type { ToolsOf } from './required-tools.ts';

/** wrk loads our server; openssl makes the requests and is the contender (`openssl ocsp -index`). */
export const tools: ToolsOf = ['wrk', 'openssl'];

const exec = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..');
const SECONDS = Number(process.env.OCSP_BENCH_SECONDS ?? 10);
const LEAVES = 50;
const REVOKED = 10;
const CONNECTIONS = 50;
/** OCSP_BENCH_WORKERS=N: `serve --workers N` on PostgreSQL (more than one worker needs it) instead of one process on SQLite. */
const WORKERS = Number(process.env.OCSP_BENCH_WORKERS ?? 1);
const SCHEMA = `bench_ocsp_${process.pid}`;

/** Resident set of the server: the process and its children (the workers), MB; `peak` is VmHWM. */
function serverRssMb(pid: number): { now: number; peak: number } {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // no children
  }
  let now = 0;
  let peak = 0;
  for (const p of [pid, ...children]) {
    try {
      const st = readFileSync(`/proc/${p}/status`, 'utf8');
      now += Number(/VmRSS:\s+(\d+)/.exec(st)?.[1] ?? 0) / 1024;
      peak += Number(/VmHWM:\s+(\d+)/.exec(st)?.[1] ?? 0) / 1024;
    } catch {
      // gone
    }
  }
  return { now, peak };
}


async function waitFor(check: () => Promise<boolean>, what: string, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what} did not come up`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Lamassu {
  child: ChildProcess;
  dataDir: string;
  httpPort: number;
  httpsPort: number;
  token: string;
  api<T>(method: string, url: string, body?: unknown): Promise<T>;
}

async function startLamassu(dir: string): Promise<Lamassu> {
  const [httpPort, httpsPort] = [await freePort(), await freePort()];
  const dataDir = path.join(dir, 'data');
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(LAMASSU_|POSTGRES_|PKCS11_|VAULT_|GOPEM_)|^(DATABASE_URL|ENGINE)$/.test(k)));
  // As `npm start` runs it (the server's V8 flags); OCSP_BENCH_SERVER_ARGS="--cpu-prof --cpu-prof-dir=/tmp/x" adds more.
  const nodeArgs = withServerNodeFlags(process.env.OCSP_BENCH_SERVER_ARGS?.split(' ').filter(Boolean) ?? []);
  const child = spawn(process.execPath, [...nodeArgs, lamassuBin, 'serve'], {
    cwd: root,
    env: {
      ...env,
      LAMASSU_DATA_DIR: dataDir,
      LAMASSU_HTTP_PORT: String(httpPort),
      LAMASSU_HTTPS_PORT: String(httpsPort),
      LAMASSU_LISTEN_ADDRESS: '127.0.0.1',
      LAMASSU_SERVICES: 'ca,va',
      LAMASSU_VA_BASE_URLS: `http://127.0.0.1:${httpPort}`,
      LAMASSU_LOG_LEVEL: 'warn',
      LAMASSU_WORKERS: String(WORKERS),
      ...(WORKERS > 1 ? { DATABASE_URL: postgresUrl(), LAMASSU_POSTGRES_SCHEMA: SCHEMA } : {}),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitFor(async () => (await fetch(`http://127.0.0.1:${httpPort}/health`)).ok, 'lamassu serve');
  // /health answers once worker 1 is up; the others start after it.
  if (WORKERS > 1) await new Promise((r) => setTimeout(r, 5000));
  const token = readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim();
  const agent = new https.Agent({ ca: readFileSync(path.join(dataDir, 'tls', 'ca.pem')), keepAlive: true });
  const api = <T>(method: string, url: string, body?: unknown) =>
    new Promise<T>((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = https.request(
        `https://localhost:${httpsPort}${url}`,
        { method, agent, headers: { authorization: `Bearer ${token}`, ...(payload ? { 'content-type': 'application/json' } : {}) } },
        (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => (res.statusCode! < 300 ? resolve(JSON.parse(text) as T) : reject(new Error(`${method} ${url}: ${res.statusCode} ${text}`))));
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  return { child, dataDir, httpPort, httpsPort, token, api };
}

interface CertJson {
  serial_number: string;
  certificate: string;
  valid_to: string;
  revocation_timestamp: string | null;
}

/** openssl's index.txt line for a certificate (ca(1) database format). */
function indexLine(c: CertJson, revokedAt?: Date): string {
  const t = (iso: string | Date) => new Date(iso).toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
  const serial = (c.serial_number.length % 2 ? `0${c.serial_number}` : c.serial_number).toUpperCase();
  return revokedAt
    ? `R\t${t(c.valid_to)}\t${t(revokedAt)},keyCompromise\t${serial}\tunknown\t/CN=bench\n`
    : `V\t${t(c.valid_to)}\t\t${serial}\tunknown\t/CN=bench\n`;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;

interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** CPU the load client used, in cores (CPU seconds per second of the run). */
  clientCores: number;
}

/** wrk with keep-alive; `lua` picks the request. */
function writeLua(dir: string, lua: string): string {
  const script = path.join(dir, `wrk-${randomUUID()}.lua`);
  writeFileSync(script, lua);
  return script;
}

async function wrk(url: string, lua: string, dir: string): Promise<LoadResult> {
  const script = writeLua(dir, lua);
  // bash's `time` gives wrk's own CPU (user + system), for the load client's share of the 2 cores.
  const { stdout, stderr } = await exec('bash', ['-c', 'TIMEFORMAT="wrk-cpu %U %S"; time wrk "$@"', 'wrk', '-t2', `-c${CONNECTIONS}`, `-d${SECONDS}s`, '--latency', '-s', script, url], {
    maxBuffer: 1 << 20,
  });
  const cpu = /wrk-cpu ([\d.]+) ([\d.]+)/.exec(stderr);
  const clientCores = cpu ? (Number(cpu[1]) + Number(cpu[2])) / SECONDS : NaN;
  const ms = (s: string) => (s.endsWith('us') ? parseFloat(s) / 1000 : s.endsWith('ms') ? parseFloat(s) : parseFloat(s) * 1000);
  const pct = (p: string) => ms(new RegExp(`^\\s*${p}%\\s+(\\S+)`, 'm').exec(stdout)![1]!);
  const errors = Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0) + Number(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout)?.slice(1).reduce((a, b) => a + Number(b), 0) ?? 0);
  return { rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)![1]), p50: pct('50'), p99: pct('99'), errors, clientCores };
}

/** bench/ocsp-floor-server.ts answering `bytes`-byte bodies, listening when this resolves. */
async function startOcspFloor(bytes: number): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'ocsp-floor-server.ts'), String(port), String(bytes)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`OCSP floor server exited (${code})`)));
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

/** A new TCP connection per request, `CONNECTIONS` in flight; a response counts when it starts with HTTP/1.x 200. */
async function perConnection(port: number, requests: Buffer[], seconds = SECONDS): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const end = performance.now() + seconds * 1000;
  const one = () =>
    new Promise<void>((resolve) => {
      const started = performance.now();
      const chunks: Buffer[] = [];
      const socket = net.connect(port, '127.0.0.1', () => socket.end(requests[next++ % requests.length]));
      socket.on('data', (d) => chunks.push(d));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        const head = Buffer.concat(chunks).subarray(0, 16).toString('latin1');
        if (/^HTTP\/1\.[01] 200/.test(head)) latencies.push(performance.now() - started);
        else errors++;
        resolve();
      });
    });
  const worker = async () => {
    while (performance.now() < end) await one();
  };
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  latencies.sort((a, b) => a - b);
  // The client is this process.
  return { rps: latencies.length / elapsed, p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors, clientCores: (cpu.user + cpu.system) / 1e6 / elapsed };
}

const luaString = (b: Uint8Array) => `"${[...b].map((x) => `\\${x}`).join('')}"`;
const getLua = (paths: string[]) =>
  `local paths = {${paths.map((p) => `"${p}"`).join(',')}}\nlocal i = 0\nrequest = function()\n  i = i % #paths + 1\n  return wrk.format("GET", paths[i])\nend\n`;
const postLua = (urlPath: string, bodies: Uint8Array[]) =>
  `local bodies = {${bodies.map(luaString).join(',')}}\nlocal i = 0\nwrk.method = "POST"\nwrk.headers["Content-Type"] = "application/ocsp-request"\nrequest = function()\n  i = i % #bodies + 1\n  return wrk.format("POST", "${urlPath}", nil, bodies[i])\nend\n`;

const rawGet = (p: string, close: boolean) => Buffer.from(`GET ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\n${close ? 'Connection: close\r\n' : ''}\r\n`, 'latin1');
const rawPost = (p: string, body: Uint8Array) =>
  Buffer.concat([
    Buffer.from(`POST ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/ocsp-request\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`, 'latin1'),
    body,
  ]);

/** revoked [1] carries a GeneralizedTime (tag 0x18, 15 bytes) right inside it. */
const saysRevoked = (der: Buffer) => {
  for (let i = 0; i + 3 < der.length; i++) if (der[i] === 0xa1 && der[i + 2] === 0x18 && der[i + 3] === 0x0f) return true;
  return false;
};

async function revocationLatency(l: Lamassu, leaf: CertJson, request: Uint8Array): Promise<number[]> {
  const url = `http://127.0.0.1:${l.httpPort}/api/va/ocsp`;
  const ask = async () => Buffer.from(await (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: request })).arrayBuffer());
  const out: number[] = [];
  for (let i = 0; i < 10; i++) {
    if (saysRevoked(await ask())) throw new Error('certificate should be good before the revoke');
    await l.api('PUT', `/api/ca/v1/certificates/${leaf.serial_number}/status`, { status: 'REVOKED', revocation_reason: 'CertificateHold' });
    const t0 = performance.now();
    while (!saysRevoked(await ask())) if (performance.now() - t0 > 5000) throw new Error('not revoked after 5 s');
    out.push(performance.now() - t0);
    await l.api('PUT', `/api/ca/v1/certificates/${leaf.serial_number}/status`, { status: 'ACTIVE' });
  }
  return out.sort((a, b) => a - b);
}

/** CRL generation end to end: N revoked rows in SQLite, read page by page through the CA gateway, encoded, signed, stored. */
async function crlFromDatabase(n: number): Promise<{ ms: number; mb: number; growthMb: number }> {
  const { openTestStorage } = await import('../test/support/storage.ts');
  const { CaService } = await import('../src/services/ca/ca-service.ts');
  const { DEFAULT_CA_SETTINGS } = await import('../src/services/ca/ca-service-deps.ts');
  const { CaServiceVaGateway } = await import('../src/services/ca/va-gateway.ts');
  const { VaService, DEFAULT_VA_SETTINGS } = await import('../src/services/va/va-service.ts');
  const { MemoryKeyEngine } = await import('../src/engines/crypto/memory/memory-key-engine.ts');
  const { KeyEngineSet } = await import('../src/engines/crypto/registry.ts');
  const { MemoryEventBus } = await import('../src/engines/eventbus/memory-event-bus.ts');
  const { systemClock } = await import('../src/domain/ports/clock.ts');
  const { silentLogger } = await import('../src/domain/ports/logger.ts');
  const opened = await openTestStorage('sqlite');
  try {
    const events = new MemoryEventBus(silentLogger);
    const random = { uuid: () => randomUUID(), bytes: (k: number) => new Uint8Array(randomBytes(k)) };
    const ca = new CaService({ storage: opened.storage, keyEngines: KeyEngineSet.of([new MemoryKeyEngine({ id: 'm' })]), events, clock: systemClock, random, logger: silentLogger, settings: DEFAULT_CA_SETTINGS });
    const sub = await ca.createCa({ subject: { common_name: 'CRL bench CA' }, keySpec: { type: 'ECDSA', bits: 256 }, validity: { type: 'Duration', duration: '5y' }, actor: 'bench' });
    const db = new Database((opened.config as { file: string }).file);
    const insert = db.prepare(
      `insert into certificates (id, serial_number, issuer_ca_id, ca_id, status, not_before, not_after, about_to_expire_at, revoked_at, revocation_reason, subject_cn, subject_key_id, authority_key_id, key_type, key_bits, is_ca, type, engine_id, created_at)
       values (?, ?, ?, null, 'REVOKED', 0, 4102444800000, 4100000000000, ?, ?, 'bench', '00', null, 'ECDSA', 256, 0, 'MANAGED', null, 0)`,
    );
    const reasons = ['KeyCompromise', 'Superseded', 'CessationOfOperation', 'Unspecified'];
    db.transaction(() => {
      for (let i = 0; i < n; i++) insert.run(randomUUID(), randomBytes(16).toString('hex').replace(/^0+/, ''), sub.id, Date.now() - i, reasons[i % 4]);
    })();
    db.close();
    const va = new VaService({ ca: new CaServiceVaGateway(ca), storage: opened.storage, events, clock: systemClock, logger: silentLogger, settings: DEFAULT_VA_SETTINGS, replicaId: 'bench' });
    global.gc?.();
    const rssBefore = process.memoryUsage.rss();
    let peak = rssBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
    const t0 = performance.now();
    const crl = await va.crls.publish(sub.id, 'full');
    const ms = performance.now() - t0;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage.rss());
    await events.close();
    return { ms, mb: crl.der.length / 2 ** 20, growthMb: (peak - rssBefore) / 2 ** 20 };
  } finally {
    await opened.dispose();
  }
}

export async function run() {
  const dir = mkdtempSync(path.join(tmpdir(), 'lamassu-ocsp-bench-'));
  let lamassu: Lamassu | undefined;
  let opensslOcsp: ChildProcess | undefined;
  try {
    lamassu = await startLamassu(dir);
    const l = lamassu;
    const rootCa = await l.api<{ id: string }>('POST', '/api/ca/v1/cas', { subject: { common_name: 'Bench Root' }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration: '10y' } });
    const sub = await l.api<{ id: string; key_id: string; certificate: { certificate: string } }>('POST', '/api/ca/v1/cas', {
      parent_id: rootCa.id,
      subject: { common_name: 'Bench Issuing CA' },
      key_metadata: { type: 'ECDSA', bits: 256 },
      ca_expiration: { type: 'Duration', duration: '5y' },
    });
    writeFileSync(path.join(dir, 'sub.pem'), Buffer.from(sub.certificate.certificate, 'base64'));
    const leaves: CertJson[] = [];
    for (let i = 0; i < LEAVES; i++) {
      leaves.push(await l.api<CertJson>('POST', '/api/ca/v1/certificates', { ca_id: sub.id, key_spec: { type: 'ECDSA', bits: 256 }, subject: { common_name: `bench-${i}` } }));
    }
    let index = '';
    for (const [i, c] of leaves.entries()) {
      writeFileSync(path.join(dir, `leaf${i}.pem`), Buffer.from(c.certificate, 'base64'));
      if (i < REVOKED) {
        const r = await l.api<CertJson>('PUT', `/api/ca/v1/certificates/${c.serial_number}/status`, { status: 'REVOKED', revocation_reason: 'KeyCompromise' });
        index += indexLine(c, new Date(r.revocation_timestamp!));
      } else index += indexLine(c);
    }
    writeFileSync(path.join(dir, 'index.txt'), index);
    writeFileSync(path.join(dir, 'index.txt.attr'), 'unique_subject = no\n');
    const requests: Uint8Array[] = [];
    for (let i = 0; i < LEAVES; i++) {
      await exec('openssl', ['ocsp', '-issuer', 'sub.pem', '-cert', `leaf${i}.pem`, '-no_nonce', '-reqout', `req${i}.der`], { cwd: dir });
      requests.push(new Uint8Array(readFileSync(path.join(dir, `req${i}.der`))));
    }
    const getPath = (prefix: string, der: Uint8Array) => `${prefix}${encodeURIComponent(Buffer.from(der).toString('base64'))}`;

    const opensslPort = await freePort();
    // The same CA key signs both servers' answers (our CA-key responder; openssl -rsigner the CA itself).
    opensslOcsp = spawn('openssl', ['ocsp', '-index', 'index.txt', '-port', String(opensslPort), '-rsigner', 'sub.pem', '-rkey', path.join(l.dataDir, 'keys', `${sub.key_id}.pem`), '-CA', 'sub.pem', '-nmin', '60', '-ignore_err'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    // Wait for its banner: a probe connection closed without a request sends openssl ocsp 3.0 into a busy loop.
    await new Promise<void>((resolve, reject) => {
      let err = '';
      opensslOcsp!.stderr!.on('data', (d) => {
        err += d;
        if (err.includes('waiting for OCSP client connections')) resolve();
      });
      opensslOcsp!.once('exit', () => reject(new Error(`openssl ocsp exited: ${err}`)));
    });

    // Both answer the same: good for leaf REVOKED, revoked for leaf 0 (checked by openssl as client).
    for (const [name, url] of [['lamassu', `http://127.0.0.1:${l.httpPort}/api/va/ocsp`], ['openssl', `http://127.0.0.1:${opensslPort}`]]) {
      for (const i of [0, REVOKED]) {
        const { stdout, stderr } = await exec('openssl', ['ocsp', '-issuer', 'sub.pem', '-cert', `leaf${i}.pem`, '-url', url!, '-VAfile', 'sub.pem', '-no_nonce'], { cwd: dir });
        const want = i < REVOKED ? 'revoked' : 'good';
        if (!stdout.includes(`leaf${i}.pem: ${want}`) || !`${stdout}${stderr}`.includes('Response verify OK')) throw new Error(`${name} answered wrongly:\n${stdout}${stderr}`);
      }
    }

    const ours = `http://127.0.0.1:${l.httpPort}`;
    // Warm-up, not recorded: JIT and caches of both servers.
    await exec('wrk', ['-t1', '-c10', '-d2s', '-s', writeLua(dir, getLua(requests.map((r) => getPath('/api/va/ocsp/', r)))), ours]);
    await perConnection(opensslPort, requests.map((r) => rawPost('/', r)), 2);
    const rows: [string, string, LoadResult][] = [];
    const idle = serverRssMb(l.child.pid!);
    rows.push(['lamassu', 'GET, keep-alive (wrk)', await wrk(ours, getLua(requests.map((r) => getPath('/api/va/ocsp/', r))), dir)]);
    rows.push(['lamassu', 'POST, keep-alive (wrk)', await wrk(ours, postLua('/api/va/ocsp', requests), dir)]);
    console.log(`lamassu: ${WORKERS} worker process(es)${WORKERS > 1 ? ' (PostgreSQL)' : ' (SQLite)'}; RSS of all its processes: ${idle.now.toFixed(0)} MB after warm-up, peak ${serverRssMb(l.child.pid!).peak.toFixed(0)} MB after the keep-alive rows`);
    // The floor: one bare node:http process with a fixed answer of our responses' size, same wrk load.
    const answerBytes = (await fetch(`${ours}${getPath('/api/va/ocsp/', requests[0]!)}`).then((r) => r.arrayBuffer())).byteLength;
    const floor = await startOcspFloor(answerBytes);
    try {
      rows.push(['node:http floor', 'GET, keep-alive (wrk)', await wrk(floor.url, getLua(requests.map((r) => getPath('/api/va/ocsp/', r))), dir)]);
      rows.push(['node:http floor', 'POST, keep-alive (wrk)', await wrk(floor.url, postLua('/api/va/ocsp', requests), dir)]);
    } finally {
      floor.child.kill('SIGTERM');
    }
    rows.push(['lamassu', 'GET, new connection each', await perConnection(l.httpPort, requests.map((r) => rawGet(getPath('/api/va/ocsp/', r), true)))]);
    rows.push(['openssl ocsp', 'GET, new connection each', await perConnection(opensslPort, requests.map((r) => rawGet(getPath('/', r), false)))]);
    rows.push(['lamassu', 'POST, new connection each', await perConnection(l.httpPort, requests.map((r) => rawPost('/api/va/ocsp', r)))]);
    rows.push(['openssl ocsp', 'POST, new connection each', await perConnection(opensslPort, requests.map((r) => rawPost('/', r)))]);

    console.log(`| server | requests | req/s | p50 ms | p99 ms | errors | load client CPU (cores) |`);
    console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: |');
    for (const [server, mode, r] of rows) console.log(`| ${server} | ${mode} | ${Math.round(r.rps)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.errors} | ${r.clientCores.toFixed(2)} |`);
    const rate = (server: string, mode: string) => rows.find((r) => r[0] === server && r[1] === mode)![2].rps;
    for (const m of ['GET', 'POST']) {
      console.log(
        `${m}: lamassu keep-alive / openssl = ${(rate('lamassu', `${m}, keep-alive (wrk)`) / rate('openssl ocsp', `${m}, new connection each`)).toFixed(1)}x; both with a new connection each = ${(rate('lamassu', `${m}, new connection each`) / rate('openssl ocsp', `${m}, new connection each`)).toFixed(1)}x; ` +
          `lamassu keep-alive / node:http floor = ${((100 * rate('lamassu', `${m}, keep-alive (wrk)`)) / rate('node:http floor', `${m}, keep-alive (wrk)`)).toFixed(0)}%; floor / openssl = ${(rate('node:http floor', `${m}, keep-alive (wrk)`) / rate('openssl ocsp', `${m}, new connection each`)).toFixed(1)}x`,
      );
    }

    if (WORKERS > 1) {
      console.log('revocation latency: not measured with workers (without RabbitMQ the other workers see a revocation when their cache entry expires)');
    } else {
      const lat = await revocationLatency(l, leaves[REVOKED + 1]!, requests[REVOKED + 1]!);
      console.log(`revocation latency (revoke call returned -> OCSP answers revoked), 10 runs: median ${percentile(lat, 50).toFixed(1)} ms, max ${lat[lat.length - 1]!.toFixed(1)} ms`);
    }
  } finally {
    opensslOcsp?.kill();
    if (lamassu) {
      lamassu.child.kill('SIGTERM');
      await new Promise((r) => lamassu!.child.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
    if (WORKERS > 1) {
      const client = new pg.Client({ connectionString: postgresUrl() });
      await client.connect();
      await client.query(`drop schema if exists ${SCHEMA} cascade`);
      await client.end();
    }
  }

  if (process.env.OCSP_BENCH_CRL !== '0') {
    console.log('| revoked entries | CRL from SQLite, end to end | CRL size | peak RSS growth |');
    console.log('| ---: | ---: | ---: | ---: |');
    for (const n of [100_000, 1_000_000]) {
      const r = await crlFromDatabase(n);
      console.log(`| ${n.toLocaleString('en')} | ${(r.ms / 1000).toFixed(2)} s | ${r.mb.toFixed(1)} MB | ${r.growthMb.toFixed(0)} MB |`);
    }
  }
}
