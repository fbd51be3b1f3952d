import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { parseCsr, verifyCsrSignature } from '../../x509/csr.ts';
import { octetString, oid, sequence, tlv } from '../../x509/der.ts';
import { buildName } from '../../x509/name.ts';
import { toPem } from '../../x509/pem.ts';
import { ScryptPasswordHasher } from './scrypt-password-hasher.ts';
import { SoftwareServerKeyGenerator } from './software-server-key-generator.ts';

test('scrypt hasher: salted, verifies only the right password, rejects malformed hashes', async () => {
  const h = new ScryptPasswordHasher();
  const a = await h.hash('pässword-1');
  const b = await h.hash('pässword-1');
  assert.notEqual(a, b);
  assert.equal(await h.verify('pässword-1', a), true);
  assert.equal(await h.verify('password-1', a), false);
  for (const bad of ['', 'scrypt$1$1', 'bcrypt$a$b$c$d$e', a.replace(/\$[^$]+$/, '$AAAA'), a.replace('$32768$', '$999999999$')]) {
    assert.equal(await h.verify('pässword-1', bad), false, bad);
  }
});

test('server key generator: CSRs of every key type verify with our parser and with openssl, carry subject and extensions', async () => {
  const g = new SoftwareServerKeyGenerator();
  const san = sequence(tlv(0x82, new TextEncoder().encode('dev.example')));
  const clientAuth = sequence(oid('1.3.6.1.5.5.7.3.2'));
  const extensions = sequence(sequence(oid('2.5.29.17'), octetString(san)), sequence(oid('2.5.29.37'), octetString(clientAuth)));
  const dir = mkdtempSync(path.join(tmpdir(), 'lamassu-keygen-'));
  try {
    for (const spec of [
      { type: 'ECDSA', bits: 256 },
      { type: 'ECDSA', bits: 384 },
      { type: 'ECDSA', bits: 521 },
      { type: 'RSA', bits: 2048 },
      { type: 'ED25519', bits: 256 },
    ] as const) {
      const { csrDer, pkcs8 } = await g.generate(spec, buildName({ common_name: 'dev-1', organization: 'Plant' }), extensions);
      const csr = parseCsr(csrDer);
      assert.equal(csr.subject.common_name, 'dev-1');
      assert.deepEqual(csr.extensions.subjectAltNames?.dns, ['dev.example']);
      assert.deepEqual(csr.extensions.extendedKeyUsage, ['clientAuth']);
      assert.equal(csr.publicKey.type, spec.type);
      assert.equal(await verifyCsrSignature(csr), true);
      const file = path.join(dir, 'req.pem');
      writeFileSync(file, toPem(csrDer, 'CERTIFICATE REQUEST'));
      const out = execFileSync('openssl', ['req', '-in', file, '-verify', '-noout', '-text'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      assert.match(out, /DNS:dev\.example/);
      assert.ok(pkcs8.length > 40);
    }
    await assert.rejects(g.generate({ type: 'RSA', bits: 1024 }, buildName({ common_name: 'x' })), /cannot generate/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('inspector: serials in the CA service spelling (no leading zero nibble), names and alt names compared leniently', async () => {
  const { X509CertificateInspector } = await import('./x509-certificate-inspector.ts');
  const { execFileSync: run } = await import('node:child_process');
  const dir = mkdtempSync(path.join(tmpdir(), 'lamassu-inspector-'));
  try {
    const key = path.join(dir, 'k.pem');
    const crt = path.join(dir, 'c.der');
    run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-outform', 'DER', '-out', crt,
      '-subj', '/O=PLANT/CN=dev-1', '-set_serial', '0x0abc', '-days', '1', '-addext', 'subjectAltName=DNS:B.example,DNS:a.example'], { stdio: 'ignore' });
    const inspector = new X509CertificateInspector();
    const facts = inspector.parse(new Uint8Array(readFileSync(crt)));
    assert.equal(facts.serialNumber, 'abc');
    assert.equal(facts.commonName, 'dev-1');
    assert.equal(await inspector.issued(facts, facts), true);
    assert.equal(inspector.sameName(facts.subjectName, buildName({ organization: 'Plant', common_name: 'dev-1' })), true);
    assert.equal(inspector.sameName(facts.subjectName, buildName({ organization: 'Plant', common_name: 'dev-2' })), false);
    // Same attributes in another order are another name.
    assert.equal(inspector.sameName(facts.subjectName, sequence(buildName({ common_name: 'dev-1' }).subarray(2), buildName({ organization: 'PLANT' }).subarray(2))), false);
    const san = (names: string[]) => sequence(...names.map((n) => tlv(0x82, new TextEncoder().encode(n))));
    assert.equal(inspector.sameAltNames(facts.subjectAltName, san(['a.example', 'b.example'])), true);
    assert.equal(inspector.sameAltNames(facts.subjectAltName, san(['a.example'])), false);
    assert.equal(inspector.sameAltNames(undefined, undefined), true);
    assert.throws(() => inspector.parse(Uint8Array.of(0x30, 0x00)), /unreadable/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('webhook client: verdicts, refusals by status, and failures that are not answers', async () => {
  const { createServer } = await import('node:http');
  const { HttpEnrollmentWebhook } = await import('./http-enrollment-webhook.ts');
  const server = createServer((req, res) => {
    const answers: Record<string, [number, string]> = {
      '/yes': [200, '{"authorized":true}'],
      '/no': [200, '{"authorized":false}'],
      '/forbidden': [403, ''],
      '/error': [500, '{"authorized":true}'],
      '/string': [200, '{"authorized":"true"}'],
      '/redirect': [302, ''],
    };
    const [status, body] = answers[req.url ?? ''] ?? [404, ''];
    if (status === 302) res.setHeader('location', '/yes');
    res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`;
  const facts = { dmsId: 'd', deviceId: 'x', slot: 'default', operation: 'enroll' as const, csr: '', clientCertificates: [] };
  const hook = new HttpEnrollmentWebhook();
  try {
    assert.equal(await hook.authorize(`${base}/yes`, 1000, facts), true);
    assert.equal(await hook.authorize(`${base}/no`, 1000, facts), false);
    assert.equal(await hook.authorize(`${base}/forbidden`, 1000, facts), false);
    for (const path of ['/error', '/string', '/redirect']) {
      await assert.rejects(hook.authorize(`${base}${path}`, 1000, facts), /ENROLL_WEBHOOK_UNAVAILABLE|did not answer usably/, path);
    }
    await assert.rejects(hook.authorize('http://127.0.0.1:1/closed', 1000, facts), /connection failed/);
  } finally {
    server.close();
  }
});
