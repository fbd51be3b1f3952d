/**
 * `lamassu serve --workers 2` (LAMASSU_WORKERS) on PostgreSQL: a primary and two worker processes sharing
 * the HTTPS and HTTP listeners; the scheduled jobs and the outbox relay run in one of them only; a worker
 * that dies is replaced while the other keeps answering; SIGTERM stops them all. On SQLite more than one
 * worker is a configuration error.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { lamassuBin, startLamassu, type LamassuProcess } from '../support/lamassu-process.ts';
import { startLamassuOn } from '../support/lamassu-on-storage.ts';
import { needPostgres } from '../support/services.ts';
import { admin } from './est-server.ts';

const childrenOf = (pid: number): number[] => {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
};
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
const logLines = (out: string) =>
  out.split('\n').flatMap((l) => {
    try {
      return [JSON.parse(l) as { pid: number; msg: string; job?: string }];
    } catch {
      return [];
    }
  });

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('lamassu serve --workers 2 [postgres]', { timeout: 180_000 }, async () => {
  if (!(await needPostgres())) {
    it('runs on PostgreSQL', { skip: 'SERVICE MISSING: PostgreSQL' }, () => {});
    return;
  }
  let server: LamassuProcess;
  let agent: Agent;
  before(async () => {
    server = await startLamassuOn('postgres', { LAMASSU_WORKERS: '2', LAMASSU_LOG_LEVEL: 'info', LAMASSU_STATUS_SWEEP_INTERVAL: '1s' });
    agent = new Agent({ connect: { ca: readFileSync(server.tlsCaFile) }, pipelining: 0 });
    await until('two workers serving', () => server.output().includes('lamassu is serving with worker processes'));
    idleRss = [server.pid, ...childrenOf(server.pid)].map((pid) => ({ pid, mb: rssMb(pid) }));
  });
  /** Resident memory of the primary and the workers once started, before any request. */
  let idleRss: { pid: number; mb: number }[] = [];
  after(async () => {
    await agent?.close();
    await server?.stop();
  });

  it('forks two workers that answer on the HTTPS (admin API, EST) and HTTP (health, CRL, OCSP) listeners; each idles (before any request) under 150 MB', async () => {
    const workers = childrenOf(server.pid);
    assert.equal(workers.length, 2, `children of the primary: ${workers.join(', ')}`);
    await admin(server, 'POST', '/api/ca/v1/cas', {
      id: 'workers-ca',
      subject: { common_name: 'Workers CA' },
      key_metadata: { type: 'ECDSA', bits: 256 },
      ca_expiration: { type: 'Duration', duration: '1y' },
    });
    const https = `https://127.0.0.1:${server.httpsPort}`;
    const http = `http://127.0.0.1:${server.httpPort}`;
    // New connections each time: the primary hands them to the workers in turn.
    for (let i = 0; i < 6; i++) {
      const get = async (url: string, init: Parameters<typeof request>[1] = {}) => {
        const res = await request(url, { dispatcher: agent, reset: true, ...init });
        const body = Buffer.from(await res.body.arrayBuffer());
        return { status: res.statusCode, type: String(res.headers['content-type'] ?? ''), body };
      };
      const cas = await get(`${https}/api/ca/v1/cas/workers-ca`, { headers: { authorization: `Bearer ${server.token}` } });
      assert.equal(cas.status, 200);
      const cacerts = await get(`${https}/.well-known/est/workers-ca/cacerts`);
      assert.equal(cacerts.status, 200);
      assert.equal((await get(`${http}/health`)).status, 200);
      const crl = await get(`${http}/api/va/crl/workers-ca`);
      assert.equal(crl.status, 200, crl.body.toString());
      // A malformed request gets an OCSP answer (malformedRequest), from the responder itself.
      const ocsp = await get(`${http}/api/va/ocsp`, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: Buffer.from([0x30, 0x00]) });
      assert.equal(ocsp.status, 200);
      assert.match(ocsp.type, /ocsp-response/);
    }
    for (const { pid, mb } of idleRss) assert.ok(mb < 150, `process ${pid}: ${mb.toFixed(0)} MB idle`);
  });

  it('runs the scheduled jobs and the outbox relay in one worker only', async () => {
    const started = Date.now();
    await new Promise((r) => setTimeout(r, 3500));
    const lines = logLines(server.output());
    const sweeps = lines.filter((l) => l.msg === 'job run finished' && l.job === 'ca.status-sweep');
    assert.ok(sweeps.length >= 2, `sweep runs: ${sweeps.length}`);
    assert.equal(new Set(sweeps.map((l) => l.pid)).size, 1, 'the sweep ran in more than one worker');
    // Every second at most once (plus the run at start), not once per worker.
    const seconds = (Date.now() - started) / 1000 + 10;
    assert.ok(sweeps.length <= seconds + 1, `${sweeps.length} sweep runs`);
    const relays = lines.filter((l) => l.msg === 'outbox relay: this replica relays the outbox');
    assert.equal(relays.length, 1, `relay leaders: ${relays.map((l) => l.pid).join(', ')}`);
  });

  it('replaces a worker that dies; the other keeps answering meanwhile', async () => {
    const [first, second] = childrenOf(server.pid);
    process.kill(first!, 'SIGKILL');
    await until('worker gone', () => !alive(first!));
    for (let i = 0; i < 4; i++) assert.equal((await fetch(`http://127.0.0.1:${server.httpPort}/health`)).status, 200);
    await until('a replacement worker', () => childrenOf(server.pid).length === 2 && !childrenOf(server.pid).includes(first!));
    assert.ok(childrenOf(server.pid).includes(second!));
    const replacement = childrenOf(server.pid).find((p) => p !== second)!;
    await until('the replacement serving', () => logLines(server.output()).some((l) => l.pid === replacement && l.msg === 'lamassu is serving'));
  });

  it('SIGTERM to the primary stops every worker, then the primary exits 0', async () => {
    const workers = childrenOf(server.pid);
    process.kill(server.pid, 'SIGTERM');
    await until('primary gone', () => !alive(server.pid));
    for (const w of workers) await until(`worker ${w} gone`, () => !alive(w), 5000);
    const stopped = logLines(server.output()).filter((l) => l.msg === 'stopped');
    assert.ok(stopped.length >= 2, `clean worker stops: ${stopped.length}`);
  });
});

describe('lamassu serve --workers on SQLite', () => {
  it('is a configuration error for more than one worker (exit 2, naming the setting)', () => {
    const r = spawnSync(process.execPath, [lamassuBin, 'serve', '--workers', '2'], { env: { ...process.env, LAMASSU_DATA_DIR: '/nonexistent-lamassu-workers', DATABASE_URL: '' }, encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /LAMASSU_WORKERS: 2 worker processes need PostgreSQL/);
  });

  it('runs one process by default (auto)', async () => {
    const server = await startLamassu({ LAMASSU_WORKERS: 'auto' });
    try {
      assert.deepEqual(childrenOf(server.pid), []);
    } finally {
      await server.stop();
    }
  });
});
