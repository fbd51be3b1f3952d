/**
 * One fuzz run against the real `lamassu serve` on one database: setup (a CA, a DMS, a device, a certificate
 * to name), then `count` requests from a seeded generator, `concurrency` at a time, within a deadline; then
 * the process must be alive, healthy, back under the RSS limit, and must have logged nothing at error level.
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import * as x509 from '@peculiar/x509';
import { Agent, request } from 'undici';
import { opensslCsr } from '../support/csr-fixture.ts';
import type { LamassuProcess } from '../support/lamassu-process.ts';
import { startLamassuOn } from '../support/lamassu-on-storage.ts';
import type { StorageKind } from '../support/storage.ts';
import type { Samples } from './inputs.ts';
import { judge } from './judge.ts';
import { routesOf, type Route } from './openapi.ts';
import { rngFor } from './prng.ts';
import { fuzzCase, type FuzzCase, type HttpCase, type RawCase } from './requests.ts';

export interface FuzzOptions {
  storage: StorageKind;
  count: number;
  seed: number;
  /** Stop sending after this long, whatever the count. */
  deadlineMs: number;
  concurrency?: number;
  rssLimitMb?: number;
  /** Replay these request indexes only. */
  only?: number[];
  progress?: (line: string) => void;
}

export interface Failure {
  index: number;
  request: string;
  why: string;
  answer?: string;
}

export interface FuzzReport {
  storage: StorageKind;
  seed: number;
  sent: number;
  /** Requests the client library refused to send (invalid header value ...): not counted as sent. */
  unsendable: number;
  statuses: Record<string, number>;
  /** 501 answers by code: operations documented as not offered (EST fullcmc ...), allowed by the judge. */
  notOffered: Record<string, number>;
  failures: Failure[];
  failureCount: number;
  alive: boolean;
  healthy: boolean;
  rssMb: number;
  /** RSS after setup, before the first fuzz request. */
  rssStartMb: number;
  errorLogLines: string[];
  durationMs: number;
}

const MAX_KEPT_FAILURES = 50;

