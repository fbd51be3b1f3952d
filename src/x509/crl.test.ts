import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificateList, CRLReason, id_ce_cRLReasons } from '@peculiar/asn1-x509';
import { DomainError } from '../domain/errors.ts';
import { buildCrl } from './crl.ts';
import { children, readRoot, valueOf } from './der.ts';
import type { CrlEntry, CrlInput } from './crl.ts';
import { CRL_URL, makeTestPki, opensslStatus } from '../../test/support/ocsp-test-pki.ts';
import type { TestPki } from '../../test/support/ocsp-test-pki.ts';
import { toPem } from './pem.ts';

let pki: TestPki;
before(() => {
  pki = makeTestPki(3);
  const pem = (f: string) => readFileSync(path.join(pki.dir, f), 'utf8');
  writeFileSync(path.join(pki.dir, 'chain.pem'), pem('root.pem') + pem('ca.pem'));
});
after(() => pki.cleanup());

const DELTA_URL = 'http://va.example.test/api/va/crl/issuing-delta.crl';
const now = Math.floor(Date.now() / 1000) * 1000;
const thisUpdate = new Date(now - 60_000);
const nextUpdate = new Date(now + 7 * 86400_000);
const revokedAt = new Date('2026-03-04T05:06:07Z');
const invalidSince = new Date('2026-03-01T00:00:00Z');

/** A second, independent parser (@peculiar/asn1-x509). */
const parse = (der: Uint8Array) => AsnConvert.parse(der, CertificateList);

const base = (over: Partial<CrlInput> = {}): CrlInput => ({
  issuerName: pki.ca.subjectName,
  authorityKeyId: pki.ca.ski!,
  crlNumber: 42n,
  thisUpdate,
  nextUpdate,
  entries: [],
  distributionPoint: [CRL_URL],
  signer: pki.ca.signer,
  ...over,
});

function write(name: string, der: Uint8Array) {
  writeFileSync(path.join(pki.dir, `${name}.der`), der);
  writeFileSync(path.join(pki.dir, `${name}.pem`), toPem(der, 'X509 CRL'));
}
const crlText = (name: string, ca = 'ca.pem') => opensslStatus(['crl', '-in', `${name}.der`, '-inform', 'DER', '-CAfile', ca, '-text', '-noout'], pki.dir);
const verifyLeaf = (leaf: number, crls: string[], extra: string[] = []) =>
  opensslStatus(['verify', '-crl_check', ...extra, ...crls.flatMap((c) => ['-CRLfile', `${c}.pem`]), '-CAfile', 'chain.pem', `leaf${leaf}.pem`], pki.dir);

