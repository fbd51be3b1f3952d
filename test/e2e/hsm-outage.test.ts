/**
 * Black-box PKCS#11 faults: the real `lamassu serve` with ENGINE=pkcs11 on a throwaway SoftHSM2 token
 * (its own SOFTHSM2_CONF and token directory). The token vanishes under issuance load and comes back;
 * the same process must answer 503 while it is away and issue again within 5 s of its return, with
 * /health, OCSP and CRLs following. Also: a wrong PIN, label or library path at start is a
 * configuration error (exit 2, one problem line naming the setting), not a crash.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { cleanEnv, freePort, lamassuBin, startLamassu, type LamassuProcess } from '../support/lamassu-process.ts';
import { needSoftHsm, pkcs11Module } from '../support/services.ts';
import { createSoftHsmToken, softHsmConf, type SoftHsmToken } from '../support/softhsm-test-token.ts';

const exec = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const pkcs11Env = (token: SoftHsmToken, overrides: Record<string, string> = {}) => ({
  ENGINE: 'pkcs11',
  PKCS11_DRIVER: pkcs11Module(),
  PKCS11_LABEL: token.label,
  PKCS11_PIN: token.pin,
  SOFTHSM2_CONF: softHsmConf,
  ...overrides,
});

/** openssl ocsp against the server; returns the status line for the certificate or the responder error. */
async function ocspStatus(dir: string, url: string, cert: string): Promise<string> {
  const { stdout, stderr } = await exec('openssl', ['ocsp', '-issuer', 'ca.pem', '-CAfile', 'ca.pem', '-no_nonce', '-url', url, '-cert', cert], { cwd: dir }).catch(
    (e: { stdout: string; stderr: string }) => e,
  );
  const out = `${stdout}${stderr}`;
  return /: (good|revoked|unknown)\b/.exec(out)?.[1] ?? /Responder Error: (\w+)/.exec(out)?.[1] ?? out;
}

/** The server's log messages matching `pattern`, one per line (for failure messages). */
function logLines(server: LamassuProcess, pattern: RegExp): string {
  return server
    .output()
    .split('\n')
    .flatMap((line) => {
      try {
        const { time, msg, reason } = JSON.parse(line) as { time: number; msg?: string; reason?: string };
        return msg && pattern.test(msg) ? [`${new Date(time).toISOString()} ${msg}${reason ? ` (${reason})` : ''}`] : [];
      } catch {
        return [];
      }
    })
    .join('\n');
}

