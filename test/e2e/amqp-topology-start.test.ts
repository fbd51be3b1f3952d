/**
 * A second deployment on the same RabbitMQ vhost whose names clash with the first's (the older settings:
 * another exchange, the same queue prefix) stops at start with a configuration error (exit 2, one line
 * naming the setting), not an unhandled amqplib 406; with its own LAMASSU_AMQP_PREFIX it starts beside it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { removePrefixTopology, removeTestTopology } from '../support/amqp-topology.ts';
import { cleanEnv, freePort, lamassuBin, startLamassu } from '../support/lamassu-process.ts';
import { amqpUrl, needRabbitMq } from '../support/services.ts';

const root = path.resolve(import.meta.dirname, '../..');

/** Runs `lamassu serve` to its exit (bounded), with its output. */
async function serveUntilExit(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'lamassu-e2e-topology-'));
  try {
    const child = spawn(process.execPath, [lamassuBin, 'serve'], {
      cwd: root,
      env: { ...cleanEnv(), LAMASSU_DATA_DIR: dataDir, LAMASSU_HTTPS_PORT: String(await freePort()), LAMASSU_HTTP_PORT: String(await freePort()), LAMASSU_LISTEN_ADDRESS: '127.0.0.1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    child.stdout!.resume();
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    clearTimeout(timer);
    return { code, stderr };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

describe('RabbitMQ topology per deployment at start (real program, real broker)', { timeout: 60_000 }, async () => {
  if (!(await needRabbitMq())) {
    it('runs on RabbitMQ', { skip: 'SERVICE MISSING: RabbitMQ' }, () => {});
    return;
  }

  it('a clashing second deployment exits 2 naming LAMASSU_AMQP_PREFIX; one with its own prefix serves beside the first', async () => {
    const queuePrefix = `test-q-${randomUUID().slice(0, 8)}`;
    const [x1, x2] = [`test-x1-${randomUUID().slice(0, 8)}`, `test-x2-${randomUUID().slice(0, 8)}`];
    const ownPrefix = `test-p-${randomUUID().slice(0, 8)}`;
    const common = { LAMASSU_SERVICES: 'ca,va', LAMASSU_AMQP_URL: amqpUrl() };
    const first = await startLamassu({ ...common, LAMASSU_AMQP_EXCHANGE: x1, LAMASSU_AMQP_QUEUE_PREFIX: queuePrefix });
    try {
      const clash = await serveUntilExit({ ...common, LAMASSU_AMQP_EXCHANGE: x2, LAMASSU_AMQP_QUEUE_PREFIX: queuePrefix });
      assert.equal(clash.code, 2, clash.stderr);
      const problems = clash.stderr.split('\n').filter((l) => l.startsWith('  '));
      assert.equal(problems.length, 1, clash.stderr);
      assert.match(problems[0]!, /^ {2}LAMASSU_AMQP_PREFIX: the message broker refused .*PRECONDITION_FAILED.*x-dead-letter-exchange.*own LAMASSU_AMQP_PREFIX/);
      assert.doesNotMatch(clash.stderr, /Unhandled|at .*amqplib/);

      const second = await startLamassu({ ...common, LAMASSU_AMQP_PREFIX: ownPrefix });
      const health = (await fetch(`http://127.0.0.1:${second.httpPort}/health`).then((r) => r.json())) as { status: string; eventBus?: { ok: boolean } };
      await second.stop();
      assert.deepEqual([health.status, health.eventBus?.ok], ['ok', true]);
    } finally {
      await first.stop();
      await removeTestTopology({ exchange: x1, queuePrefix, groups: ['va.crl', 'va.roles'] });
      await removeTestTopology({ exchange: x2, queuePrefix, groups: [] });
      await removePrefixTopology(ownPrefix, ['va.crl', 'va.roles']);
    }
  });
});
