import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { DEFAULT_VA_ROLE_SETTINGS } from '../../domain/va/va-role.ts';
import { opensslSerial, run, startTestbed, VA_BASE, type Testbed } from '../../../test/support/va-testbed.ts';

let tb: Testbed;
// A day ago, in whole seconds as the CRL carries it.
const compromisedAt = new Date(Math.floor(Date.now() / 1000) * 1000 - 86_400_000);
/** As openssl prints times: "Nov  3 04:05:06 2026 GMT". */
const opensslTime = (d: Date) =>
  `${d.toUTCString().slice(8, 11)} ${String(d.getUTCDate()).padStart(2, ' ')} ${d.toISOString().slice(11, 19)} ${d.getUTCFullYear()} GMT`;
before(async () => {
  // Served copies are checked against the database on every request, so a new CRL shows at once.
  tb = await startTestbed({ leaves: 3, settings: { crlRecheckMs: 0 } });
  await tb.ca.updateCertificateStatus({ serialNumber: tb.leaves[1]!.serialNumber, issuerCaId: tb.sub.id, request: { status: 'REVOKED', reason: 'KeyCompromise', invalidityDate: compromisedAt }, actor: 't' });
  await tb.settle();
});
after(async () => tb?.close());

async function fetchCrl(urlPath: string, file: string, accept?: string) {
  const res = await fetch(`${tb.url}${urlPath}`, accept ? { headers: { accept } } : {});
  const body = Buffer.from(await res.arrayBuffer());
  writeFileSync(path.join(tb.dir, file), body);
  return { res, body };
}

const crlText = async (file: string, inform = 'DER') => (await run('openssl', ['crl', '-in', file, '-inform', inform, '-noout', '-text'], { cwd: tb.dir })).out;

test('the full CRL is DER, verifies with openssl against the CA, and carries number, AKI, reasons, invalidity dates and no IDP (full scope)', async () => {
  const { res } = await fetchCrl(`/api/va/crl/${tb.sub.id}`, 'crl.der');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/pkix-crl');
  assert.match(res.headers.get('cache-control') ?? '', /max-age=\d+/);
  const verify = await run('openssl', ['crl', '-in', 'crl.der', '-inform', 'DER', '-CAfile', 'ca.pem', '-noout'], { cwd: tb.dir });
  assert.match(verify.out, /verify OK/);
  const text = await crlText('crl.der');
  assert.match(text, /X509v3 CRL Number:\s*\n\s*\d+/);
  assert.match(text, /X509v3 Authority Key Identifier/);
  // The CRL covers every certificate the CA issued, whatever CDP it carries (see crl-scope.test.ts).
  assert.doesNotMatch(text, /Issuing Distribution Point/);
  assert.match(text, new RegExp(`Serial Number: ${opensslSerial(tb.leaves[1]!.serialNumber)}`));
  assert.match(text, /Key Compromise/);
  const entry = text.slice(text.indexOf(`Serial Number: ${opensslSerial(tb.leaves[1]!.serialNumber)}`)).split(/Serial Number:/)[1]!;
  assert.match(entry, new RegExp(`Invalidity Date:\\s*\\n\\s*${opensslTime(compromisedAt)}`));
  assert.doesNotMatch(text, new RegExp(`Serial Number: ${opensslSerial(tb.leaves[0]!.serialNumber)}`));
});

test('openssl verify -crl_check rejects the revoked certificate and accepts a good one', async () => {
  await fetchCrl(`/api/va/crl/${tb.sub.id}`, 'crl.pem', 'application/x-pem-file');
  const verify = (leaf: string) => run('openssl', ['verify', '-crl_check', '-CRLfile', 'crl.pem', '-CAfile', 'root.pem', '-untrusted', 'ca.pem', leaf], { cwd: tb.dir });
  const good = await verify('leaf0.pem');
  assert.equal(good.code, 0, good.out);
  assert.match(good.out, /leaf0\.pem: OK/);
  const revoked = await verify('leaf1.pem');
  assert.notEqual(revoked.code, 0);
  assert.match(revoked.out, /certificate revoked/);
});

test('PEM with Accept: application/x-pem-file, and the CA found by its subject key identifier', async () => {
  const { res, body } = await fetchCrl(`/api/va/crl/${tb.sub.certificate.subjectKeyId}`, 'by-ski.pem', 'application/x-pem-file');
  assert.equal(res.status, 200);
  assert.match(body.toString(), /^-----BEGIN X509 CRL-----\n[\s\S]+-----END X509 CRL-----\n$/);
  assert.match(await crlText('by-ski.pem', 'PEM'), /Certificate Revocation List/);
});

