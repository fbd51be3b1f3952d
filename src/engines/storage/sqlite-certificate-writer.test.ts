import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Certificate } from '../../domain/ca/certificate.ts';
import { DomainError } from '../../domain/errors.ts';
import type { Storage } from '../../domain/ports/storage.ts';
import { createStorage } from './create-storage.ts';
import { SqliteCertificateWriter } from './sqlite-certificate-writer.ts';

const T0 = Date.UTC(2026, 0, 1);

function cert(over: Partial<Certificate> = {}): Certificate {
  const notAfter = new Date(T0 + 365 * 86_400_000);
  return {
    id: randomUUID(),
    serialNumber: randomBytes(16).toString('hex'),
    issuerCaId: 'writer-ca',
    caId: null,
    status: 'ACTIVE',
    notBefore: new Date(T0),
    notAfter,
    aboutToExpireAt: new Date(notAfter.getTime() - 30 * 86_400_000),
    revokedAt: null,
    revocationReason: null,
    subjectCommonName: 'device',
    subjectKeyId: randomBytes(20).toString('hex'),
    authorityKeyId: null,
    keyType: 'ECDSA',
    keyBits: 256,
    isCa: false,
    type: 'MANAGED',
    engineId: null,
    createdAt: new Date(T0),
    der: new Uint8Array(randomBytes(300)),
    details: { subject: { common_name: 'device' }, issuer: { common_name: 'ca' }, keyUsage: ['digital_signature'], extendedKeyUsage: [], metadata: { n: 1 } },
    ...over,
  };
}

describe('SqliteCertificateWriter', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lamassu-writer-'));
  const file = path.join(dir, 'lamassu.db');
  let storage: Storage;
  let writer: SqliteCertificateWriter;

  before(async () => {
    storage = await createStorage({ kind: 'sqlite', file });
    writer = new SqliteCertificateWriter(file);
  });
  after(async () => {
    await writer.close();
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('commits each batch before resolving: the main connection reads every row and blob back at once', async () => {
    const certs = Array.from({ length: 50 }, () => cert());
    await Promise.all([writer.insertMany(certs.slice(0, 20)), writer.insertMany(certs.slice(20)), writer.insert(cert())]);
    for (const c of certs) {
      const got = await storage.certificates.get(c.id);
      assert.ok(got, c.id);
      assert.equal(got.serialNumber, c.serialNumber);
      assert.deepEqual(new Uint8Array(got.der), c.der);
      assert.deepEqual(got.notAfter, c.notAfter);
      assert.deepEqual(got.details.metadata, { n: 1 });
    }
  });

  it('rejects a batch with a serial the issuer already has as CERTIFICATE_SERIAL_EXISTS and stores none of it', async () => {
    const first = cert();
    await writer.insert(first);
    const fresh = cert();
    const err = await writer.insertMany([fresh, cert({ serialNumber: first.serialNumber })]).then(
      () => assert.fail('expected a rejection'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof DomainError);
    assert.equal(err.code, 'CERTIFICATE_SERIAL_EXISTS');
    assert.equal(await storage.certificates.get(fresh.id), undefined);
    await writer.insert(fresh);
    assert.ok(await storage.certificates.get(fresh.id));
  });

  it('lets batches already sent commit on close, then refuses with STORAGE_UNAVAILABLE', async () => {
    const own = new SqliteCertificateWriter(file);
    const certs = Array.from({ length: 10 }, () => cert());
    const sent = own.insertMany(certs);
    await own.close();
    await sent;
    for (const c of certs) assert.ok(await storage.certificates.get(c.id));
    const err = await own.insert(cert()).then(
      () => assert.fail('expected a rejection'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof DomainError);
    assert.equal(err.code, 'STORAGE_UNAVAILABLE');
  });
});

describe('SqliteCertificateWriter on a file it cannot open', () => {
  it('refuses inserts with STORAGE_UNAVAILABLE, does not restart the thread, and closes at once', async () => {
    // A directory is not a database file: the thread fails to open it and exits.
    const dir = mkdtempSync(path.join(tmpdir(), 'lamassu-writer-bad-'));
    const writer = new SqliteCertificateWriter(dir);
    try {
      for (let i = 0; i < 2; i++) {
        const err = await writer.insert(cert()).then(
          () => assert.fail('expected a rejection'),
          (e: unknown) => e,
        );
        assert.ok(err instanceof DomainError);
        assert.equal(err.code, 'STORAGE_UNAVAILABLE');
      }
      await writer.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
