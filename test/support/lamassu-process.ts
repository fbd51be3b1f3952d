/** What black-box tests and benchmarks need to run the real `lamassu` program as a separate process. */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before } from 'node:test';
import { withServerNodeFlags } from '../../src/server-node-flags.ts';

const root = path.resolve(import.meta.dirname, '../..');

/** The program `npm start` runs (bin/lamassu.js: the compiled build). */
export const lamassuBin = path.resolve(import.meta.dirname, '../../bin/lamassu.js');
/** How long stop() waits after SIGTERM before it kills: the server's own shutdown deadline (src/main.ts) and some. */
const STOP_DEADLINE_MS = 25_000;

/** A TCP port that was free a moment ago, for a server started next. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** The parent's environment without Lamassu or seed settings: the server runs on its defaults plus what the caller adds. */
export function cleanEnv(): NodeJS.ProcessEnv {
  const ours = /^(LAMASSU_|POSTGRES_|PKCS11_|VAULT_|GOPEM_)|^(DATABASE_URL|ENGINE)$/;
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !ours.test(k)));
}

/** A real `lamassu serve` on a fresh data directory and random ports, up (its /health answers 200) when this resolves. */
export interface LamassuProcess {
  /** Of the server process, e.g. to read its CPU time from /proc. */
  pid: number;
  dataDir: string;
  httpsPort: number;
  httpPort: number;
  /** PEM of the CA that signed the server's TLS certificate. */
  tlsCaFile: string;
  /** Empty for a replica that joined a database which already had an admin token (it writes no token file). */
  token: string;
  output(): string;
  /** SIGTERM, wait for the exit, remove the data directory. */
  stop(): Promise<void>;
}

/**
 * `dataDir`: start on an existing data directory (a restart); then `stop()` leaves it to the caller. The start
 * deadline is generous: a fresh server took 14 s to come up on a 2-core machine loaded by other work.
 */
export async function startLamassu(env: Record<string, string> = {}, opts: { nodeArgs?: string[]; deadlineMs?: number; dataDir?: string } = {}): Promise<LamassuProcess> {
  const deadlineMs = opts.deadlineMs ?? 30_000;
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(tmpdir(), 'lamassu-e2e-'));
  // Two ports asked in turn can be the same one (the first is free again when the second is asked): CI saw a
  // server fail with EADDRINUSE on its own HTTPS port.
  const httpsPort = await freePort();
  let httpPort = await freePort();
  while (httpPort === httpsPort) httpPort = await freePort();
  const child: ChildProcess = spawn(process.execPath, [...withServerNodeFlags(opts.nodeArgs ?? []), lamassuBin, 'serve'], {
    cwd: root,
    env: {
      ...cleanEnv(),
      LAMASSU_DATA_DIR: dataDir,
      LAMASSU_HTTPS_PORT: String(httpsPort),
      LAMASSU_HTTP_PORT: String(httpPort),
      LAMASSU_LISTEN_ADDRESS: '127.0.0.1',
      LAMASSU_LOG_LEVEL: 'warn',
      // Issued certificates point their OCSP and CRL URLs at this server.
      LAMASSU_VA_BASE_URLS: `http://127.0.0.1:${httpPort}`,
      // One process unless a test asks for workers (the default, auto, forks one per core on PostgreSQL).
      LAMASSU_WORKERS: '1',
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
    token: existsSync(path.join(dataDir, 'admin-token')) ? readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim() : '',
    output: () => out,
    async stop() {
      let hung = false;
      if (!gone) {
        child.kill('SIGTERM');
        // The server bounds its own shutdown (15 s); past that it is hung: kill it, then say so.
        const deadline = setTimeout(() => {
          hung = true;
          child.kill('SIGKILL');
        }, STOP_DEADLINE_MS);
        await exited;
        clearTimeout(deadline);
      }
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
      if (hung) assert.fail(`the server did not exit within ${STOP_DEADLINE_MS} ms of SIGTERM (killed):\n${out.slice(-4000)}`);
    },
  };
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `lamassu ...args` as a subprocess, the way an operator on the server's machine runs it: only the data
 * directory and the ports are set (as for the server); the token and TLS CA are found in the data directory.
 * `server` is read at each run (the server starts in before()); `env` adds to or overrides the environment.
 */
export function lamassuCli(server: () => LamassuProcess, cwd: string) {
  /** The environment a run gets (for a program spawned by hand, e.g. to signal it). */
  const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
    const s = server();
    return { ...cleanEnv(), LAMASSU_DATA_DIR: s.dataDir, LAMASSU_HTTPS_PORT: String(s.httpsPort), LAMASSU_HTTP_PORT: String(s.httpPort), ...extra };
  };
  async function lamassu(args: string[], extra: Record<string, string> = {}): Promise<CliRun> {
    try {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, [lamassuBin, ...args], { cwd, env: env(extra), timeout: 30_000 });
      return { code: 0, stdout, stderr };
    } catch (e) {
      const err = e as { code?: number; stdout?: string; stderr?: string };
      if (typeof err.code !== 'number') throw e;
      return { code: err.code, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
    }
  }
  /** The output of a run that must exit 0. */
  async function ok(args: string[], env?: Record<string, string>): Promise<string> {
    const r = await lamassu(args, env);
    assert.equal(r.code, 0, `lamassu ${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
    return r.stdout;
  }
  /** The --json output of a run that must exit 0. */
  const json = async <T>(args: string[]): Promise<T> => JSON.parse(await ok([...args, '--json'])) as T;
  return { lamassu, ok, json, env };
}

/** Whether the server process still runs (signal 0 probes without signalling). */
export function isRunning(p: Pick<LamassuProcess, 'pid'>): boolean {
  try {
    process.kill(p.pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * For a describe(): a temporary working directory (`dirPrefix` names it) and a fresh `lamassu serve`
 * (with `env`) started in before(); after() stops the server and removes the directory.
 */
export function lamassuServer(dirPrefix: string, env: Record<string, string> = {}): { readonly dir: string; readonly server: LamassuProcess } {
  const dir = mkdtempSync(path.join(tmpdir(), dirPrefix));
  let server: LamassuProcess | undefined;
  before(async () => {
    server = await startLamassu(env);
  });
  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir,
    get server(): LamassuProcess {
      if (!server) throw new Error('the server starts in before()');
      return server;
    },
  };
}
