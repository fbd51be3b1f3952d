import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_VA_ROLE_SETTINGS } from '../../domain/va/va-role.ts';
import { run, startTestbed, type Testbed } from '../../../test/support/va-testbed.ts';

let tb: Testbed;
before(async () => {
  tb = await startTestbed({ leaves: 4 });
});
after(async () => tb?.close());

/** `openssl ocsp` against our server, as the acceptance criteria spell it. */
async function ocsp(...extra: string[]) {
  const r = await run('openssl', ['ocsp', '-issuer', 'ca.pem', '-CAfile', 'root.pem', '-url', `${tb.url}/api/va/ocsp`, ...extra], { cwd: tb.dir });
  return r.out;
}

describe('openssl ocsp against the VA, CA-key responder', () => {
  test('good, with a nonce', async () => {
    const out = await ocsp('-cert', 'leaf0.pem');
    assert.match(out, /Response verify OK/);
    assert.match(out, /leaf0\.pem: good/);
    assert.doesNotMatch(out, /WARNING: no nonce/);
  });

  test('good without a nonce, and with SHA-256 CertIDs', async () => {
    const out = await ocsp('-sha256', '-no_nonce', '-cert', 'leaf0.pem');
    assert.match(out, /Response verify OK/);
    assert.match(out, /leaf0\.pem: good/);
  });

  test('several certificates in one request, one of them never issued', async () => {
    const out = await ocsp('-cert', 'leaf0.pem', '-cert', 'leaf1.pem', '-serial', '0x0123456789abcdef');
    assert.match(out, /Response verify OK/);
    assert.match(out, /leaf0\.pem: good/);
    assert.match(out, /leaf1\.pem: good/);
    assert.match(out, /0x0123456789abcdef: unknown/i);
  });

  test('revoked with time and reason; the very next request says so', async () => {
    await tb.ca.updateCertificateStatus({ serialNumber: tb.leaves[2]!.serialNumber, issuerCaId: tb.sub.id, request: { status: 'REVOKED', reason: 'KeyCompromise' }, actor: 't' });
    for (const extra of [[], ['-no_nonce'], ['-sha256', '-no_nonce']]) {
      const out = await ocsp(...extra, '-cert', 'leaf2.pem');
      assert.match(out, /Response verify OK/);
      assert.match(out, /leaf2\.pem: revoked/);
      assert.match(out, /Reason: keyCompromise/);
      assert.match(out, /Revocation Time: /);
    }
  });

  test('hold then release: revoked (certificateHold) then good, each on the very next request', async () => {
    const serial = tb.leaves[3]!.serialNumber;
    assert.match(await ocsp('-cert', 'leaf3.pem', '-no_nonce'), /leaf3\.pem: good/); // now cached
    await tb.ca.updateCertificateStatus({ serialNumber: serial, issuerCaId: tb.sub.id, request: { status: 'REVOKED', reason: 'CertificateHold' }, actor: 't' });
    const held = await ocsp('-cert', 'leaf3.pem', '-no_nonce');
    assert.match(held, /leaf3\.pem: revoked/);
    assert.match(held, /Reason: certificateHold/);
    await tb.ca.updateCertificateStatus({ serialNumber: serial, issuerCaId: tb.sub.id, request: { status: 'ACTIVE' }, actor: 't' });
    assert.match(await ocsp('-cert', 'leaf3.pem', '-no_nonce'), /leaf3\.pem: good/);
  });

  test('a certificate of an issuer we do not know: unauthorized', async () => {
    const out = await run('openssl', ['ocsp', '-issuer', 'leaf0.pem', '-serial', '0x01', '-url', `${tb.url}/api/va/ocsp`], { cwd: tb.dir });
    assert.match(out.out, /Responder Error: unauthorized \(6\)/);
  });
});

describe('openssl ocsp against the VA, delegated responder', () => {
  before(async () => {
    await tb.va.roles.put(tb.sub.id, { ...DEFAULT_VA_ROLE_SETTINGS, ocsp: { validityMs: 3_600_000, signer: 'DELEGATED' } });
  });

  test('verifies through the responder certificate (OCSPSigning, ocsp-nocheck) sent in the response', async () => {
    const out = await ocsp('-cert', 'leaf0.pem', '-resp_text');
    assert.match(out, /Response verify OK/);
    assert.match(out, /leaf0\.pem: good/);
    assert.match(out, /OCSP Signing/);
    assert.match(out, /OCSP No Check/);
    assert.match(out, /Responder Id: [0-9A-F]{40}/);
  });

  test('revoked and unknown through the delegated responder, SHA-256 and no nonce', async () => {
    const out = await ocsp('-sha256', '-no_nonce', '-cert', 'leaf2.pem', '-serial', '0x42');
    assert.match(out, /Response verify OK/);
    assert.match(out, /leaf2\.pem: revoked/);
    assert.match(out, /0x42: unknown/);
  });

  test('the responder certificate is reused, not reissued per request', async () => {
    const first = (await tb.va.signers.get(tb.sub.id, 'DELEGATED')).certs[0];
    await ocsp('-cert', 'leaf1.pem');
    assert.deepEqual((await tb.va.signers.get(tb.sub.id, 'DELEGATED')).certs[0], first);
  });

  after(async () => {
    await tb.va.roles.put(tb.sub.id, DEFAULT_VA_ROLE_SETTINGS);
  });
});

test('openssl reads a request written to a file and our answer to it (reqout/respin round trip)', async () => {
  await run('openssl', ['ocsp', '-issuer', 'ca.pem', '-cert', 'leaf0.pem', '-no_nonce', '-reqout', 'req.der'], { cwd: tb.dir });
  const body = readFileSync(path.join(tb.dir, 'req.der'));
  const res = await fetch(`${tb.url}/api/va/ocsp`, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body });
  assert.equal(res.status, 200);
  writeFileSync(path.join(tb.dir, 'resp.der'), Buffer.from(await res.arrayBuffer()));
  const out = await run('openssl', ['ocsp', '-respin', 'resp.der', '-issuer', 'ca.pem', '-cert', 'leaf0.pem', '-CAfile', 'root.pem'], { cwd: tb.dir });
  assert.match(out.out, /Response verify OK/);
  assert.match(out.out, /leaf0\.pem: good/);
});