if (await needSoftHsm()) {
  describe('PKCS#11 token lost and back under issuance load (lamassu serve, SoftHSM2)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lamassu-e2e-hsm-'));
    let token: SoftHsmToken;
    let server: LamassuProcess;
    let agent: https.Agent;

    const api = (method: string, url: string, body?: unknown) =>
      new Promise<{ status: number; json: Record<string, unknown> }>((resolve, reject) => {
        const payload = body === undefined ? undefined : JSON.stringify(body);
        const req = https.request(
          `https://127.0.0.1:${server.httpsPort}${url}`,
          {
            method,
            agent,
            headers: { authorization: `Bearer ${server.token}`, ...(payload ? { 'content-type': 'application/json' } : {}) },
            timeout: 10_000,
          },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (d) => (text += d));
            res.on('end', () => resolve({ status: res.statusCode!, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} }));
          },
        );
        req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out`)));
        req.on('error', reject);
        req.end(payload);
      });
    const health = async () => {
      const res = await fetch(`http://127.0.0.1:${server.httpPort}/health`);
      return { status: res.status, body: (await res.json()) as { keyEngines: { ok: boolean; detail?: string }[] } };
    };

    before(async () => {
      token = await createSoftHsmToken();
      server = await startLamassu({ ...pkcs11Env(token), LAMASSU_LOG_LEVEL: 'info' });
      agent = new https.Agent({ ca: readFileSync(server.tlsCaFile), keepAlive: true, maxSockets: 4 });
      await exec('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=hsm-outage'], { cwd: dir });
    });
    after(async () => {
      agent?.destroy();
      token?.putBack();
      await server?.stop();
      await token?.remove();
      rmSync(dir, { recursive: true, force: true });
    });

    it('answers 503 while the token is away and issues again within 5 s of its return, without a restart; /health, OCSP and CRLs recover', async (t) => {
      const ca = await api('POST', '/api/ca/v1/cas', { subject: { common_name: 'HSM outage CA' }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration: '1y' } });
      assert.equal(ca.status, 201, JSON.stringify(ca.json));
      const caId = ca.json.id as string;
      writeFileSync(path.join(dir, 'ca.pem'), Buffer.from((ca.json.certificate as { certificate: string }).certificate, 'base64'));
      const csr = readFileSync(path.join(dir, 'leaf.csr')).toString('base64');
      const issue = () => api('POST', `/api/ca/v1/cas/${caId}/certificates/sign`, { csr });
      const issueInto = async (file: string) => {
        const r = await issue();
        assert.equal(r.status, 201, JSON.stringify(r.json));
        writeFileSync(path.join(dir, file), Buffer.from(r.json.certificate as string, 'base64'));
        return r.json.serial_number as string;
      };
      const ocspUrl = `http://127.0.0.1:${server.httpPort}/api/va/ocsp`;
      const crlUrl = `http://127.0.0.1:${server.httpPort}/api/va/crl/${encodeURIComponent(caId)}`;
      const crlLists = async (serial: string) => {
        const res = await fetch(crlUrl);
        assert.equal(res.status, 200);
        writeFileSync(path.join(dir, 'crl.der'), Buffer.from(await res.arrayBuffer()));
        const { stdout } = await exec('openssl', ['crl', '-inform', 'DER', '-in', 'crl.der', '-CAfile', 'ca.pem', '-noout', '-text'], { cwd: dir });
        // As numbers: openssl drops the leading 00 a DER integer with its high bit set carries.
        const listed = [...stdout.matchAll(/Serial Number: ([0-9A-F]+)/g)].map((m) => BigInt(`0x${m[1]}`));
        return listed.includes(BigInt(`0x${serial.replace(/:/g, '')}`));
      };

      // Before: a certificate whose OCSP answer gets cached, one never asked about, and a published CRL.
      const cachedSerial = await issueInto('cached.pem');
      await issueInto('fresh.pem');
      assert.equal(await ocspStatus(dir, ocspUrl, 'cached.pem'), 'good');
      assert.equal(await crlLists(cachedSerial), false);

      // Issuance load from two clients for the whole test.
      const results: { at: number; status: number; code?: unknown }[] = [];
      let loading = true;
      const worker = async () => {
        while (loading) {
          const r = await issue();
          results.push({ at: Date.now(), status: r.status, code: r.json.code });
          await sleep(20);
        }
      };
      const workers = [worker(), worker()];
      let firstBack: (typeof results)[number] | undefined;
      try {
        await sleep(500);
        assert.ok(results.some((r) => r.status === 201), 'issuing before the fault');

        const removedAt = Date.now();
        token.takeAway();
        for (;;) {
          const failed = results.find((r) => r.at > removedAt && r.status !== 201);
          if (failed) {
            assert.deepEqual({ status: failed.status, code: failed.code }, { status: 503, code: 'KEY_ENGINE_UNAVAILABLE' });
            t.diagnostic(`first 503 ${failed.at - removedAt} ms after the token went away`);
            break;
          }
          assert.ok(Date.now() - removedAt < 5000, 'no 503 within 5 s of the token going away');
          await sleep(50);
        }
        const away = await health();
        assert.equal(away.status, 503);
        assert.equal(away.body.keyEngines[0]!.ok, false);
        // OCSP: the cached answer still served, tryLater for what needs a signature.
        assert.equal(await ocspStatus(dir, ocspUrl, 'cached.pem'), 'good');
        assert.equal(await ocspStatus(dir, ocspUrl, 'fresh.pem'), 'trylater');
        // A revocation needs no key; its CRL cannot be signed until the token is back.
        const revoked = await api('PUT', `/api/ca/v1/certificates/${cachedSerial}/status`, { status: 'REVOKED', revocation_reason: 'KeyCompromise' });
        assert.equal(revoked.status, 200, JSON.stringify(revoked.json));
        await sleep(2500);
        const statusesAway = results.filter((r) => r.at > removedAt + 1000).map((r) => r.status);
        assert.ok(statusesAway.length > 10 && statusesAway.every((s) => s === 503), `only 503s while away: ${[...new Set(statusesAway)].join(',')}`);

        const backAt = Date.now();
        token.putBack();
        for (;;) {
          firstBack = results.find((r) => r.at > backAt && r.status === 201);
          if (firstBack) {
            t.diagnostic(`first 201 ${firstBack.at - backAt} ms after the token came back`);
            break;
          }
          assert.ok(Date.now() - backAt < 5000, `no 201 within 5 s of the token's return; last: ${JSON.stringify(results.at(-1))}\n${logLines(server, /PKCS#11/)}`);
          await sleep(50);
        }
        await sleep(500);
      } finally {
        loading = false;
        await Promise.all(workers);
      }
      const after = results.filter((r) => r.at > firstBack!.at).map((r) => r.status);
      assert.ok(after.length > 5 && after.every((s) => s === 201), `issuing again: ${after.join(',')}`);

      const back = await health();
      assert.equal(back.status, 200, JSON.stringify(back.body));
      assert.equal(await ocspStatus(dir, ocspUrl, 'fresh.pem'), 'good');
      assert.equal(await ocspStatus(dir, ocspUrl, 'cached.pem'), 'revoked');
      // The CRL owed since the revocation during the outage gets published once the token is back.
      const deadline = Date.now() + 5000;
      while (!(await crlLists(cachedSerial))) {
        assert.ok(Date.now() < deadline, `the CRL does not list the certificate revoked during the outage; the log says:\n${logLines(server, /CRL|PKCS#11 token (lost|back|still)/)}`);
        await sleep(250);
      }
      // The same process all along, and it said what happened.
      assert.match(server.output(), /PKCS#11 token lost/);
      assert.match(server.output(), /PKCS#11 token back/);
      assert.doesNotMatch(server.output(), new RegExp(token.pin));
    });
  });

  describe('PKCS#11 settings that cannot work stop the start with a configuration error', () => {
    let token: SoftHsmToken;
    before(async () => {
      token = await createSoftHsmToken();
    });
    after(async () => token?.remove());

    /** Starts `lamassu serve` and waits for it to exit (it must: the settings are wrong). */
    async function startExpectingExit(env: Record<string, string>) {
      const dataDir = mkdtempSync(path.join(tmpdir(), 'lamassu-e2e-'));
      const child = spawn(process.execPath, [lamassuBin, 'serve'], {
        env: {
          ...cleanEnv(),
          LAMASSU_DATA_DIR: dataDir,
          LAMASSU_HTTPS_PORT: String(await freePort()),
          LAMASSU_HTTP_PORT: String(await freePort()),
          LAMASSU_LISTEN_ADDRESS: '127.0.0.1',
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      clearTimeout(timer);
      rmSync(dataDir, { recursive: true, force: true });
      return { code, stdout, stderr };
    }

    for (const [what, overrides, setting, cause] of [
      ['a wrong PIN', (t: SoftHsmToken) => ({ PKCS11_PIN: `${t.pin}0` }), 'PKCS11_PIN', /CKR_PIN_INCORRECT/],
      ['an unknown token label', () => ({ PKCS11_LABEL: 'no-such-token' }), 'PKCS11_LABEL', /no PKCS#11 token labelled "no-such-token"/],
      ['a library that does not exist', () => ({ PKCS11_DRIVER: '/nonexistent/libpkcs11.so' }), 'PKCS11_DRIVER', /\/nonexistent\/libpkcs11\.so/],
    ] as const) {
      it(`${what}: exit 2 and one problem line naming ${setting}, no stack trace`, async () => {
        const r = await startExpectingExit(pkcs11Env(token, overrides(token)));
        assert.equal(r.code, 2, `${r.stderr}\n${r.stdout}`);
        const lines = r.stderr.trimEnd().split('\n');
        assert.deepEqual(lines.slice(0, 1), ['lamassu: configuration error:'], r.stderr);
        assert.equal(lines.length, 2, r.stderr);
        assert.match(lines[1]!, new RegExp(setting));
        assert.match(lines[1]!, cause);
        assert.doesNotMatch(`${r.stderr}${r.stdout}`, /\n\s+at /, 'no stack trace');
        assert.doesNotMatch(`${r.stderr}${r.stdout}`, new RegExp(token.pin));
      });
    }
  });
}
