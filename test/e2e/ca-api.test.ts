/**
 * Black-box CA service: the real `lamassu serve` process on its embedded defaults, curl as the API
 * client, openssl to make the CSR and to verify the chain it gets back.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startLamassu, type LamassuProcess } from '../support/lamassu-process.ts';

const run = promisify(execFile);


describe('CA API end to end (lamassu serve, curl, openssl)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lamassu-e2e-ca-'));
  let server: LamassuProcess;
  let dataDir: string;
  let httpsPort: number;
  let token: string;

  before(async () => {
    server = await startLamassu({ LAMASSU_SERVICES: 'ca' });
    ({ httpsPort, dataDir, token } = server);
  });
  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const api = async (method: string, url: string, body?: unknown) => {
    const args = ['-sS', '--cacert', path.join(dataDir, 'tls', 'ca.pem'), '-X', method, '-H', `Authorization: Bearer ${token}`, '-w', '\n%{http_code}'];
    if (body !== undefined) args.push('-H', 'content-type: application/json', '--data-binary', JSON.stringify(body));
    const { stdout } = await run('curl', [...args, `https://127.0.0.1:${httpsPort}/api/ca/v1${url}`]);
    const nl = stdout.lastIndexOf('\n');
    return { status: Number(stdout.slice(nl + 1)), body: stdout.slice(0, nl) };
  };

  it('creates a hierarchy, signs an openssl CSR, and openssl verifies the chain fetched over HTTP', async () => {
    const internal = await api('GET', '/cas/LAMASSU-DMS-MANAGER');
    assert.equal(internal.status, 200, internal.body);
    const root = await api('POST', '/cas', { subject: { common_name: 'E2E Root' }, key_metadata: { type: 'ECDSA', bits: 384 }, ca_expiration: { type: 'Duration', duration: '10y' } });
    assert.equal(root.status, 201, root.body);
    const rootId = JSON.parse(root.body).id as string;
    const sub = await api('POST', '/cas', { parent_id: rootId, subject: { common_name: 'E2E Sub' }, key_metadata: { type: 'RSA', bits: 2048 }, ca_expiration: { type: 'Duration', duration: '5y' } });
    assert.equal(sub.status, 201, sub.body);
    const subId = JSON.parse(sub.body).id as string;

    const key = path.join(dir, 'device.key');
    const csr = path.join(dir, 'device.csr');
    await run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', csr, '-subj', '/CN=e2e-device', '-addext', 'subjectAltName=DNS:e2e.example']);
    const signed = await api('POST', `/cas/${subId}/certificates/sign`, { csr: Buffer.from(readFileSync(csr)).toString('base64') });
    assert.equal(signed.status, 201, signed.body);
    const leaf = JSON.parse(signed.body) as { certificate: string; serial_number: string };
    const leafFile = path.join(dir, 'leaf.pem');
    writeFileSync(leafFile, Buffer.from(leaf.certificate, 'base64'));

    // The issuer certificates come from the caIssuers URLs, anonymously, in DER, as a relying party would.
    const text = (await run('openssl', ['x509', '-in', leafFile, '-noout', '-text'])).stdout;
    const subUrl = /CA Issuers - URI:(\S+)/.exec(text)![1]!;
    const subDer = path.join(dir, 'sub.der');
    await run('curl', ['-sSf', '-o', subDer, subUrl]);
    const subPem = path.join(dir, 'sub.pem');
    await run('openssl', ['x509', '-inform', 'DER', '-in', subDer, '-out', subPem]);
    const subText = (await run('openssl', ['x509', '-in', subPem, '-noout', '-text'])).stdout;
    const rootDer = path.join(dir, 'root.der');
    await run('curl', ['-sSf', '-o', rootDer, /CA Issuers - URI:(\S+)/.exec(subText)![1]!]);
    const rootPem = path.join(dir, 'root.pem');
    await run('openssl', ['x509', '-inform', 'DER', '-in', rootDer, '-out', rootPem]);
    const verified = await run('openssl', ['verify', '-x509_strict', '-CAfile', rootPem, '-untrusted', subPem, leafFile]);
    assert.match(verified.stdout, /leaf\.pem: OK/);

    const revoked = await api('PUT', `/certificates/${leaf.serial_number}/status`, { status: 'REVOKED', revocation_reason: 'KeyCompromise' });
    assert.equal(JSON.parse(revoked.body).status, 'REVOKED');
    const again = await api('PUT', `/certificates/${leaf.serial_number}/status`, { status: 'ACTIVE' });
    assert.equal(again.status, 409);
    assert.equal(JSON.parse(again.body).code, 'CERTIFICATE_ILLEGAL_TRANSITION');
  });
});
