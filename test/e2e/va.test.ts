/**
 * Black-box VA: the real `lamassu serve` process (ca + va on the embedded defaults), curl for the admin
 * APIs, openssl as the OCSP and CRL client, following the URLs the issued certificate carries.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startLamassu, type LamassuProcess } from '../support/lamassu-process.ts';


function run(cmd: string, args: string[], cwd?: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, encoding: 'latin1' }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) || 1 : 0, out: `${stdout}${stderr}` });
    });
  });
}


describe('VA end to end (lamassu serve, curl, openssl ocsp/crl/verify)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lamassu-e2e-va-'));
  let server: LamassuProcess;
  let dataDir: string;
  let httpsPort: number;
  let token: string;
  let subId: string;
  let serial: string;
  let ocspUrl: string;
  let crlUrl: string;

  const api = async (method: string, url: string, body?: unknown) => {
    const args = ['-sS', '--cacert', path.join(dataDir, 'tls', 'ca.pem'), '-X', method, '-H', `Authorization: Bearer ${token}`, '-w', '\n%{http_code}'];
    if (body !== undefined) args.push('-H', 'content-type: application/json', '--data-binary', JSON.stringify(body));
    const r = await run('curl', [...args, `https://127.0.0.1:${httpsPort}${url}`]);
    const nl = r.out.lastIndexOf('\n');
    return { status: Number(r.out.slice(nl + 1)), body: r.out.slice(0, nl) };
  };
  const ocsp = (...extra: string[]) => run('openssl', ['ocsp', '-issuer', 'sub.pem', '-CAfile', 'root.pem', '-url', ocspUrl, ...extra, '-cert', 'leaf.pem'], dir);
  const setStatus = (status: string, reason?: string) =>
    api('PUT', `/api/ca/v1/certificates/${serial}/status`, { status, ...(reason ? { revocation_reason: reason } : {}) });

  before(async () => {
    server = await startLamassu({ LAMASSU_SERVICES: 'ca,va' });
    ({ httpsPort, dataDir, token } = server);

    const rootCa = await api('POST', '/api/ca/v1/cas', { subject: { common_name: 'VA E2E Root' }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration: '10y' } });
    assert.equal(rootCa.status, 201, rootCa.body);
    const rootJson = JSON.parse(rootCa.body) as { id: string; certificate: { certificate: string } };
    const sub = await api('POST', '/api/ca/v1/cas', { parent_id: rootJson.id, subject: { common_name: 'VA E2E Sub' }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration: '5y' } });
    assert.equal(sub.status, 201, sub.body);
    const subJson = JSON.parse(sub.body) as { id: string; certificate: { certificate: string } };
    subId = subJson.id;
    writeFileSync(path.join(dir, 'root.pem'), Buffer.from(rootJson.certificate.certificate, 'base64'));
    writeFileSync(path.join(dir, 'sub.pem'), Buffer.from(subJson.certificate.certificate, 'base64'));
    await run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=va-e2e-device'], dir);
    const signed = await api('POST', `/api/ca/v1/cas/${subId}/certificates/sign`, { csr: readFileSync(path.join(dir, 'leaf.csr')).toString('base64') });
    assert.equal(signed.status, 201, signed.body);
    const leaf = JSON.parse(signed.body) as { certificate: string; serial_number: string };
    serial = leaf.serial_number;
    writeFileSync(path.join(dir, 'leaf.pem'), Buffer.from(leaf.certificate, 'base64'));
    const text = (await run('openssl', ['x509', '-in', 'leaf.pem', '-noout', '-text'], dir)).out;
    ocspUrl = /OCSP - URI:(\S+)/.exec(text)![1]!;
    crlUrl = /CRL Distribution Points:\s*\n\s*Full Name:\s*\n\s*URI:(\S+)/.exec(text)![1]!;
  });
  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers good at the OCSP URL the certificate carries, with and without a nonce', async () => {
    for (const extra of [[], ['-no_nonce']]) {
      const r = await ocsp(...extra);
      assert.match(r.out, /Response verify OK/, r.out);
      assert.match(r.out, /leaf\.pem: good/);
    }
  });

  it('answers on the HTTPS listener too', async () => {
    await run('openssl', ['ocsp', '-issuer', 'sub.pem', '-cert', 'leaf.pem', '-no_nonce', '-reqout', 'req.der'], dir);
    const r = await run('curl', ['-sS', '--cacert', path.join(dataDir, 'tls', 'ca.pem'), '-H', 'Content-Type: application/ocsp-request', '--data-binary', '@req.der', '-o', 'https-resp.der', '-w', '%{http_code}', `https://127.0.0.1:${httpsPort}/api/va/ocsp`], dir);
    assert.equal(r.out, '200');
    const v = await run('openssl', ['ocsp', '-respin', 'https-resp.der', '-issuer', 'sub.pem', '-cert', 'leaf.pem', '-CAfile', 'root.pem'], dir);
    assert.match(v.out, /Response verify OK/);
    assert.match(v.out, /leaf\.pem: good/);
  });

  it('the very next request after each status call sees it: hold, release, revoke', async () => {
    assert.match((await ocsp('-no_nonce')).out, /leaf\.pem: good/); // cached now
    assert.equal((await setStatus('REVOKED', 'CertificateHold')).status, 200);
    const held = await ocsp('-no_nonce');
    assert.match(held.out, /leaf\.pem: revoked/);
    assert.match(held.out, /Reason: certificateHold/);
    assert.equal((await setStatus('ACTIVE')).status, 200);
    assert.match((await ocsp('-no_nonce')).out, /leaf\.pem: good/);
  });

  it('settings API: defaults for the CA, switch to a delegated responder that openssl accepts', async () => {
    const got = await api('GET', `/api/va/v1/roles/${subId}`);
    assert.equal(got.status, 200, got.body);
    const role = JSON.parse(got.body) as { ocsp_options: { signer: string; validity: string }; crl_options: { validity: string } };
    assert.deepEqual(role.ocsp_options, { validity: '1h', signer: 'CA' });
    assert.equal(role.crl_options.validity, '1w');
    const put = await api('PUT', `/api/va/v1/roles/${subId}`, { ocsp_options: { signer: 'DELEGATED' } });
    assert.equal(put.status, 200, put.body);
    const r = await ocsp('-resp_text');
    assert.match(r.out, /Response verify OK/, r.out);
    assert.match(r.out, /OCSP No Check/);
    const bad = await api('PUT', `/api/va/v1/roles/${subId}`, { crl_options: { refresh_interval: '30d' } });
    assert.equal(bad.status, 400);
    assert.equal(JSON.parse(bad.body).code, 'VA_ROLE_INVALID');
    const anonymous = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', path.join(dataDir, 'tls', 'ca.pem'), `https://127.0.0.1:${httpsPort}/api/va/v1/roles/${subId}`]);
    assert.equal(anonymous.out, '401');
  });

  it('revoked for good: OCSP says so, and the CRL at the certificate\'s CDP makes openssl verify -crl_check reject it', async () => {
    assert.equal((await setStatus('REVOKED', 'KeyCompromise')).status, 200);
    const r = await ocsp();
    assert.match(r.out, /leaf\.pem: revoked/);
    assert.match(r.out, /Reason: keyCompromise/);
    // The CRL is republished within the debounce (1 s); poll the CDP URL as a relying party would.
    const deadline = Date.now() + 5000;
    for (;;) {
      assert.equal((await run('curl', ['-sSf', '-o', path.join(dir, 'crl.der'), crlUrl])).code, 0);
      await run('openssl', ['crl', '-in', 'crl.der', '-inform', 'DER', '-out', 'crl.pem'], dir);
      const v = await run('openssl', ['verify', '-crl_check', '-CRLfile', 'crl.pem', '-CAfile', 'root.pem', '-untrusted', 'sub.pem', 'leaf.pem'], dir);
      if (/certificate revoked/.test(v.out)) break;
      assert.ok(Date.now() < deadline, `CRL still does not list the certificate: ${v.out}`);
      await new Promise((res) => setTimeout(res, 200));
    }
    const verified = await run('openssl', ['crl', '-in', 'crl.der', '-inform', 'DER', '-CAfile', 'sub.pem', '-noout'], dir);
    assert.match(verified.out, /verify OK/);
  });
});