async function setup(server: LamassuProcess, agent: Agent): Promise<{ routes: Route[]; samples: Samples }> {
  const https = `https://127.0.0.1:${server.httpsPort}`;
  const api = async (method: string, url: string, body?: unknown, accept?: string) => {
    const r = await request(`${https}${url}`, {
      method: method as 'GET',
      dispatcher: agent,
      headers: { authorization: `Bearer ${server.token}`, ...(body ? { 'content-type': 'application/json' } : {}), ...(accept ? { accept } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await r.body.text();
    if (r.statusCode >= 300) throw new Error(`setup ${method} ${url}: ${r.statusCode} ${text}`);
    return text;
  };
  const doc = JSON.parse(await api('GET', '/api/docs/json')) as Parameters<typeof routesOf>[0];
  const ca = JSON.parse(await api('POST', '/api/ca/v1/cas', { id: 'fuzz-ca', subject: { common_name: 'fuzz' }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration: '10y' } })) as { id: string };
  await api('POST', '/api/dmsmanager/v1/dms', {
    id: 'fuzz-dms',
    name: 'fuzz',
    authorized_cas: [ca.id],
    settings: { enrollment_settings: { enrollment_ca: ca.id, registration_mode: 'JITP', est_rfc7030_settings: { auth_mode: 'NO_AUTH' } }, reenrollment_settings: { reenrollment_delta: '30d' } },
  });
  await api('POST', '/api/devmanager/v1/devices', { id: 'fuzz-device', dms_id: 'fuzz-dms' });
  const csrDer = Buffer.from(opensslCsr({ key: 'p256', subj: '/CN=fuzz-device-0' }));
  const cert = JSON.parse(await api('POST', `/api/ca/v1/cas/${ca.id}/certificates/sign`, { csr: csrDer.toString('base64') })) as { serial_number: string; certificate: string };
  const certPem = Buffer.from(cert.certificate, 'base64').toString();
  const caPem = await api('GET', `/api/ca/v1/cas/${ca.id}/certificate`, undefined, 'application/x-pem-file');
  const dir = mkdtempSync(path.join(tmpdir(), 'lamassu-fuzz-'));
  try {
    writeFileSync(path.join(dir, 'ca.pem'), caPem);
    writeFileSync(path.join(dir, 'leaf.pem'), certPem);
    execFileSync('openssl', ['ocsp', '-issuer', 'ca.pem', '-cert', 'leaf.pem', '-reqout', 'req.der'], { cwd: dir, stdio: 'ignore' });
    return {
      routes: routesOf(doc),
      samples: {
        csrs: [csrDer, ...(await oddCsrs())],
        certDer: Buffer.from(certPem.replace(/-----[^-]+-----|\s/g, ''), 'base64'),
        ocspRequestDer: readFileSync(path.join(dir, 'req.der')),
        caIds: [ca.id, 'LAMASSU-DMS-MANAGER'],
        dmsIds: ['fuzz-dms'],
        deviceIds: ['fuzz-device'],
        serials: [cert.serial_number],
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** CSRs a device could send that are well-formed DER but odd: NUL in the subject, BMPString, a long CN, Ed25519, RSA. */
async function oddCsrs(): Promise<Buffer[]> {
  (x509.cryptoProvider as { set(crypto: unknown): void }).set(webcrypto);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as Parameters<typeof x509.Pkcs10CertificateRequestGenerator.create>[0]['keys'];
  const names = [
    [{ '2.5.4.3': [{ utf8String: 'fuzz\u0000device' }] }],
    [{ '2.5.4.3': [{ bmpString: 'fuzz-bmp-\u00e4' }] }, { '2.5.4.5': [{ printableString: 'SN 1' }] }],
    [{ '2.5.4.3': [{ utf8String: `fuzz-${'x'.repeat(300)}` }] }],
    [{ '2.5.4.3': [{ utf8String: 'slot:fuzz-device' }] }, { '2.5.4.10': [{ utf8String: '\ud83d\ude00' }] }],
  ];
  const made: Buffer[] = [];
  for (const n of names) {
    const name = new x509.Name(n as unknown as x509.JsonName);
    made.push(Buffer.from((await x509.Pkcs10CertificateRequestGenerator.create({ name, keys, signingAlgorithm: alg })).rawData));
  }
  made.push(Buffer.from(opensslCsr({ key: 'ed25519', subj: '/CN=fuzz-ed25519' })));
  made.push(Buffer.from(opensslCsr({ key: 'rsa2048', subj: '/CN=fuzz-rsa/O=a\\b', addext: ['subjectAltName=DNS:x.example,IP:10.0.0.1'] })));
  return made;
}

const describe = (c: FuzzCase) =>
  c.kind === 'raw'
    ? `raw ${c.listener} ${JSON.stringify(c.bytes.subarray(0, 160).toString('latin1'))}${c.bytes.length > 160 ? `... (${c.bytes.length} bytes)` : ''}`
    : `${c.method} ${c.listener} ${c.path.slice(0, 200)}${c.path.length > 200 ? '...' : ''} ${JSON.stringify(c.headers).slice(0, 200)} body ${c.body === undefined ? 'none' : `${c.body.length} bytes`}`;

async function sendHttp(c: HttpCase, server: LamassuProcess, agent: Agent) {
  const port = c.listener === 'http' ? server.httpPort : server.httpsPort;
  const r = await request(`${c.listener}://127.0.0.1:${port}${c.path}`, {
    method: c.method as 'GET',
    dispatcher: agent,
    headers: c.headers,
    ...(c.body === undefined ? {} : { body: c.body }),
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
  const body = await r.body.text();
  const ct = r.headers['content-type'];
  return { status: r.statusCode, contentType: (Array.isArray(ct) ? ct[0] : ct) ?? '', body, method: c.method };
}

/** Writes the bytes on a fresh connection and reads the first answer (status line, headers, body). */
function sendRaw(c: RawCase, server: LamassuProcess, caPem: Buffer): Promise<{ status: number; contentType: string; body: string; method: string } | undefined> {
  return new Promise((resolve, reject) => {
    const socket =
      c.listener === 'http'
        ? net.connect(server.httpPort, '127.0.0.1')
        : tls.connect({ port: server.httpsPort, host: '127.0.0.1', ca: caPem, servername: 'localhost' });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(new Error('no answer within 10 s')), 10_000);
    const finish = () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      if (text === '') return resolve(undefined);
      const head = text.slice(0, text.indexOf('\r\n\r\n') === -1 ? text.length : text.indexOf('\r\n\r\n'));
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      const contentType = /\r\ncontent-type: ([^\r]*)/i.exec(head)?.[1] ?? '';
      const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? -1);
      let body = text.slice(head.length + 4);
      if (length >= 0) body = body.slice(0, length);
      resolve({ status, contentType, body, method: 'GET' });
    };
    socket.on('data', (d) => {
      chunks.push(d);
      // One answer is enough: stop once the head and the announced body are in.
      const text = Buffer.concat(chunks).toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const length = Number(/\r\ncontent-length: (\d+)/i.exec(text.slice(0, end))?.[1] ?? -1);
      if (end !== -1 && length >= 0 && text.length >= end + 4 + length) socket.destroy();
    });
    socket.on('close', finish);
    socket.on('error', (e: NodeJS.ErrnoException) => {
      if (chunks.length === 0 && e.code !== 'ECONNRESET' && e.code !== 'EPIPE') reject(e);
    });
    socket.once(c.listener === 'http' ? 'connect' : 'secureConnect', () => (c.truncated ? socket.end(c.bytes) : socket.write(c.bytes)));
  });
}

const rssMbOf = (pid: number): number => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
};

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const started = Date.now();
  const server = await startLamassuOn(opts.storage);
  const caPem = readFileSync(server.tlsCaFile);
  const agent = new Agent({ connect: { ca: caPem }, connections: opts.concurrency ?? 8 });
  const report: FuzzReport = {
    storage: opts.storage,
    seed: opts.seed,
    sent: 0,
    unsendable: 0,
    statuses: {},
    notOffered: {},
    failures: [],
    failureCount: 0,
    alive: false,
    healthy: false,
    rssMb: Number.NaN,
    rssStartMb: Number.NaN,
    errorLogLines: [],
    durationMs: 0,
  };
  const fail = (f: Failure) => {
    report.failureCount++;
    if (report.failures.length < MAX_KEPT_FAILURES) report.failures.push(f);
  };
  try {
    const { routes, samples } = await setup(server, agent);
    report.rssStartMb = rssMbOf(server.pid);
    const indexes = opts.only ?? Array.from({ length: opts.count }, (_, i) => i);
    let next = 0;
    const deadline = started + opts.deadlineMs;
    const worker = async () => {
      while (next < indexes.length && Date.now() < deadline) {
        const index = indexes[next++]!;
        const c = fuzzCase(rngFor(opts.seed, index), routes, samples, server.token);
        // Bytes that are not a whole request (random garbage, a body cut short) may rightly get no answer: the server waits for the rest or closes.
        const garbage = c.kind === 'raw' && (c.truncated || !/^[A-Z]+ \S+ HTTP\/\d\.\d\r\n/.test(c.bytes.toString('latin1')));
        let answer;
        try {
          answer = c.kind === 'raw' ? await sendRaw(c, server, caPem) : await sendHttp(c, server, agent);
        } catch (err) {
          const e = err as { code?: string; message?: string };
          // undici refuses to send some requests at all (invalid header value or method): nothing reached the server.
          if (e.code === 'UND_ERR_INVALID_ARG' || e.code === 'UND_ERR_NOT_SUPPORTED' || /invalid|not supported/i.test(e.message ?? '') && !e.code?.startsWith('E')) {
            report.unsendable++;
            continue;
          }
          report.sent++;
          if (!garbage) fail({ index, request: describe(c), why: `no answer: ${e.code ?? ''} ${e.message ?? err}` });
          continue;
        }
        report.sent++;
        if (!answer) {
          // Only raw garbage may be answered by a plain close (e.g. a TLS handshake that never completes).
          if (!garbage) fail({ index, request: describe(c), why: 'connection closed without an answer' });
          continue;
        }
        report.statuses[answer.status] = (report.statuses[answer.status] ?? 0) + 1;
        const why = judge(c.protocol, answer);
        if (!why && answer.status === 501) {
          const code = /^\{"code":"([A-Z_]+)"|^([A-Z_]+): /.exec(answer.body)?.slice(1).find(Boolean) ?? '?';
          report.notOffered[code] = (report.notOffered[code] ?? 0) + 1;
        }
        if (why) fail({ index, request: describe(c), why, answer: `${answer.status} ${answer.contentType} ${answer.body.slice(0, 300)}` });
        if (report.sent % 2000 === 0) opts.progress?.(`[${opts.storage}] ${report.sent} sent, ${report.failureCount} failures, ${Math.round((Date.now() - started) / 1000)} s`);
      }
    };
    await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, worker));

    report.alive = isAlive(server.pid);
    if (report.alive) {
      const health = await request(`http://127.0.0.1:${server.httpPort}/health`).catch(() => undefined);
      report.healthy = health?.statusCode === 200;
      await health?.body.text();
      // RSS is judged once the load is over: give V8's idle-time collection up to 30 s to hand memory back.
      for (let i = 0; i < 30; i++) {
        report.rssMb = rssMbOf(server.pid);
        if (report.rssMb < (opts.rssLimitMb ?? 200)) break;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    report.errorLogLines = server
      .output()
      .split('\n')
      .filter((l) => /"level":(50|60)/.test(l))
      .slice(0, 20)
      .map((l) => l.slice(0, 600));
  } finally {
    await agent.close().catch(() => {});
    await server.stop();
    report.durationMs = Date.now() - started;
  }
  return report;
}

/** Every reason the run is not clean, for people (empty when clean). */
export function problemsOf(report: FuzzReport, rssLimitMb = 200): string[] {
  const problems: string[] = [];
  if (report.failureCount > 0) {
    problems.push(`${report.failureCount} bad answers (seed ${report.seed}; replay with --seed ${report.seed} --index <i>):`);
    for (const f of report.failures) problems.push(`  #${f.index} ${f.why}\n    ${f.request}${f.answer ? `\n    -> ${f.answer}` : ''}`);
  }
  if (!report.alive) problems.push('the server process died');
  else if (!report.healthy) problems.push('the server does not answer /health with 200 after the run');
  if (report.alive && !(report.rssMb < rssLimitMb)) problems.push(`RSS ${report.rssMb.toFixed(0)} MB after the run (limit ${rssLimitMb} MB)`);
  if (report.errorLogLines.length > 0) problems.push(`error-level log lines:\n  ${report.errorLogLines.join('\n  ')}`);
  return problems;
}
