/**
 * Black-box `lamassu` CLI: the program run as a subprocess (bin/lamassu.js) against a real `lamassu serve`,
 * its output read as a person (tables) and as a script (--json), its files checked with openssl.
 * Needs `npm run build` first (bin/lamassu.js runs dist/).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { freePort, lamassuCli, lamassuServer } from '../support/lamassu-process.ts';
import { setTimeout as sleep } from 'node:timers/promises';

const exec = promisify(execFile);

describe('lamassu CLI against a running server (subprocess, openssl)', { timeout: 120_000 }, () => {
  const e2e = lamassuServer('lamassu-e2e-cli-');
  const { dir } = e2e;
  const file = (name: string) => path.join(dir, name);
  const { lamassu, ok, json } = lamassuCli(() => e2e.server, dir);

  const openssl = async (args: string[]) => (await exec('openssl', args, { cwd: dir })).stdout;
  const serialOf = async (pem: string) => (await openssl(['x509', '-in', pem, '-noout', '-serial'])).trim().split('=')[1]!.toLowerCase().replace(/^0+/, '');
  const ocspStatus = async (pem: string) => (await json<{ certStatus: string; revocationReason?: string; signedBy: string; nonceMatches: boolean }>(['ocsp', 'check', pem]));

  it('creates a CA and lists it as a table and as JSON', async () => {
    const created = await ok(['ca', 'create', '--id', 'factory-ca', '--cn', 'Factory CA', '--o', 'ACME']);
    assert.match(created, /factory-ca/);
    assert.match(created, /CN=Factory CA, O=ACME/);
    const table = await ok(['ca', 'list']);
    assert.match(table, /│ ID\s+│ SUBJECT/);
    assert.match(table, /│ factory-ca\s+│ CN=Factory CA, O=ACME\s+│ MANAGED\s+│ ACTIVE\s+│ ECDSA 256/);
    const list = await json<{ id: string; certificate: { status: string } }[]>(['ca', 'list']);
    assert.deepEqual(list.find((c) => c.id === 'factory-ca')?.certificate.status, 'ACTIVE');
    writeFileSync(file('factory-ca.pem'), await ok(['ca', 'show', 'factory-ca', '--pem']));
    assert.match(await openssl(['x509', '-in', 'factory-ca.pem', '-noout', '-subject']), /CN = Factory CA/);
  });

  it('signs an openssl CSR, lists the certificate, revokes it; OCSP and the CRL say revoked', async () => {
    await openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'dev-1.key', '-subj', '/CN=dev-1', '-out', 'dev-1.csr']);
    await ok(['cert', 'sign', '--ca', 'factory-ca', '--csr', 'dev-1.csr', '--out', 'dev-1.pem']);
    assert.match(await openssl(['verify', '-CAfile', 'factory-ca.pem', 'dev-1.pem']), /dev-1.pem: OK/);
    const serial = await serialOf('dev-1.pem');

    assert.match(await ok(['cert', 'list', '--ca', 'factory-ca']), new RegExp(`│ ${serial}\\s+│ CN=dev-1\\s+│ factory-ca\\s+│ ACTIVE`));
    const listed = await json<{ serial_number: string; status: string }[]>(['cert', 'list', '--ca', 'factory-ca']);
    assert.equal(listed.find((c) => c.serial_number === serial)?.status, 'ACTIVE');

    const good = await ocspStatus('dev-1.pem');
    assert.equal(good.certStatus, 'good');
    assert.equal(good.signedBy, 'issuer');
    assert.equal(good.nonceMatches, true);

    await ok(['cert', 'hold', serial]);
    assert.deepEqual(await ocspStatus('dev-1.pem').then((r) => [r.certStatus, r.revocationReason]), ['revoked', 'CertificateHold']);
    await ok(['cert', 'release', serial]);
    assert.equal((await ocspStatus('dev-1.pem')).certStatus, 'good');

    const revoked = await ok(['cert', 'revoke', serial, '--reason', 'KeyCompromise']);
    assert.match(revoked, /│ status\s+│ REVOKED/);
    assert.deepEqual(await ocspStatus('dev-1.pem').then((r) => [r.certStatus, r.revocationReason]), ['revoked', 'KeyCompromise']);
    assert.match(await ok(['ocsp', 'check', 'dev-1.pem']), /│ status\s+│ revoked/);

    // A revocation re-issues the CRL after a debounce (crlDebounceMs, 1 s): fetch until it is there, at most 10 s.
    const crlListsIt = new RegExp(`Serial Number: 0*${serial.toUpperCase()}[\\s\\S]*Key Compromise`);
    let crlText = '';
    for (const deadline = Date.now() + 10_000; !crlListsIt.test(crlText) && Date.now() < deadline; await sleep(250)) {
      await ok(['crl', 'get', 'factory-ca', '--out', 'factory.crl.pem']);
      const { stdout, stderr } = await exec('openssl', ['crl', '-in', 'factory.crl.pem', '-CAfile', 'factory-ca.pem', '-noout', '-text'], { cwd: dir });
      assert.match(stderr + stdout, /verify OK/);
      crlText = stdout;
    }
    assert.match(crlText, crlListsIt);
  });

  it('enrolls a device with `est enroll` through a DMS with HTTP Basic authentication (simpleenroll and serverkeygen)', async () => {
    await ok(['dms', 'create', '--id', 'line-7', '--ca', 'factory-ca', '--auth', 'http-basic', '--username', 'line-7', '--password', 'correct horse']);
    assert.match(await ok(['dms', 'list']), /│ line-7\s+│ line-7\s+│ factory-ca\s+│ HTTP_BASIC/);

    const basic = ['--dms', 'line-7', '--username', 'line-7', '--password', 'correct horse'];
    const enrolled = await ok(['est', 'enroll', ...basic, '--cn', 'dev-0001', '--key-out', 'dev-0001.key', '--cert-out', 'dev-0001.pem']);
    assert.match(enrolled, /│ operation\s+│ simpleenroll/);
    assert.match(await openssl(['verify', '-CAfile', 'factory-ca.pem', 'dev-0001.pem']), /OK/);
    const pub = async (args: string[]) => openssl(args);
    assert.equal(await pub(['pkey', '-in', 'dev-0001.key', '-pubout']), await pub(['x509', '-in', 'dev-0001.pem', '-noout', '-pubkey']));

    await ok(['est', 'enroll', '--server-keygen', ...basic, '--cn', 'dev-0002', '--key-out', 'dev-0002.key', '--cert-out', 'dev-0002.pem']);
    assert.equal(await pub(['pkey', '-in', 'dev-0002.key', '-pubout']), await pub(['x509', '-in', 'dev-0002.pem', '-noout', '-pubkey']));

    const devices = await json<{ id: string; dms_owner: string; identity: { active: { serial_number: string } } }[]>(['device', 'list', '--dms', 'line-7']);
    assert.deepEqual(devices.map((d) => d.id).sort(), ['dev-0001', 'dev-0002']);
    assert.equal(devices.find((d) => d.id === 'dev-0001')!.identity.active.serial_number, await serialOf('dev-0001.pem'));

    const wrong = await lamassu(['est', 'enroll', '--dms', 'line-7', '--username', 'line-7', '--password', 'wrong password', '--cn', 'dev-x', '--key-out', 'x.key', '--cert-out', 'x.pem']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /ENROLL_AUTH_FAILED/);
  });

  it('bulk revoke resumes from its state file: serials recorded there are not sent again', async () => {
    const serials: string[] = [];
    for (let i = 0; i < 3; i++) {
      await ok(['cert', 'issue', '--ca', 'factory-ca', '--cn', `bulk-${i}`, '--key-out', `bulk-${i}.key`, '--out', `bulk-${i}.pem`]);
      serials.push(await serialOf(`bulk-${i}.pem`));
    }
    writeFileSync(file('serials.txt'), `# decommissioned line\n${serials.join('\n')}\n`);
    // As an interrupted run leaves it: the first serial done (here it was not, so we can see it is skipped).
    writeFileSync(file('serials.txt.done'), `${serials[0]}\n`);

    const first = await json<{ total: number; skipped_from_state: number; done: number; failed: unknown[] }>(['bulk', 'revoke', 'serials.txt', '--reason', 'CessationOfOperation']);
    assert.deepEqual([first.total, first.skipped_from_state, first.done, first.failed.length], [3, 1, 2, 0]);
    const status = async (s: string) => (await json<{ status: string }>(['cert', 'show', s])).status;
    assert.deepEqual(await Promise.all(serials.map(status)), ['ACTIVE', 'REVOKED', 'REVOKED']);
    assert.deepEqual(readFileSync(file('serials.txt.done'), 'utf8').trim().split('\n').sort(), [...serials].sort());

    const again = await json<{ skipped_from_state: number; done: number }>(['bulk', 'revoke', 'serials.txt']);
    assert.deepEqual([again.skipped_from_state, again.done], [3, 0]);
    // A fresh state file: the revoked ones count as already revoked, the skipped one is revoked now.
    const fresh = await ok(['bulk', 'revoke', 'serials.txt', '--state', 'fresh.done']);
    assert.match(fresh, /│ revoked\s+│ 1\s+│/);
    assert.match(fresh, /│ already so\s+│ 2\s+│/);
    assert.equal(await status(serials[0]!), 'REVOKED');
  });

  it('exit codes: 1 with the server error code, 2 for bad usage, 3 when the server cannot be reached', async () => {
    const badToken = await lamassu(['ca', 'list', '--token', 'not-a-token']);
    assert.equal(badToken.code, 1);
    assert.match(badToken.stderr, /AUTH_INVALID_TOKEN/);
    const missing = await lamassu(['ca', 'show', 'no-such-ca']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /CA_NOT_FOUND/);
    const missingJson = await lamassu(['ca', 'show', 'no-such-ca', '--json']);
    assert.equal(missingJson.code, 1);
    assert.deepEqual(JSON.parse(missingJson.stderr), { status: 404, code: 'CA_NOT_FOUND', message: JSON.parse(missingJson.stderr).message });

    const closed = await freePort();
    const unreachable = await lamassu(['ca', 'list', '--url', `https://127.0.0.1:${closed}`]);
    assert.equal(unreachable.code, 3, unreachable.stderr);
    assert.match(unreachable.stderr, /cannot reach https:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);
    // Reached, but the TLS certificate is not trusted: nothing was answered either.
    const untrusted = await lamassu(['ca', 'list', '--cacert', 'factory-ca.pem']);
    assert.equal(untrusted.code, 3, untrusted.stderr);

    for (const args of [['ca', 'list', '--bogus'], ['cert', 'sign', '--ca', 'factory-ca'], ['ca', 'create', '--key', 'DSA-1024', '--cn', 'x'], ['ca', 'frobnicate']]) {
      const r = await lamassu(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    }
    const noToken = await lamassu(['ca', 'list'], { LAMASSU_DATA_DIR: dir });
    assert.equal(noToken.code, 2);
    assert.match(noToken.stderr, /no admin token/);
  });

  it('explicit --url, --token and --cacert work from anywhere', async () => {
    const out = await ok(
      ['ca', 'list', '--json', '--url', `https://localhost:${e2e.server.httpsPort}`, '--token', e2e.server.token, '--cacert', e2e.server.tlsCaFile],
      { LAMASSU_DATA_DIR: dir, LAMASSU_HTTPS_PORT: '1', LAMASSU_HTTP_PORT: '1' },
    );
    assert.ok((JSON.parse(out) as { id: string }[]).some((c) => c.id === 'factory-ca'));
  });
});