describe('CRLs checked by openssl', () => {
  test('a full CRL verifies and shows number, AKI, IDP, freshest CRL, reasons and invalidity dates', async () => {
    const entries: CrlEntry[] = [
      { serial: pki.leaves[1]!.serialHex, revocationDate: revokedAt, reason: 'keyCompromise', invalidityDate: invalidSince },
      { serial: Uint8Array.of(0x00, 0x00, 0x81, 0x02), revocationDate: revokedAt, reason: 'superseded' },
      { serial: 'ABCDEF0123', revocationDate: revokedAt, reason: 'unspecified' },
      { serial: '7', revocationDate: new Date('2051-01-01T00:00:00Z'), reason: 'cessationOfOperation' },
    ];
    write('full', await buildCrl(base({ entries, freshestCrl: [DELTA_URL] })));
    const r = crlText('full');
    assert.ok(r.ok, r.out);
    assert.match(r.out, /verify OK/);
    assert.match(r.out, /Version 2/);
    assert.match(r.out, /X509v3 CRL Number: *\n *42/);
    assert.match(r.out, new RegExp(`X509v3 Authority Key Identifier: *\\n *(keyid:)?${Buffer.from(pki.ca.ski!).toString('hex').toUpperCase().replace(/(..)(?!$)/g, '$1:')}`));
    assert.match(r.out, new RegExp(`X509v3 Issuing Distribution Point: critical *\\n *Full Name: *\\n *URI:${CRL_URL}`));
    assert.match(r.out, new RegExp(`X509v3 Freshest CRL: *\\n *Full Name: *\\n *URI:${DELTA_URL}`));
    assert.match(r.out, new RegExp(`Serial Number: ${Buffer.from(pki.leaves[1]!.serial).toString('hex').toUpperCase()}[\\s\\S]*?Revocation Date: Mar  4 05:06:07 2026 GMT[\\s\\S]*?Reason Code: *\\n *Key Compromise[\\s\\S]*?Invalidity Date: *\\n *Mar  1 00:00:00 2026 GMT`));
    assert.match(r.out, /Serial Number: 8102\s+Revocation Date[^\n]*\n\s+CRL entry extensions:\s+X509v3 CRL Reason Code:\s+Superseded/);
    assert.match(r.out, /Serial Number: ABCDEF0123\s+Revocation Date: Mar  4 05:06:07 2026 GMT\s+Serial Number: 07/); // no reason for 'unspecified'
    assert.match(r.out, /Revocation Date: Jan  1 00:00:00 2051 GMT/);
  });

  test('openssl verify -crl_check rejects the revoked leaf and accepts the others', async () => {
    write('chk', await buildCrl(base({ entries: [{ serial: pki.leaves[1]!.serial, revocationDate: revokedAt, reason: 'keyCompromise' }] })));
    const revoked = verifyLeaf(1, ['chk']);
    assert.equal(revoked.ok, false);
    assert.match(revoked.out, /certificate revoked/);
    const good = verifyLeaf(0, ['chk']);
    assert.ok(good.ok, good.out);
    assert.match(good.out, /leaf0\.pem: OK/);
  });

  test('an IDP that does not match the certificates\' CRL distribution point is not accepted for them', async () => {
    write('otheridp', await buildCrl(base({ distributionPoint: ['http://elsewhere.example.test/x.crl'] })));
    const r = verifyLeaf(0, ['otheridp']);
    assert.equal(r.ok, false, r.out);
    assert.match(r.out, /different CRL scope/);
  });

  test('a delta CRL verifies, shows its Delta CRL Indicator, and revokes on top of the full CRL', async () => {
    write('base', await buildCrl(base({ crlNumber: 10n, entries: [{ serial: pki.leaves[1]!.serialHex, revocationDate: revokedAt }], freshestCrl: [DELTA_URL] })));
    write('delta', await buildCrl(base({ crlNumber: 11n, deltaCrlIndicator: 10n, entries: [{ serial: pki.leaves[2]!.serialHex, revocationDate: revokedAt, reason: 'affiliationChanged' }] })));
    const r = crlText('delta');
    assert.ok(r.ok, r.out);
    assert.match(r.out, /verify OK/);
    assert.match(r.out, /X509v3 Delta CRL Indicator: critical *\n *10/);
    assert.match(r.out, /X509v3 CRL Number: *\n *11/);
    const withDelta = verifyLeaf(2, ['base', 'delta'], ['-use_deltas']);
    assert.equal(withDelta.ok, false, withDelta.out);
    assert.match(withDelta.out, /certificate revoked/);
    assert.ok(verifyLeaf(2, ['base']).ok, 'without the delta the leaf is still good');
    assert.ok(verifyLeaf(0, ['base', 'delta'], ['-use_deltas']).ok);
  });

  test('an empty CRL has no revokedCertificates and verifies; an EC key signs too', async () => {
    const rootSki = pki.root.ski;
    assert.ok(rootSki, 'openssl req -x509 gives the root a subject key identifier');
    write('empty', await buildCrl(base({ issuerName: pki.root.subjectName, authorityKeyId: rootSki, signer: pki.root.signer, distributionPoint: [] })));
    const r = crlText('empty', 'root.pem');
    assert.ok(r.ok, r.out);
    assert.match(r.out, /verify OK/);
    assert.match(r.out, /No Revoked Certificates/);
    assert.match(r.out, /ecdsa-with-SHA256/);
    assert.doesNotMatch(r.out, /Issuing Distribution Point/);
  });

  test('entries from an async iterable stream in: 20,000 entries, all listed', async () => {
    async function* many() {
      for (let i = 1; i <= 20_000; i++) yield { serial: i.toString(16), revocationDate: revokedAt, ...(i % 3 ? { reason: 'superseded' as const } : {}) };
    }
    const der = await buildCrl(base({ entries: many() }));
    write('many', der);
    const r = crlText('many');
    assert.match(r.out, /verify OK/);
    assert.equal(r.out.match(/Serial Number:/g)?.length, 20_000);
    // @peculiar/asn1-schema caps its node count, so the last entry is read with our own reader.
    const tbs = children(der, children(der, readRoot(der))[0]!);
    const entries = children(der, tbs[5]!);
    assert.equal(entries.length, 20_000);
    assert.equal(Buffer.from(valueOf(der, children(der, entries[19_999]!)[0]!)).toString('hex'), '4e20');
  });
});

describe('CRL input checks', () => {
  const rejects = (name: string, over: () => Partial<CrlInput>, code: string) =>
    test(name, () => assert.rejects(buildCrl(base(over())), (e: unknown) => e instanceof DomainError && e.code === code && e.kind === 'invalid'));
  rejects('a serial that is not hex', () => ({ entries: [{ serial: '12zz', revocationDate: revokedAt }] }), 'CRL_INVALID_ENTRY');
  rejects('an empty serial', () => ({ entries: [{ serial: new Uint8Array(0), revocationDate: revokedAt }] }), 'CRL_INVALID_ENTRY');
  rejects('a serial over 20 octets', () => ({ entries: [{ serial: 'ab'.repeat(22), revocationDate: revokedAt }] }), 'CRL_INVALID_ENTRY');
  rejects('an invalid revocation date', () => ({ entries: [{ serial: '01', revocationDate: new Date(NaN) }] }), 'CRL_INVALID_ENTRY');
  rejects('removeFromCRL in a full CRL', () => ({ entries: [{ serial: '01', revocationDate: revokedAt, reason: 'removeFromCRL' }] }), 'CRL_INVALID_ENTRY');
  rejects('nextUpdate not after thisUpdate', () => ({ nextUpdate: thisUpdate }), 'CRL_INVALID_INPUT');
  rejects('a delta CRL with a freshest CRL extension', () => ({ crlNumber: 5n, deltaCrlIndicator: 4n, freshestCrl: [DELTA_URL] }), 'CRL_INVALID_INPUT');
  rejects('a delta CRL numbered at or below its base', () => ({ crlNumber: 4n, deltaCrlIndicator: 4n }), 'CRL_INVALID_INPUT');
  rejects('a negative CRL number', () => ({ crlNumber: -1n }), 'CRL_INVALID_INPUT');

  test('removeFromCRL is allowed in a delta CRL', async () => {
    const der = await buildCrl(base({ crlNumber: 5n, deltaCrlIndicator: 4n, entries: [{ serial: '01', revocationDate: revokedAt, reason: 'removeFromCRL' }] }));
    const ext = parse(der).tbsCertList.revokedCertificates![0]!.crlEntryExtensions!.find((e) => e.extnID === id_ce_cRLReasons)!;
    assert.equal(AsnConvert.parse(ext.extnValue, CRLReason).reason, 8);
  });
});
