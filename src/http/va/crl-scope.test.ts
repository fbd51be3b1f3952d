/**
 * CRL scope (issue 9 item 17): relying parties such as nginx `ssl_crl` check every certificate of a chain
 * against its issuer's CRL (`openssl verify -crl_check_all`). Each CRL must cover the certificates it is used
 * for: a three-level chain root -> sub -> leaf, CRLs of every CA fetched from where certificates point.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { DEFAULT_VA_ROLE_SETTINGS } from '../../domain/va/va-role.ts';
import { toPem } from '../../x509/pem.ts';
import { run, startTestbed, VA_BASE, type Testbed } from '../../../test/support/va-testbed.ts';

let tb: Testbed;
before(async () => {
  tb = await startTestbed({ leaves: 4, settings: { crlRecheckMs: 0 } });
  await tb.ca.updateCertificateStatus({ serialNumber: tb.leaves[1]!.serialNumber, issuerCaId: tb.sub.id, request: { status: 'REVOKED', reason: 'KeyCompromise' }, actor: 't' });
  await tb.settle();
});
after(async () => tb?.close());

/** The CRL distribution point URIs of a certificate file, as openssl reads them. */
async function cdpOf(file: string): Promise<string[]> {
  const text = (await run('openssl', ['x509', '-in', file, '-noout', '-ext', 'crlDistributionPoints'], { cwd: tb.dir })).out;
  return [...text.matchAll(/URI:(\S+)/g)].map((m) => m[1]!);
}

/** Downloads a CRL from the VA (a VA_BASE URL is fetched from the test server) and stores it as PEM. */
async function saveCrl(url: string, file: string): Promise<void> {
  const res = await fetch(url.replace(VA_BASE, tb.url));
  assert.equal(res.status, 200, `${url}: ${res.status}`);
  writeFileSync(path.join(tb.dir, file), toPem(new Uint8Array(await res.arrayBuffer()), 'X509 CRL'));
}

const verifyAll = (leaf: string, crls: string[], extra: string[] = []) =>
  run('openssl', ['verify', '-crl_check_all', ...extra, ...crls.flatMap((c) => ['-CRLfile', c]), '-CAfile', 'root.pem', '-untrusted', 'ca.pem', leaf], { cwd: tb.dir });

/** Saves the full CRLs of both CAs: the root's at its id, the sub-CA's at the CDP its leaves carry. */
async function saveFullCrls(): Promise<void> {
  const [subCdp] = await cdpOf('ca.pem');
  const [leafCdp] = await cdpOf('leaf0.pem');
  assert.equal(subCdp, `${VA_BASE}/api/va/crl/${tb.root.id}`);
  assert.equal(leafCdp, `${VA_BASE}/api/va/crl/${tb.sub.id}`);
  await saveCrl(subCdp!, 'root-crl.pem');
  await saveCrl(leafCdp!, 'sub-crl.pem');
}

test('-crl_check_all: a good leaf verifies against the CRLs of root and sub-CA; a revoked one is refused', async () => {
  await saveFullCrls();
  const good = await verifyAll('leaf0.pem', ['root-crl.pem', 'sub-crl.pem']);
  assert.equal(good.code, 0, good.out);
  assert.match(good.out, /leaf0\.pem: OK/);
  const revoked = await verifyAll('leaf1.pem', ['root-crl.pem', 'sub-crl.pem']);
  assert.notEqual(revoked.code, 0);
  assert.match(revoked.out, /certificate revoked/);
  // Without the root's CRL the chain cannot be checked all the way: the root's CRL is really used.
  const missing = await verifyAll('leaf0.pem', ['sub-crl.pem']);
  assert.match(missing.out, /unable to get certificate CRL/);
});

test('-crl_check_all: a sub-CA on hold (listed in the root CRL) fails the chain; released, it verifies again', async () => {
  await tb.ca.updateCaStatus({ id: tb.sub.id, request: { status: 'REVOKED', reason: 'CertificateHold' }, actor: 't' });
  await tb.settle();
  await saveFullCrls();
  const held = await verifyAll('leaf0.pem', ['root-crl.pem', 'sub-crl.pem']);
  assert.notEqual(held.code, 0);
  assert.match(held.out, /certificate revoked/);
  assert.match(held.out, /at 1 depth/);
  await tb.ca.updateCaStatus({ id: tb.sub.id, request: { status: 'ACTIVE' }, actor: 't' });
  await tb.settle();
  await saveFullCrls();
  const released = await verifyAll('leaf0.pem', ['root-crl.pem', 'sub-crl.pem']);
  assert.equal(released.code, 0, released.out);
});

test('-crl_check_all -use_deltas: base and delta CRLs of both CAs; a revocation after the base shows through the delta', async () => {
  const deltas = { ...DEFAULT_VA_ROLE_SETTINGS, delta: { enabled: true, validityMs: 7_200_000, refreshIntervalMs: 3_600_000 } };
  await tb.va.roles.put(tb.root.id, deltas);
  await tb.va.roles.put(tb.sub.id, deltas);
  await tb.va.crls.publish(tb.root.id, 'full');
  await tb.va.crls.publish(tb.sub.id, 'full');
  await saveFullCrls();
  await tb.ca.updateCertificateStatus({ serialNumber: tb.leaves[2]!.serialNumber, issuerCaId: tb.sub.id, request: { status: 'REVOKED', reason: 'Superseded' }, actor: 't' });
  await tb.settle();
  await saveCrl(`${VA_BASE}/api/va/crl/${tb.root.id}/delta`, 'root-delta.pem');
  await saveCrl(`${VA_BASE}/api/va/crl/${tb.sub.id}/delta`, 'sub-delta.pem');
  const all = ['root-crl.pem', 'sub-crl.pem', 'root-delta.pem', 'sub-delta.pem'];

  const good = await verifyAll('leaf0.pem', all, ['-use_deltas']);
  assert.equal(good.code, 0, good.out);
  const early = await verifyAll('leaf1.pem', all, ['-use_deltas']);
  assert.match(early.out, /certificate revoked/);
  const late = await verifyAll('leaf2.pem', all, ['-use_deltas']);
  assert.notEqual(late.code, 0);
  assert.match(late.out, /certificate revoked/);
  // The base CRLs alone do not know the late revocation yet: the delta is what refuses it.
  const baseOnly = await verifyAll('leaf2.pem', ['root-crl.pem', 'sub-crl.pem'], ['-use_deltas']);
  assert.equal(baseOnly.code, 0, baseOnly.out);
});
