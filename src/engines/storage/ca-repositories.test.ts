import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { forEachStorage } from '../../../test/support/storage.ts';
import type { CaRecord } from '../../domain/ca/ca.ts';
import type { Certificate } from '../../domain/ca/certificate.ts';
import { DEFAULT_ISSUANCE_SETTINGS, type IssuanceProfile } from '../../domain/ca/issuance-profile.ts';
import { DomainError } from '../../domain/errors.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);

function cert(over: Partial<Certificate> = {}): Certificate {
  const notAfter = new Date(over.notAfter?.getTime() ?? T0 + 365 * DAY);
  return {
    id: randomUUID(),
    serialNumber: randomBytes(16).toString('hex'),
    issuerCaId: null,
    caId: null,
    status: 'ACTIVE',
    notBefore: new Date(T0),
    notAfter,
    aboutToExpireAt: new Date(notAfter.getTime() - 30 * DAY),
    revokedAt: null,
    revocationReason: null,
    subjectCommonName: 'device-1',
    subjectKeyId: randomBytes(20).toString('hex'),
    authorityKeyId: null,
    keyType: 'ECDSA',
    keyBits: 256,
    isCa: false,
    type: 'MANAGED',
    engineId: null,
    createdAt: new Date(T0),
    der: Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x01),
    details: { subject: { common_name: 'device-1' }, issuer: { common_name: 'ca' }, keyUsage: [], extendedKeyUsage: [], metadata: {} },
    ...over,
  };
}

function caRecord(id: string, certificateId: string, over: Partial<CaRecord> = {}): CaRecord {
  return {
    id,
    certificateId,
    parentId: null,
    level: 0,
    type: 'MANAGED',
    engineId: 'memory',
    keyId: 'k',
    internal: false,
    profileId: null,
    aboutToExpireMs: null,
    metadata: { a: 1 },
    createdAt: new Date(T0),
    ...over,
  };
}

const isCode = (code: string) => (e: unknown) => e instanceof DomainError && e.code === code;

