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

  it('writes the batch\'s events to the outbox in the same transaction: all with the certificates, none when the batch fails', async () => {
    const before = (await storage.outbox.backlog()).count;
    const certs = [cert(), cert()];
    const events = certs.map((c) => ({ specversion: '1.0' as const, id: randomUUID(), source: 'test', type: 'certificate.create', time: new Date(T0).toISOString(), subject: c.id, data: { id: c.id } }));
    await writer.insertMany(certs, events);
    const rows = await storage.outbox.oldest(10_000);
    assert.deepEqual(rows.slice(before).map((r) => r.event), events);
    // A serial clash rolls the whole batch back, its outbox rows with it.
    const clash = [cert(), cert({ serialNumber: certs[0]!.serialNumber })];
    await assert.rejects(writer.insertMany(clash, clash.map((c) => ({ ...events[0]!, id: randomUUID(), subject: c.id }))), (e: unknown) => e instanceof DomainError && e.code === 'CERTIFICATE_SERIAL_EXISTS');
    assert.equal((await storage.outbox.backlog()).count, before + 2);
    assert.equal(await storage.certificates.get(clash[0]!.id), undefined);
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
        assert.equal(writer.liveWorkers, 0);
      }
      await writer.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Resolves once `cond` holds: what the tests below wait for is the writer thread ending, not time passing. */
async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('SqliteCertificateWriter thread on demand', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lamassu-writer-idle-'));
  const file = path.join(dir, 'lamassu.db');
  let storage: Storage;

  before(async () => {
    storage = await createStorage({ kind: 'sqlite', file });
  });
  after(async () => {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function stored(certs: Certificate[]): Promise<void> {
    for (const c of certs) assert.equal((await storage.certificates.get(c.id))?.serialNumber, c.serialNumber, c.id);
  }

  it('starts no thread before the first insert, retires it when idle and starts one again on the next', async () => {
    const own = new SqliteCertificateWriter(file, undefined, { idleMs: 20 });
    try {
      assert.equal(own.liveWorkers, 0);
      await own.insertMany([]);
      assert.equal(own.liveWorkers, 0, 'an empty batch needs no thread');
      const first = cert();
      await own.insert(first);
      assert.equal(own.liveWorkers, 1);
      await until(() => own.liveWorkers === 0, 'the idle thread to end');
      // Retired on purpose, not broken: the next insert starts a thread that commits, and its errors still arrive.
      const second = cert();
      await own.insert(second);
      await stored([first, second]);
      const err = await own.insert(cert({ serialNumber: first.serialNumber })).then(
        () => assert.fail('expected a rejection'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof DomainError);
      assert.equal(err.code, 'CERTIFICATE_SERIAL_EXISTS');
    } finally {
      await own.close();
    }
    assert.equal(own.liveWorkers, 0);
  });

  it('commits every batch while threads retire and start around it', async () => {
    const own = new SqliteCertificateWriter(file, undefined, { idleMs: 1 });
    const all: Certificate[] = [];
    let retired = 0;
    let overlapped = 0;
    try {
      for (let round = 0; round < 200 && (retired < 3 || overlapped < 2 || round < 12); round++) {
        if (own.liveWorkers === 0) retired++;
        const batches = Array.from({ length: 1 + (round % 3) }, (_, i) => Array.from({ length: 1 + i }, () => cert()));
        const sent = Promise.all(batches.map((b) => own.insertMany(b)));
        // A retiring thread still closing its connection beside the new one that took these batches.
        if (own.liveWorkers > 1) overlapped++;
        await sent;
        all.push(...batches.flat());
        if (round % 4 === 3) await until(() => own.liveWorkers === 0, 'the idle thread to end');
        else if (round % 4 === 2) await new Promise((r) => setTimeout(r, 2));
        else await new Promise((r) => setImmediate(r));
      }
    } finally {
      await own.close();
    }
    await stored(all);
    assert.ok(retired >= 3, `retirements seen: ${retired}`);
    assert.ok(overlapped >= 2, `batches sent while a thread was retiring: ${overlapped}`);
  });

  it('closes at once with no thread running, and lets a batch sent to a starting thread commit', async () => {
    const idle = new SqliteCertificateWriter(file);
    await idle.close();
    const err = await idle.insert(cert()).then(
      () => assert.fail('expected a rejection'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof DomainError);
    assert.equal(err.code, 'STORAGE_UNAVAILABLE');

    const starting = new SqliteCertificateWriter(file);
    const c = cert();
    const sent = starting.insert(c);
    await starting.close();
    await sent;
    assert.equal(starting.liveWorkers, 0);
    await stored([c]);
  });
});
