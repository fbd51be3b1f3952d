import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forEachStorage } from '../../../test/support/storage.ts';
import type { Certificate } from '../../domain/ca/certificate.ts';
import { DEFAULT_VA_ROLE_SETTINGS } from '../../domain/va/va-role.ts';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1) + s * 1000);

forEachStorage('VA repositories', (ctx) => {
  test('roles: insertIfAbsent keeps the first, put replaces', async () => {
    const { vaRoles } = ctx.storage;
    assert.equal(await vaRoles.get('ca-1'), undefined);
    const role = { caId: 'ca-1', settings: DEFAULT_VA_ROLE_SETTINGS, createdAt: at(0), updatedAt: at(0) };
    assert.deepEqual(await vaRoles.insertIfAbsent(role), role);
    const other = { ...role, settings: { ...DEFAULT_VA_ROLE_SETTINGS, ocsp: { validityMs: 120_000, signer: 'DELEGATED' as const } } };
    assert.deepEqual(await vaRoles.insertIfAbsent({ ...other, createdAt: at(5) }), role);
    await vaRoles.put({ ...other, updatedAt: at(9) });
    assert.deepEqual(await vaRoles.get('ca-1'), { ...other, createdAt: at(0), updatedAt: at(9) });
  });

  test('CRL numbers increase per CA, also under concurrency', async () => {
    const { crls } = ctx.storage;
    const got = await Promise.all(Array.from({ length: 10 }, () => crls.nextNumber('ca-n')));
    assert.deepEqual([...got].sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal(await crls.nextNumber('ca-m'), 1);
  });

  test('a CRL is replaced only by a higher number', async () => {
    const { crls } = ctx.storage;
    const crl = {
      caId: 'ca-2',
      kind: 'full' as const,
      number: 5,
      baseNumber: null,
      thisUpdate: at(10),
      nextUpdate: at(100),
      generatedAt: at(9),
      der: Uint8Array.of(0x30, 0x00),
    };
    assert.equal(await crls.save(crl), true);
    assert.equal(await crls.save({ ...crl, number: 4, der: Uint8Array.of(1) }), false);
    assert.deepEqual(await crls.get('ca-2', 'full'), crl);
    assert.equal(await crls.save({ ...crl, number: 6, thisUpdate: at(20) }), true);
    const { der: _d, ...meta } = { ...crl, number: 6, thisUpdate: at(20) };
    assert.deepEqual(await crls.meta('ca-2', 'full'), meta);
    assert.equal(await crls.meta('ca-2', 'delta'), undefined);
    assert.ok((await crls.listMeta()).some((m) => m.caId === 'ca-2' && m.number === 6));
  });

  test('removals: since and prune', async () => {
    const { crls } = ctx.storage;
    await crls.addRemoval({ caId: 'ca-3', serialNumber: 'aa', removedAt: at(1) });
    await crls.addRemoval({ caId: 'ca-3', serialNumber: 'bb', removedAt: at(5) });
    assert.deepEqual((await crls.removalsSince('ca-3', at(2))).map((r) => r.serialNumber), ['bb']);
    await crls.pruneRemovals('ca-3', at(5));
    assert.deepEqual((await crls.removalsSince('ca-3', at(0))).map((r) => r.serialNumber), ['bb']);
  });

  test('OCSP responders: put replaces', async () => {
    const { ocspResponders } = ctx.storage;
    const rec = { caId: 'ca-4', certificateDer: Uint8Array.of(1, 2), serialNumber: '01', engineId: 'e', keyId: 'k', notAfter: at(50), createdAt: at(1) };
    await ocspResponders.put(rec);
    await ocspResponders.put({ ...rec, serialNumber: '02' });
    assert.deepEqual(await ocspResponders.get('ca-4'), { ...rec, serialNumber: '02' });
  });

  test('revoked reader pages one CA in serial order, with since', async () => {
    const { certificates, revokedCertificates } = ctx.storage;
    const cert = (serial: string, issuer: string, status: Certificate['status'], revokedAt: Date | null): Certificate => ({
      id: `${issuer}-${serial}`,
      serialNumber: serial,
      issuerCaId: issuer,
      caId: null,
      status,
      notBefore: at(0),
      notAfter: at(10_000),
      aboutToExpireAt: at(9_000),
      revokedAt,
      revocationReason: revokedAt ? 'KeyCompromise' : null,
      subjectCommonName: serial,
      subjectKeyId: serial,
      authorityKeyId: null,
      keyType: 'ECDSA',
      keyBits: 256,
      isCa: false,
      type: 'EXTERNAL',
      engineId: null,
      createdAt: at(0),
      der: Uint8Array.of(0x30, 0),
      details: { subject: {}, issuer: {}, keyUsage: [], extendedKeyUsage: [], metadata: {} },
    });
    for (const [s, st, r] of [['a1', 'REVOKED', at(1)], ['a2', 'ACTIVE', null], ['a3', 'REVOKED', at(3)], ['a4', 'REVOKED', at(4)]] as const) {
      await certificates.insert(cert(s, 'rca', st, r));
    }
    await certificates.insert(cert('a5', 'other', 'REVOKED', at(5)));
    const first = await revokedCertificates.page('rca', null, 2);
    assert.deepEqual(first, [
      { serialNumber: 'a1', revokedAt: at(1), reason: 'KeyCompromise' },
      { serialNumber: 'a3', revokedAt: at(3), reason: 'KeyCompromise' },
    ]);
    assert.deepEqual((await revokedCertificates.page('rca', 'a3', 2)).map((e) => e.serialNumber), ['a4']);
    assert.deepEqual((await revokedCertificates.page('rca', null, 10, at(3))).map((e) => e.serialNumber), ['a3', 'a4']);
  });
});
