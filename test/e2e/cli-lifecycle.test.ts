/**
 * Black-box `lamassu` CLI, the rest of the lifecycle: CA import, profiles, export, DMS certificates and EST
 * with them (enroll, re-enroll), decommissioning, bulk import, and a bulk revoke really interrupted
 * (SIGINT) and resumed. The program runs as a subprocess against a real `lamassu serve`; run
 * `npm run build` first.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Agent, fetch } from 'undici';
import { lamassuBin, lamassuCli, lamassuServer } from '../support/lamassu-process.ts';

const exec = promisify(execFile);

describe('lamassu CLI: import, profiles, DMS certificates, re-enrollment, bulk runs', { timeout: 120_000 }, () => {
  const e2e = lamassuServer('lamassu-e2e-cli-life-');
  const { dir } = e2e;
  const { ok, json, env } = lamassuCli(() => e2e.server, dir);

  const openssl = async (args: string[]) => (await exec('openssl', args, { cwd: dir })).stdout;
  const serialOf = async (pem: string) => (await openssl(['x509', '-in', pem, '-noout', '-serial'])).trim().split('=')[1]!.toLowerCase().replace(/^0+/, '');

  /** An openssl-made CA (key + self-signed certificate), as a PKI outside Lamassu has. */
  async function opensslCa(name: string) {
    await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`]);
    await openssl(['req', '-x509', '-new', '-key', `${name}.key`, '-subj', `/CN=${name}`, '-days', '365', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', `${name}.pem`]);
  }

  it('imports a CA with its key and issues with it; exports PEM, DER and the chain', async () => {
    await ok(['ca', 'create', '--id', 'factory-ca', '--cn', 'Factory CA']);
    await opensslCa('legacy');
    const imported = await json<{ id: string; type: string }>(['ca', 'import', '--cert', 'legacy.pem', '--key', 'legacy.key', '--id', 'legacy']);
    assert.deepEqual([imported.id, imported.type], ['legacy', 'IMPORTED_WITH_KEY']);
    await openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'l1.key', '-subj', '/CN=l1', '-out', 'l1.csr']);
    writeFileSync(path.join(dir, 'l1.pem'), await ok(['cert', 'sign', '--ca', 'legacy', '--csr', 'l1.csr']));
    assert.match(await openssl(['verify', '-CAfile', 'legacy.pem', 'l1.pem']), /OK/);

    const serial = await serialOf('l1.pem');
    await ok(['cert', 'export', serial, '--der', '--out', 'l1.der']);
    assert.match(await openssl(['x509', '-inform', 'DER', '-in', 'l1.der', '-noout', '-subject']), /CN = l1/);
    const chain = await ok(['cert', 'export', serial, '--chain']);
    assert.equal(chain.match(/BEGIN CERTIFICATE/g)?.length, 2);
  });

  it('creates a profile and issues under it with a server-made key', async () => {
    await ok(['profile', 'create', '--id', 'tls-30d', '--name', 'TLS servers', '--validity', '30d', '--eku', 'ServerAuth']);
    assert.match(await ok(['profile', 'list']), /│ tls-30d\s+│ TLS servers\s+│ 30d/);
    await ok(['cert', 'issue', '--ca', 'factory-ca', '--profile', 'tls-30d', '--cn', 'web-1', '--key-out', 'web-1.key', '--out', 'web-1.pem']);
    const text = await openssl(['x509', '-in', 'web-1.pem', '-noout', '-text']);
    assert.match(text, /TLS Web Server Authentication/);
    const days = (Date.parse((await openssl(['x509', '-in', 'web-1.pem', '-noout', '-enddate'])).split('=')[1]!) - Date.now()) / 86_400_000;
    assert.ok(days > 29 && days < 31, `${days} days`);
    assert.equal((await exec('stat', ['-c', '%a', path.join(dir, 'web-1.key')])).stdout.trim(), '600');
    assert.match(await openssl(['pkey', '-in', 'web-1.key', '-noout', '-text']), /Private-Key/);
  });

  it('a DMS certificate authenticates `est enroll`; the device re-enrolls with its own, then is decommissioned', async () => {
    await ok(['dms', 'create', '--id', 'gateways', '--ca', 'factory-ca', '--renewal-window', '400d']);
    await ok(['dms', 'cert', 'gateways', '--key-out', 'gw.key', '--out', 'gw.pem']);
    assert.match(await ok(['dms', 'show', 'gateways']), /│ DMS certificate\s+│ [0-9a-f]+/);
    const dmsAuth = ['--dms', 'gateways', '--client-cert', 'gw.pem', '--client-key', 'gw.key'];
    await ok(['est', 'enroll', ...dmsAuth, '--cn', 'gw-0001', '--key-out', 'gw-0001.key', '--cert-out', 'gw-0001.pem']);
    const first = await serialOf('gw-0001.pem');

    const re = await json<{ operation: string; serial_number: string; subject: string }>(['est', 'enroll', '--reenroll', '--dms', 'gateways', '--client-cert', 'gw-0001.pem', '--client-key', 'gw-0001.key', '--key-out', 'gw-0001b.key', '--cert-out', 'gw-0001b.pem']);
    assert.equal(re.operation, 'simplereenroll');
    assert.equal(re.subject, 'CN=gw-0001');
    assert.notEqual(re.serial_number, first);
    assert.equal(await serialOf('gw-0001b.pem'), re.serial_number);
    const device = await json<{ identity: { active: { serial_number: string } } }>(['device', 'show', 'gw-0001']);
    assert.equal(device.identity.active.serial_number, re.serial_number);

    const trust = await ok(['est', 'cacerts', '--dms', 'gateways']);
    assert.match(trust, /BEGIN CERTIFICATE/);

    assert.match(await ok(['device', 'decommission', 'gw-0001']), /│ status\s+│ DECOMMISSIONED/);
    assert.equal((await json<{ status: string }>(['cert', 'show', re.serial_number])).status, 'REVOKED');
    const decommissioned = await json<{ id: string }[]>(['device', 'list', '--status', 'DECOMMISSIONED']);
    assert.deepEqual(decommissioned.map((d) => d.id), ['gw-0001']);
  });

  it('bulk import tracks a directory of certificates from elsewhere, once', async () => {
    await opensslCa('vendor');
    mkdirSync(path.join(dir, 'vendor-certs'));
    for (let i = 0; i < 3; i++) {
      await openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `v${i}.key`, '-subj', `/CN=vendor-dev-${i}`, '-out', `v${i}.csr`]);
      await openssl(['x509', '-req', '-in', `v${i}.csr`, '-CA', 'vendor.pem', '-CAkey', 'vendor.key', '-days', '30', '-out', `vendor-certs/v${i}.pem`]);
    }
    const first = await json<{ total: number; done: number }>(['bulk', 'import', 'vendor-certs']);
    assert.deepEqual([first.total, first.done], [3, 3]);
    const again = await json<{ skipped_from_state: number; done: number }>(['bulk', 'import', 'vendor-certs']);
    assert.deepEqual([again.skipped_from_state, again.done], [3, 0]);
    const listed = await json<{ subject: { common_name: string } }[]>(['cert', 'list', '--cn', 'vendor-dev-*']);
    assert.deepEqual(listed.map((c) => c.subject.common_name).sort(), ['vendor-dev-0', 'vendor-dev-1', 'vendor-dev-2']);
  });

  it('bulk revoke interrupted by SIGINT stops cleanly (exit 130) and the same command finishes the rest', async () => {
    // Many certificates, made over the API directly (the CLI per certificate would be slow).
    const agent = new Agent({ connect: { ca: readFileSync(e2e.server.tlsCaFile, 'utf8') } });
    const serials: string[] = [];
    for (let i = 0; i < 60; i++) {
      const res = await fetch(`https://127.0.0.1:${e2e.server.httpsPort}/api/ca/v1/certificates`, {
        method: 'POST',
        dispatcher: agent,
        headers: { authorization: `Bearer ${e2e.server.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ca_id: 'factory-ca', key_spec: { type: 'ECDSA', bits: 256 }, subject: { common_name: `fleet-${i}` } }),
      });
      assert.equal(res.status, 201);
      serials.push(((await res.json()) as { serial_number: string }).serial_number);
    }
    await agent.close();
    writeFileSync(path.join(dir, 'fleet.txt'), serials.join('\n'));
    const stateFile = path.join(dir, 'fleet.txt.done');
    const doneLines = () => {
      try {
        return readFileSync(stateFile, 'utf8').split('\n').filter(Boolean);
      } catch {
        return [];
      }
    };

    const child = spawn(process.execPath, [lamassuBin, 'bulk', 'revoke', 'fleet.txt', '--concurrency', '1', '--json'], { cwd: dir, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const started = Date.now();
    while (doneLines().length < 5 && Date.now() - started < 20_000) await new Promise((r) => setTimeout(r, 10));
    child.kill('SIGINT');
    const code = await exited;
    assert.equal(code, 130, stderr);
    assert.match(stderr, /interrupted; run the same command again to resume/);
    const report = JSON.parse(stdout) as { interrupted: boolean; done: number };
    assert.equal(report.interrupted, true);
    const recorded = doneLines();
    assert.ok(recorded.length >= 5 && recorded.length < 60, `${recorded.length} done before the interruption`);
    assert.equal(report.done, recorded.length);
    // What the state file says is done is exactly what the server has revoked.
    const revoked = await json<{ serial_number: string }[]>(['cert', 'list', '--cn', 'fleet-*', '--status', 'REVOKED']);
    assert.deepEqual(revoked.map((c) => c.serial_number).sort(), [...recorded].sort());

    const resumed = await json<{ skipped_from_state: number; done: number; already: number }>(['bulk', 'revoke', 'fleet.txt']);
    assert.deepEqual([resumed.skipped_from_state, resumed.done, resumed.already], [recorded.length, 60 - recorded.length, 0]);
    assert.equal((await json<unknown[]>(['cert', 'list', '--cn', 'fleet-*', '--status', 'ACTIVE'])).length, 0);
  });
});
