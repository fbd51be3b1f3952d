/**
 * Black-box start-up: the real `lamassu serve` process, a fresh data directory, curl as the client.
 * Covers first start (TLS CA, admin token), TLS 1.2 and 1.3, auth on a protected route, clean SIGTERM,
 * and a second start that reuses what the first one created.
 */
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { lamassuBin, freePort, cleanEnv } from '../support/lamassu-process.ts';

const root = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
// Generous: a busy machine (other suites, two cores) can take several seconds to start node; start-up time is a benchmark matter.
const HEALTH_DEADLINE_MS = 30_000;



interface Server {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startServer(dataDir: string, httpsPort: number, httpPort: number): Server {
  const child = spawn(process.execPath, [lamassuBin, 'serve'], {
    cwd: root,
    env: {
      ...cleanEnv(),
      LAMASSU_DATA_DIR: dataDir,
      LAMASSU_HTTPS_PORT: String(httpsPort),
      LAMASSU_HTTP_PORT: String(httpPort),
      LAMASSU_LISTEN_ADDRESS: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => out, exited };
}

/** Polls /health until it answers 200; fails after the deadline or if the process exits. */
async function waitForHealth(server: Server, httpPort: number): Promise<number> {
  const started = Date.now();
  let gone = false;
  void server.exited.then(() => (gone = true));
  while (Date.now() - started < HEALTH_DEADLINE_MS) {
    if (gone) assert.fail(`server exited during start-up:\n${server.output()}`);
    try {
      const res = await fetch(`http://127.0.0.1:${httpPort}/health`);
      if (res.status === 200) return Date.now() - started;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`/health not up within ${HEALTH_DEADLINE_MS} ms:\n${server.output()}`);
}

async function curl(args: string[]): Promise<{ status: number; body: string; verbose: string }> {
  const { stdout, stderr } = await run('curl', ['-sS', '-v', '-w', '\n%{http_code}', ...args]);
  const i = stdout.lastIndexOf('\n');
  return { body: stdout.slice(0, i), status: Number(stdout.slice(i + 1)), verbose: stderr };
}

async function stop(server: Server): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  server.child.kill('SIGTERM');
  return server.exited;
}

describe('lamassu serve, end to end', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'lamassu-e2e-'));
  const caFile = path.join(dataDir, 'tls', 'ca.pem');
  const tokenFile = path.join(dataDir, 'admin-token');
  const running: Server[] = [];
  after(async () => {
    for (const s of running) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  let firstToken = '';
  let firstCa = '';

  it('starts, serves TLS 1.2 and 1.3 with its own CA, protects the admin API, and stops cleanly', async (t) => {
    const [httpsPort, httpPort] = [await freePort(), await freePort()];
    const server = startServer(dataDir, httpsPort, httpPort);
    running.push(server);
    t.diagnostic(`healthy ${await waitForHealth(server, httpPort)} ms after spawn`);

    assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
    firstToken = readFileSync(tokenFile, 'utf8').trim();
    firstCa = readFileSync(caFile, 'utf8');
    assert.ok(server.output().includes(tokenFile), 'the start-up log names the token file');
    assert.ok(!server.output().includes(firstToken), 'the token itself is never logged');

    const url = `https://localhost:${httpsPort}/api/v1/whoami`;
    const common = ['--cacert', caFile, '--resolve', `localhost:${httpsPort}:127.0.0.1`];
    for (const [flags, version] of [
      [['--tlsv1.2', '--tls-max', '1.2'], 'TLSv1.2'],
      [['--tlsv1.3', '--tls-max', '1.3'], 'TLSv1.3'],
    ] as const) {
      const r = await curl([...common, ...flags, '-H', `Authorization: Bearer ${firstToken}`, url]);
      assert.equal(r.status, 200, r.verbose);
      assert.match(r.verbose, new RegExp(`SSL connection using ${version.replace('.', '\\.')}`));
      assert.deepEqual(JSON.parse(r.body), { subject: 'admin', role: 'pki-admin', via: 'admin-token' });
    }
    // The IP SAN works too, and the route refuses callers without the token.
    const anonymous = await curl(['--cacert', caFile, `https://127.0.0.1:${httpsPort}/api/v1/whoami`]);
    assert.equal(anonymous.status, 401);
    assert.equal(JSON.parse(anonymous.body).code, 'AUTH_REQUIRED');
    const wrong = await curl([...common, '-H', 'Authorization: Bearer not-the-token', url]);
    assert.equal(wrong.status, 401);

    assert.deepEqual(await stop(server), { code: 0, signal: null });
    assert.match(server.output(), /"msg":"stopped"/);
  });

  it('reuses the admin token and the TLS CA on the next start', async (t) => {
    assert.ok(firstToken, 'first start ran');
    const [httpsPort, httpPort] = [await freePort(), await freePort()];
    const server = startServer(dataDir, httpsPort, httpPort);
    running.push(server);
    t.diagnostic(`healthy ${await waitForHealth(server, httpPort)} ms after spawn`);

    assert.equal(readFileSync(tokenFile, 'utf8').trim(), firstToken);
    assert.equal(readFileSync(caFile, 'utf8'), firstCa);
    const r = await curl(['--cacert', caFile, '-H', `Authorization: Bearer ${firstToken}`, `https://127.0.0.1:${httpsPort}/api/v1/whoami`]);
    assert.equal(r.status, 200, r.verbose);

    assert.deepEqual(await stop(server), { code: 0, signal: null });
  });
});

describe('lamassu command line', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'lamassu-cli-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));
  const lamassu = async (args: string[], env: Record<string, string> = {}) => {
    try {
      const { stdout, stderr } = await run(process.execPath, [lamassuBin, ...args], {
        cwd: root,
        env: { ...cleanEnv(), LAMASSU_DATA_DIR: dataDir, ...env },
      });
      return { code: 0, stdout, stderr };
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string };
      return { code: err.code, stdout: err.stdout, stderr: err.stderr };
    }
  };

  it('prints help', async () => {
    const r = await lamassu(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Usage: lamassu <command>/);
  });

  it('refuses a bad setting with exit code 2, naming it', async () => {
    const r = await lamassu(['serve'], { LAMASSU_HTTPS_PORT: 'abc' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /LAMASSU_HTTPS_PORT: must be a port number, got "abc"/);
    const s = await lamassu(['serve', '--services', 'ca,nope']);
    assert.equal(s.code, 2);
    assert.match(s.stderr, /--services: must be one of ca, kms, va, dms, devices, alerts, cloudproxy, aws-connector, got "nope"/);
  });

  it('refuses an unknown command', async () => {
    const r = await lamassu(['serv']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command "serv"/);
  });

  it('migrates the database and exits', async () => {
    const r = await lamassu(['migrate']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /"msg":"migrations applied"/);
  });
});