test('a revocation shows in a new CRL with a higher number after the debounce; a release takes it out', async () => {
  const number = async (file: string) => Number(/CRL Number:\s*\n\s*(\d+)/.exec(await crlText(file))![1]);
  await fetchCrl(`/api/va/crl/${tb.sub.id}`, 'before.der');
  const before = await number('before.der');
  await tb.ca.updateCertificateStatus({ serialNumber: tb.leaves[2]!.serialNumber, issuerCaId: tb.sub.id, request: { status: 'REVOKED', reason: 'CertificateHold' }, actor: 't' });
  await tb.settle();
  await fetchCrl(`/api/va/crl/${tb.sub.id}`, 'held.der');
  assert.ok((await number('held.der')) > before);
  assert.match(await crlText('held.der'), /Certificate Hold/);
  await tb.ca.updateCertificateStatus({ serialNumber: tb.leaves[2]!.serialNumber, issuerCaId: tb.sub.id, request: { status: 'ACTIVE' }, actor: 't' });
  await tb.settle();
  const crl = await tb.va.crls.current(tb.sub.id, 'full');
  writeFileSync(path.join(tb.dir, 'released.der'), crl.der);
  assert.doesNotMatch(await crlText('released.der'), new RegExp(opensslSerial(tb.leaves[2]!.serialNumber)));
});

test('delta CRLs: Freshest CRL in the full CRL, DeltaCRLIndicator, removeFromCRL for a released hold; openssl verifies with -use_deltas', async () => {
  await tb.va.roles.put(tb.sub.id, { ...DEFAULT_VA_ROLE_SETTINGS, delta: { enabled: true, validityMs: 7_200_000, refreshIntervalMs: 3_600_000 } });
  const full = await tb.va.crls.publish(tb.sub.id, 'full');
  writeFileSync(path.join(tb.dir, 'base.der'), full.der);
  assert.match(await crlText('base.der'), new RegExp(`Freshest CRL:\\s*\\n\\s*Full Name:\\s*\\n\\s*URI:${VA_BASE}/api/va/crl/${tb.sub.id}/delta`));
  // After the base: one hold released (removeFromCRL) and one new revocation.
  const held = tb.leaves[0]!.serialNumber;
  await tb.ca.updateCertificateStatus({ serialNumber: held, issuerCaId: tb.sub.id, request: { status: 'REVOKED', reason: 'CertificateHold' }, actor: 't' });
  await tb.settle();
  const base2 = await tb.va.crls.publish(tb.sub.id, 'full');
  writeFileSync(path.join(tb.dir, 'base2.pem'), `-----BEGIN X509 CRL-----\n${Buffer.from(base2.der).toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END X509 CRL-----\n`);
  await tb.ca.updateCertificateStatus({ serialNumber: held, issuerCaId: tb.sub.id, request: { status: 'ACTIVE' }, actor: 't' });
  await tb.settle();

  const { res } = await fetchCrl(`/api/va/crl/${tb.sub.id}/delta`, 'delta.der');
  assert.equal(res.status, 200);
  const text = await crlText('delta.der');
  assert.match(text, new RegExp(`X509v3 Delta CRL Indicator: critical\\s*\\n\\s*${base2.number}`));
  assert.match(text, new RegExp(`Serial Number: ${opensslSerial(held)}[\\s\\S]*Remove From CRL`));
  const verify = await run('openssl', ['crl', '-in', 'delta.der', '-inform', 'DER', '-CAfile', 'ca.pem', '-noout'], { cwd: tb.dir });
  assert.match(verify.out, /verify OK/);

  // The base alone says the held certificate is revoked; base + delta says it is good again.
  writeFileSync(path.join(tb.dir, 'delta.pem'), `-----BEGIN X509 CRL-----\n${Buffer.from(await (await fetch(`${tb.url}/api/va/crl/${tb.sub.id}/delta`)).arrayBuffer()).toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END X509 CRL-----\n`);
  const args = (crls: string[]) => ['verify', '-crl_check', ...crls.flatMap((c) => ['-CRLfile', c]), '-CAfile', 'root.pem', '-untrusted', 'ca.pem', 'leaf0.pem'];
  assert.match((await run('openssl', args(['base2.pem']), { cwd: tb.dir })).out, /certificate revoked/);
  const both = await run('openssl', [...args(['base2.pem', 'delta.pem']).slice(0, 1), '-use_deltas', ...args(['base2.pem', 'delta.pem']).slice(1)], { cwd: tb.dir });
  assert.match(both.out, /leaf0\.pem: OK/, both.out);
});

test('a CA without delta CRLs answers 404 for the delta; an unknown CA 404', async () => {
  await tb.va.roles.put(tb.root.id, DEFAULT_VA_ROLE_SETTINGS);
  const delta = await fetch(`${tb.url}/api/va/crl/${tb.root.id}/delta`);
  assert.equal(delta.status, 404);
  assert.equal(((await delta.json()) as { code: string }).code, 'VA_DELTA_CRL_DISABLED');
  const unknown = await fetch(`${tb.url}/api/va/crl/no-such-ca`);
  assert.equal(unknown.status, 404);
  assert.equal(((await unknown.json()) as { code: string }).code, 'VA_CA_NOT_FOUND');
});