forEachStorage('CA repositories', (ctx) => {
  test('certificates: insert, get, find by serial, bytes and details round-trip; (issuer, serial) unique', async () => {
    const { storage } = ctx;
    const c = cert({ issuerCaId: 'ca-x', der: Uint8Array.from(randomBytes(300)) });
    await storage.certificates.insert(c);
    assert.deepEqual(await storage.certificates.get(c.id), c);
    assert.deepEqual(await storage.certificates.findBySerial(c.serialNumber), c);
    assert.equal(await storage.certificates.findBySerial(c.serialNumber, 'other'), undefined);
    const dup = cert({ issuerCaId: 'ca-x', serialNumber: c.serialNumber });
    await assert.rejects(storage.certificates.insert(dup), isCode('CERTIFICATE_SERIAL_EXISTS'));
    // The failed insert left nothing behind.
    assert.equal(await storage.certificates.get(dup.id), undefined);
    await storage.certificates.insert(cert({ issuerCaId: 'ca-y', serialNumber: c.serialNumber }));
  });

  test('certificates: insertMany stores all or, on one clash, none', async () => {
    const { storage } = ctx;
    const issuer = `ca-${randomUUID()}`;
    const batch = Array.from({ length: 600 }, () => cert({ issuerCaId: issuer }));
    await storage.certificates.insertMany(batch);
    assert.equal((await storage.certificates.list({ issuerCaId: issuer, pageSize: 1000 })).list.length, 600);
    const fresh = cert({ issuerCaId: issuer });
    await assert.rejects(storage.certificates.insertMany([fresh, cert({ issuerCaId: issuer, serialNumber: batch[7]!.serialNumber })]), isCode('CERTIFICATE_SERIAL_EXISTS'));
    assert.equal(await storage.certificates.get(fresh.id), undefined);
  });

  test('certificates: compare-and-set status update', async () => {
    const { storage } = ctx;
    const c = cert();
    await storage.certificates.insert(c);
    const revoke = { status: 'REVOKED' as const, revokedAt: new Date(T0 + DAY), revocationReason: 'CertificateHold' as const };
    assert.equal(await storage.certificates.updateStatus(c.id, 'ACTIVE', revoke), true);
    assert.equal(await storage.certificates.updateStatus(c.id, 'ACTIVE', revoke), false);
    const final = { status: 'REVOKED' as const, revokedAt: new Date(T0 + 2 * DAY), revocationReason: 'KeyCompromise' as const };
    assert.equal(await storage.certificates.updateStatus(c.id, 'REVOKED', final, 'Superseded'), false, 'reason differs');
    const got = await storage.certificates.get(c.id);
    assert.equal(got?.status, 'REVOKED');
    assert.equal(got?.revocationReason, 'CertificateHold');
    assert.deepEqual(got?.revokedAt, new Date(T0 + DAY));
  });

  test('certificates: invalidity date is stored on revoke, read back, given to the revoked reader, cleared on release', async () => {
    const { storage } = ctx;
    const issuer = `ca-${randomUUID()}`;
    const c = cert({ issuerCaId: issuer });
    const inserted = cert({ issuerCaId: issuer, status: 'REVOKED', revokedAt: new Date(T0), revocationReason: 'KeyCompromise', invalidityDate: new Date(T0 - DAY) });
    await storage.certificates.insertMany([c, inserted]);
    assert.deepEqual((await storage.certificates.get(inserted.id))?.invalidityDate, new Date(T0 - DAY), 'insert keeps it');
    assert.equal((await storage.certificates.get(c.id))?.invalidityDate, undefined);

    const compromisedAt = new Date(T0 + DAY / 2);
    const hold = { status: 'REVOKED' as const, revokedAt: new Date(T0 + DAY), revocationReason: 'CertificateHold' as const, invalidityDate: compromisedAt };
    assert.equal(await storage.certificates.updateStatus(c.id, 'ACTIVE', hold), true);
    assert.deepEqual((await storage.certificates.get(c.id))?.invalidityDate, compromisedAt);
    assert.deepEqual((await storage.certificates.findBySerial(c.serialNumber, issuer))?.invalidityDate, compromisedAt);
    const listed = (await storage.certificates.list({ issuerCaId: issuer, serialNumber: c.serialNumber })).list;
    assert.deepEqual(listed.map((x) => x.invalidityDate), [compromisedAt]);
    const entries = await storage.revokedCertificates.page(issuer, null, 10);
    assert.deepEqual(
      new Map(entries.map((e) => [e.serialNumber, e.invalidityDate])),
      new Map([
        [c.serialNumber, compromisedAt],
        [inserted.serialNumber, new Date(T0 - DAY)],
      ]),
    );

    const release = { status: 'ACTIVE' as const, revokedAt: null, revocationReason: null };
    assert.equal(await storage.certificates.updateStatus(c.id, 'REVOKED', release, 'CertificateHold'), true);
    assert.equal((await storage.certificates.get(c.id))?.invalidityDate, undefined, 'released: cleared');
    assert.deepEqual(
      (await storage.revokedCertificates.page(issuer, null, 10)).map((e) => [e.serialNumber, e.invalidityDate]),
      [[inserted.serialNumber, new Date(T0 - DAY)]],
    );
  });

  test('certificates: filters, sort and bookmark pagination visit every row once', async () => {
    const { storage } = ctx;
    const issuer = `ca-${randomUUID()}`;
    const all: Certificate[] = [];
    for (let i = 0; i < 25; i++) {
      const c = cert({
        issuerCaId: issuer,
        subjectCommonName: i % 2 ? `odd_${i}` : `even-${i}`,
        notAfter: new Date(T0 + (i % 5) * DAY + DAY),
        status: i % 3 === 0 ? 'EXPIRED' : 'ACTIVE',
      });
      all.push(c);
      await storage.certificates.insert(c);
    }
    const seen: Certificate[] = [];
    let bookmark: string | undefined;
    do {
      const page = await storage.certificates.list({ issuerCaId: issuer, sortBy: 'valid_to', sortMode: 'desc', pageSize: 4, bookmark });
      seen.push(...page.list);
      bookmark = page.next ?? undefined;
    } while (bookmark);
    assert.equal(seen.length, 25);
    assert.equal(new Set(seen.map((c) => c.id)).size, 25);
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i - 1]!.notAfter >= seen[i]!.notAfter);

    const expired = await storage.certificates.list({ issuerCaId: issuer, status: ['EXPIRED'] });
    assert.equal(expired.list.length, all.filter((c) => c.status === 'EXPIRED').length);
    const odd = await storage.certificates.list({ issuerCaId: issuer, commonName: 'odd_*' });
    assert.equal(odd.list.length, 12);
    // "_" is literal in a prefix, not a LIKE wildcard.
    assert.equal((await storage.certificates.list({ issuerCaId: issuer, commonName: 'odd-*' })).list.length, 0);
    const window = await storage.certificates.list({
      issuerCaId: issuer,
      expiresAfter: new Date(T0 + 2 * DAY),
      expiresBefore: new Date(T0 + 3 * DAY),
    });
    assert.equal(window.list.length, 10);
    await assert.rejects(storage.certificates.list({ bookmark: 'garbage' }), isCode('BOOKMARK_INVALID'));
    await assert.rejects(storage.certificates.list({ pageSize: 0 }), isCode('PAGE_SIZE_INVALID'));
  });

  test('certificates: expiring counted per bucket in one query, revoked and expired left out, bucket edges exact', async () => {
    const { storage } = ctx;
    const issuer = `ca-${randomUUID()}`;
    const from = new Date(T0 + 1000 * DAY);
    const WEEK = 7 * DAY;
    const at = (ms: number, over: Partial<Certificate> = {}) => storage.certificates.insert(cert({ issuerCaId: issuer, notAfter: new Date(from.getTime() + ms), ...over }));
    await at(-1); // before the first bucket
    await at(0); // first instant of bucket 0
    await at(WEEK - 1); // last instant of bucket 0
    await at(WEEK); // bucket 1
    await at(2 * WEEK + DAY, { status: 'ABOUT_TO_EXPIRE' });
    await at(2 * WEEK + DAY, { status: 'REVOKED', revocationReason: 'KeyCompromise', revokedAt: new Date(T0) });
    await at(2 * WEEK + 2 * DAY, { status: 'EXPIRED' });
    await at(3 * WEEK); // past the last of 3 buckets
    await storage.certificates.insert(cert({ issuerCaId: `ca-${randomUUID()}`, notAfter: new Date(from.getTime() + DAY) }));
    assert.deepEqual(await storage.certificates.countExpiringPerBucket({ from, bucketMs: WEEK, buckets: 3, issuerCaId: issuer }), [
      { bucket: 0, count: 2 },
      { bucket: 1, count: 1 },
      { bucket: 2, count: 1 },
    ]);
    const all = await storage.certificates.countExpiringPerBucket({ from, bucketMs: WEEK, buckets: 3 });
    assert.ok(all[0]!.bucket === 0 && all[0]!.count >= 3, JSON.stringify(all));
  });

  test('CAs, subtree and cascade revocation in one statement', async () => {
    const { storage } = ctx;
    const ids = { root: randomUUID(), sub: randomUUID(), subsub: randomUUID(), other: randomUUID() };
    const certs = {
      root: cert({ caId: ids.root, issuerCaId: ids.root, isCa: true, subjectCommonName: 'Root' }),
      sub: cert({ caId: ids.sub, issuerCaId: ids.root, isCa: true, subjectCommonName: 'Sub' }),
      subsub: cert({ caId: ids.subsub, issuerCaId: ids.sub, isCa: true, subjectCommonName: 'SubSub' }),
      other: cert({ caId: ids.other, issuerCaId: ids.other, isCa: true, subjectCommonName: 'Other' }),
    };
    await storage.transaction(async (tx) => {
      for (const c of Object.values(certs)) await tx.certificates.insert(c);
      await tx.cas.insert(caRecord(ids.root, certs.root.id));
      await tx.cas.insert(caRecord(ids.sub, certs.sub.id, { parentId: ids.root, level: 1 }));
      await tx.cas.insert(caRecord(ids.subsub, certs.subsub.id, { parentId: ids.sub, level: 2, engineId: 'hsm' }));
      await tx.cas.insert(caRecord(ids.other, certs.other.id));
    });
    await assert.rejects(storage.cas.insert(caRecord(ids.root, certs.other.id)), isCode('CA_EXISTS'));
    const got = await storage.cas.get(ids.sub);
    assert.equal(got?.parentId, ids.root);
    assert.deepEqual(got?.certificate, certs.sub);
    assert.deepEqual(got?.metadata, { a: 1 });
    assert.deepEqual(new Set(await storage.cas.subtreeIds(ids.root)), new Set([ids.root, ids.sub, ids.subsub]));
    assert.deepEqual((await storage.cas.list({ engineId: 'hsm' })).list.map((c) => c.id), [ids.subsub]);
    assert.deepEqual((await storage.cas.list({ commonName: 'Sub*', sortBy: 'common_name' })).list.map((c) => c.id), [ids.sub, ids.subsub]);

    const leafActive = cert({ issuerCaId: ids.subsub });
    const leafHeld = cert({ issuerCaId: ids.sub, status: 'REVOKED', revocationReason: 'CertificateHold', revokedAt: new Date(T0) });
    const leafCompromised = cert({ issuerCaId: ids.sub, status: 'REVOKED', revocationReason: 'KeyCompromise', revokedAt: new Date(T0) });
    const leafExpired = cert({ issuerCaId: ids.sub, status: 'EXPIRED' });
    const leafOther = cert({ issuerCaId: ids.other });
    for (const c of [leafActive, leafHeld, leafCompromised, leafExpired, leafOther]) await storage.certificates.insert(c);

    const at = new Date(T0 + DAY);
    const subtree = await storage.cas.subtreeIds(ids.sub);
    const revoked = await storage.certificates.revokeIssuedBy(subtree, 'CessationOfOperation', at);
    assert.deepEqual(new Set(revoked.map((r) => r.id)), new Set([certs.subsub.id, leafActive.id, leafHeld.id]));
    assert.equal((await storage.certificates.get(leafHeld.id))?.revocationReason, 'CessationOfOperation');
    assert.equal((await storage.certificates.get(leafCompromised.id))?.revocationReason, 'KeyCompromise');
    assert.equal((await storage.certificates.get(leafExpired.id))?.status, 'EXPIRED');
    assert.equal((await storage.certificates.get(leafOther.id))?.status, 'ACTIVE');

    const caCounts = await storage.cas.countByEngineAndStatus();
    assert.ok(caCounts.some((c) => c.engineId === 'hsm' && c.status === 'REVOKED' && c.count === 1));
    const certCounts = await storage.certificates.countByIssuerAndStatus();
    assert.ok(certCounts.some((c) => c.issuerCaId === ids.sub && c.status === 'REVOKED' && c.count === 3));
  });

  test('issuance profiles CRUD; a profile in use cannot be deleted', async () => {
    const { storage } = ctx;
    const p: IssuanceProfile = {
      ...DEFAULT_ISSUANCE_SETTINGS,
      id: randomUUID(),
      name: 'iot',
      description: 'devices',
      signAsCa: true,
      pathLength: 0,
      createdAt: new Date(T0),
      updatedAt: new Date(T0),
    };
    await storage.issuanceProfiles.insert(p);
    await assert.rejects(storage.issuanceProfiles.insert(p), isCode('PROFILE_EXISTS'));
    assert.deepEqual(await storage.issuanceProfiles.get(p.id), p);
    const changed = { ...p, name: 'iot-2', validity: { type: 'Duration' as const, duration: '90d' }, updatedAt: new Date(T0 + DAY) };
    assert.equal(await storage.issuanceProfiles.update(changed), true);
    assert.deepEqual(await storage.issuanceProfiles.get(p.id), changed);
    assert.ok((await storage.issuanceProfiles.list()).some((x) => x.id === p.id));
    assert.equal(await storage.issuanceProfiles.update({ ...p, id: 'nope' }), false);

    const c = cert({ isCa: true });
    const caId = randomUUID();
    c.caId = caId;
    await storage.certificates.insert(c);
    await storage.cas.insert(caRecord(caId, c.id, { profileId: p.id }));
    await assert.rejects(storage.issuanceProfiles.delete(p.id), isCode('PROFILE_IN_USE'));
    const q = { ...p, id: randomUUID() };
    await storage.issuanceProfiles.insert(q);
    assert.equal(await storage.issuanceProfiles.delete(q.id), true);
    assert.equal(await storage.issuanceProfiles.delete(q.id), false);
  });
});
