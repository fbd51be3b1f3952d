/**
 * Domain metrics end to end: a real `lamassu serve`, the admin API, curl as the EST client and openssl as the
 * OCSP client; /metrics is scraped after each step and the values must have moved exactly as the step says.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { admin, pemOf } from './est-server.ts';
import { startLamassu, type LamassuProcess } from '../support/lamassu-process.ts';

const run = promisify(execFile);

/** The sum of the samples of `name` whose labels include `labels` (0 when there is none). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

describe('domain metrics on /metrics (lamassu serve, curl, openssl)', () => {
  let server: LamassuProcess;
  let dir: string;
  const f = (name: string) => path.join(dir, name);
  const openssl = async (...args: string[]) => (await run('openssl', args, { cwd: dir })).stdout;
  const scrape = async () => {
    const res = await fetch(`http://127.0.0.1:${server.httpPort}/metrics`);
    assert.equal(res.status, 200);
    return res.text();
  };
  /** Polls until `check` holds: in-process events move the gauges right after the request returns. */
  async function eventually(check: (text: string) => boolean, what: string): Promise<string> {
    let text = '';
    for (let i = 0; i < 50; i++) {
      text = await scrape();
      if (check(text)) return text;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail(`${what}:\n${text.split('\n').filter((l) => l.startsWith('lamassu_')).join('\n')}`);
  }
  const est = (label: string, op: string, csr: string, extra: string[]) =>
    run('curl', [
      '-sS', '--cacert', server.tlsCaFile, '--resolve', `localhost:${server.httpsPort}:127.0.0.1`, '-o', f('est.out'), '-w', '%{http_code}',
      '-H', 'Content-Type: application/pkcs10', '--data-binary', `@${csr}`, ...extra, `https://localhost:${server.httpsPort}/.well-known/est/${label}/${op}`,
    ]).then((r) => Number(r.stdout));
  let caId: string;
  let serial: string;
  const env = { LAMASSU_STATUS_SWEEP_INTERVAL: '1s' };

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'lamassu-metrics-e2e-'));
    // A sweep every second, so the sweep histogram and the expiring gauge refresh within the test. The data
    // directory is ours (removed with `dir`), so the last test can start the server again on it.
    server = await startLamassu(env, { dataDir: f('data') });
    const ca = await admin(server, 'POST', '/api/ca/v1/cas', { id: 'metrics-ca', subject: { common_name: 'Metrics CA' }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration: '10y' } });
    caId = ca.json.id;
    writeFileSync(f('ca.pem'), pemOf(ca.json.certificate.certificate));
    await admin(server, 'POST', '/api/dmsmanager/v1/dms', {
      id: 'metrics-dms',
      name: 'Metrics DMS',
      authorized_cas: [caId],
      settings: {
        enrollment_settings: { enrollment_ca: caId, est_rfc7030_settings: { auth_mode: 'HTTP_BASIC', http_basic: { username: 'line-1', password: 'a good long password' } } },
        reenrollment_settings: { reenrollment_delta: '3650d' },
      },
    });
  });
  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts an issued certificate by CA and profile, and the gauges see it at once', async () => {
    const before = await scrape();
    await openssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=metrics-leaf');
    // Five days: inside both expiring windows.
    const signed = await admin(server, 'POST', `/api/ca/v1/cas/${caId}/certificates/sign`, { csr: readFileSync(f('leaf.csr')).toString('base64'), profile: { validity: { type: 'Duration', duration: '5d' } } });
    serial = signed.json.serial_number;
    writeFileSync(f('leaf.pem'), pemOf(signed.json.certificate));
    const after = await eventually((t) => sample(t, 'lamassu_certificates', { ca: caId, status: 'ABOUT_TO_EXPIRE' }) === 1, 'the 5-day certificate is counted about to expire');
    assert.equal(sample(after, 'lamassu_certificates_issued_total', { ca: caId, profile: 'inline' }), 1);
    assert.ok(sample(after, 'lamassu_key_engine_operations_total', { op: 'sign', result: 'success' }) > sample(before, 'lamassu_key_engine_operations_total', { op: 'sign', result: 'success' }));
    assert.ok(sample(after, 'lamassu_key_engine_operations_total', { op: 'create', result: 'success' }) >= 1, 'the CA key was created through the engine');
    // The expiring gauge is counted again at each sweep (every second here).
    const expiring = await eventually((t) => sample(t, 'lamassu_certificates_expiring', { ca: caId, within: '7d' }) === 1, 'expiring within 7d');
    assert.equal(sample(expiring, 'lamassu_certificates_expiring', { ca: caId, within: '30d' }), 1);
    assert.ok(sample(expiring, 'lamassu_status_sweep_duration_seconds_count') >= 1);
    assert.match(expiring, /^lamassu_event_backlog \d+/m);
  });

  it('counts EST enrollments by DMS, operation and result, times them, and the device gauge follows', async () => {
    await openssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'dev.key', '-outform', 'DER', '-out', 'dev.csr', '-subj', '/CN=metrics-device-1');
    assert.equal(await est('metrics-dms', 'simpleenroll', f('dev.csr'), ['-u', 'line-1:a good long password']), 200);
    assert.equal(await est('metrics-dms', 'simpleenroll', f('dev.csr'), ['-u', 'line-1:wrong']), 401);
    assert.equal(await est('no-such-dms', 'simpleenroll', f('dev.csr'), ['-u', 'line-1:wrong']), 404);
    const text = await eventually((t) => sample(t, 'lamassu_devices', { status: 'FULLY_PROVISIONED' }) === 1, 'one provisioned device');
    assert.equal(sample(text, 'lamassu_est_enrollments_total', { dms: 'metrics-dms', operation: 'enroll', result: 'success' }), 1);
    const failed = text.split('\n').filter((l) => l.startsWith('lamassu_est_enrollments_total{') && l.includes('dms="metrics-dms"') && !l.includes('result="success"'));
    assert.equal(failed.length, 1, failed.join('\n'));
    assert.match(failed[0]!, / 1$/);
    assert.equal(sample(text, 'lamassu_est_enrollments_total', { dms: 'unknown', operation: 'enroll' }), 1, 'a made-up label adds no series of its own');
    assert.equal(sample(text, 'lamassu_est_enrollment_duration_seconds_count', { operation: 'enroll' }), 3);
    assert.equal(sample(text, 'lamassu_certificates_issued_total', { ca: caId }), 2);
  });

  it('counts OCSP answers by CA and status; a revocation moves the certificate gauge and a CRL is timed', async () => {
    const ocsp = () => openssl('ocsp', '-issuer', 'ca.pem', '-cert', 'leaf.pem', '-CAfile', 'ca.pem', '-no_nonce', '-url', `http://127.0.0.1:${server.httpPort}/api/va/ocsp`);
    assert.match(await ocsp(), /leaf\.pem: good/);
    assert.match(await ocsp(), /leaf\.pem: good/); // from the response cache: counted all the same
    let text = await scrape();
    assert.equal(sample(text, 'lamassu_ocsp_responses_total', { ca: caId, status: 'good' }), 2);
    await admin(server, 'PUT', `/api/ca/v1/certificates/${serial}/status`, { status: 'REVOKED', revocation_reason: 'KeyCompromise' });
    assert.match(await ocsp(), /leaf\.pem: revoked/);
    text = await eventually((t) => sample(t, 'lamassu_certificates', { ca: caId, status: 'REVOKED' }) === 1, 'one revoked certificate');
    assert.equal(sample(text, 'lamassu_certificates', { ca: caId, status: 'ABOUT_TO_EXPIRE' }), 0);
    assert.equal(sample(text, 'lamassu_ocsp_responses_total', { ca: caId, status: 'revoked' }), 1);
    const crl = await fetch(`http://127.0.0.1:${server.httpPort}/api/va/crl/${caId}`);
    assert.equal(crl.status, 200);
    await eventually((t) => sample(t, 'lamassu_crl_generation_seconds_count') >= 1, 'a CRL generation timed');
    // Revoked certificates are not counted as expiring.
    await eventually((t) => sample(t, 'lamassu_certificates_expiring', { ca: caId, within: '7d' }) === 0, 'revoked: no longer expiring');
  });

  it('a restarted server counts the same from the database', async () => {
    const before = await scrape();
    await server.stop();
    server = await startLamassu(env, { dataDir: f('data') });
    const text = await scrape();
    for (const status of ['ACTIVE', 'ABOUT_TO_EXPIRE', 'REVOKED', 'EXPIRED']) {
      assert.equal(sample(text, 'lamassu_certificates', { ca: caId, status }), sample(before, 'lamassu_certificates', { ca: caId, status }), status);
    }
    assert.equal(sample(text, 'lamassu_devices', { status: 'FULLY_PROVISIONED' }), 1);
    assert.equal(sample(text, 'lamassu_certificates_issued_total', { ca: caId }), 0, 'counters start again at zero');
  });
});
