/**
 * Test support for EST black-box runs (test/e2e/est.test.ts, bench/est.bench.ts): a real `lamassu serve`
 * process on a fresh data directory and random ports, and an admin API client (bearer token from the data
 * directory). EST itself is driven by curl/openssl in the tests, by raw TLS in the benchmark.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { lamassuBin, freePort, cleanEnv } from '../support/lamassu-process.ts';

const root = path.resolve(import.meta.dirname, '../..');



export interface EstServer {
  /** Of the server process, e.g. to read its CPU time from /proc. */
  pid: number;
  dataDir: string;
  httpsPort: number;
  httpPort: number;
  /** PEM of the CA that signed the server's TLS certificate. */
  tlsCaFile: string;
  token: string;
  output(): string;
  /** SIGTERM, wait for the exit, remove the data directory. */
  stop(): Promise<void>;
}

export async function startEstServer(env: Record<string, string> = {}, opts: { nodeArgs?: string[]; deadlineMs?: number } = {}): Promise<EstServer> {
  const deadlineMs = opts.deadlineMs ?? 15_000;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'lamassu-est-'));
  const [httpsPort, httpPort] = [await freePort(), await freePort()];
  const child: ChildProcess = spawn(process.execPath, [...(opts.nodeArgs ?? []), lamassuBin, 'serve'], {
    cwd: root,
    env: {
      ...cleanEnv(),
      LAMASSU_DATA_DIR: dataDir,
      LAMASSU_HTTPS_PORT: String(httpsPort),
      LAMASSU_HTTP_PORT: String(httpPort),
      LAMASSU_LISTEN_ADDRESS: '127.0.0.1',
      LAMASSU_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  const started = Date.now();
  for (;;) {
    if (gone) assert.fail(`server exited during start-up:\n${out}`);
    if (Date.now() - started > deadlineMs) {
      child.kill('SIGKILL');
      assert.fail(`/health not up within ${deadlineMs} ms:\n${out}`);
    }
    const up = await fetch(`http://127.0.0.1:${httpPort}/health`).then((r) => r.status === 200, () => false);
    if (up) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    pid: child.pid!,
    dataDir,
    httpsPort,
    httpPort,
    tlsCaFile: path.join(dataDir, 'tls', 'ca.pem'),
    token: readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim(),
    output: () => out,
    async stop() {
      if (!gone) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface AdminResponse {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

/** One admin API call with the server's bearer token; throws unless the status is `expect` (default 2xx). */
export function admin(server: EstServer, method: string, urlPath: string, body?: unknown, expect?: number): Promise<AdminResponse> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        servername: 'localhost',
        port: server.httpsPort,
        method,
        path: urlPath,
        ca: readFileSync(server.tlsCaFile),
        headers: { authorization: `Bearer ${server.token}`, ...(payload ? { 'content-type': 'application/json' } : {}) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const ok = expect === undefined ? status >= 200 && status < 300 : status === expect;
          if (!ok) return reject(new Error(`${method} ${urlPath}: ${status} ${text}`));
          resolve({ status, json: text === '' ? undefined : JSON.parse(text) });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Lamassu's JSON carries PEMs as base64 of the PEM text. */
export const pemOf = (base64Pem: string) => Buffer.from(base64Pem, 'base64').toString('utf8');
