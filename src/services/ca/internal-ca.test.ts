/**
 * The internal CA (issue 9 item 2): it refuses status changes, is replaced by an explicit rotation, and
 * DMS certificates of every generation keep working. On SQLite and PostgreSQL, each test on a fresh database
 * (the internal CA is one per database).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { DMS_MANAGER_CA_NAME } from '../../domain/ca/ca.ts';
import { DomainError } from '../../domain/errors.ts';
import { ManualClock } from '../../domain/ports/clock.ts';
import { toPem } from '../../x509/pem.ts';
import { testCaService } from '../../../test/support/ca-service-fixture.ts';
import { opensslCsr } from '../../../test/support/csr-fixture.ts';
import { DAY, enrollmentWorld, T0 } from '../../../test/support/enrollment-fixture.ts';
import { needPostgres } from '../../../test/support/services.ts';
import { openTestStorage, storageKinds, type StorageKind } from '../../../test/support/storage.ts';
import { REPLACES_METADATA_KEY } from './ensure-internal-ca.ts';

const rejectsWith = (kind: string, code: string) => (e: unknown) => {
  assert.ok(e instanceof DomainError, String(e));
  assert.equal(`${e.kind}:${e.code}`, `${kind}:${code}`);
  return true;
};
const p256 = { type: 'ECDSA' as const, bits: 256 };
const tenYears = { type: 'Duration' as const, duration: '10y' };
const GEN2 = `${DMS_MANAGER_CA_NAME}-2`;
const GEN3 = `${DMS_MANAGER_CA_NAME}-3`;

/** A CaService (one replica) over a fresh database of `kind`; `replica()` is another one on the same database. */
async function world(kind: StorageKind) {
  const opened = await openTestStorage(kind);
  const clock = new ManualClock(Date.now());
  const replica = () => testCaService(opened.storage, clock).service;
  return { storage: opened.storage, clock, service: replica(), replica, dispose: () => opened.dispose() };
}

const internalIds = async (w: Awaited<ReturnType<typeof world>>) =>
  (await w.storage.cas.list({ internal: true, pageSize: 1000 })).list.map((c) => c.id).sort();

/** `openssl verify` of a DER certificate against one CA certificate (DER), at a time within both validities. */
function opensslVerify(caDer: Uint8Array, certDer: Uint8Array, at: number): { ok: boolean; out: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'lamassu-internal-ca-'));
  try {
    writeFileSync(path.join(dir, 'ca.pem'), toPem(caDer, 'CERTIFICATE'));
    writeFileSync(path.join(dir, 'cert.pem'), toPem(certDer, 'CERTIFICATE'));
    try {
      const out = execFileSync('openssl', ['verify', '-x509_strict', '-attime', String(Math.floor(at / 1000)), '-CAfile', 'ca.pem', 'cert.pem'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      return { ok: true, out };
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      return { ok: false, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const kind of storageKinds) {
  describe(`internal CA [${kind}]`, async () => {
    if (kind === 'postgres' && !(await needPostgres())) {
      test('runs on PostgreSQL', { skip: 'SERVICE MISSING: PostgreSQL' }, () => {});
      return;
    }

    test('refuses status changes (403 CA_INTERNAL) by CA id and by certificate serial, for every reason; no CA below it', async () => {
      const w = await world(kind);
      try {
        const ca = await w.service.ensureInternalCa();
        const dmsCert = await w.service.signCertificate({ caId: ca.id, csr: opensslCsr({ key: 'p256', subj: '/CN=dms-1' }), profile: { caDefault: true }, allowInternalCa: true, actor: 'system' });
        for (const reason of ['KeyCompromise', 'CertificateHold', 'CessationOfOperation'] as const) {
          const request = { status: 'REVOKED' as const, reason };
          await assert.rejects(w.service.updateCaStatus({ id: ca.id, request, actor: 'admin' }), rejectsWith('forbidden', 'CA_INTERNAL'));
          await assert.rejects(w.service.updateCertificateStatus({ serialNumber: ca.certificate.serialNumber, request, actor: 'admin' }), rejectsWith('forbidden', 'CA_INTERNAL'));
        }
        await assert.rejects(w.service.updateCaStatus({ id: ca.id, request: { status: 'ACTIVE' }, actor: 'admin' }), rejectsWith('forbidden', 'CA_INTERNAL'));
        await assert.rejects(
          w.service.createCa({ parentId: ca.id, subject: { common_name: 'Below' }, keySpec: p256, validity: tenYears, actor: 'admin' }),
          rejectsWith('forbidden', 'CA_INTERNAL'),
        );
        assert.equal((await w.service.getCa(ca.id)).certificate.status, 'ACTIVE');
        assert.equal((await w.service.getCertificate(dmsCert.serialNumber, ca.id)).status, 'ACTIVE');
        // Still the one that issues; nothing was created meanwhile.
        assert.equal((await w.replica().ensureInternalCa()).id, DMS_MANAGER_CA_NAME);
        assert.deepEqual(await internalIds(w), [DMS_MANAGER_CA_NAME]);
      } finally {
        await w.dispose();
      }
    });

    test('rotation: a new internal CA with a new key takes over; the old one stays ACTIVE; a restart finds the new one', async () => {
      const w = await world(kind);
      try {
        const first = await w.service.ensureInternalCa();
        const user = await w.service.createCa({ subject: { common_name: 'Factory' }, keySpec: p256, validity: tenYears, actor: 'admin' });
        await assert.rejects(w.service.rotateInternalCa({ id: user.id, actor: 'admin' }), rejectsWith('conflict', 'CA_NOT_INTERNAL'));
        await assert.rejects(w.service.rotateInternalCa({ id: 'no-such-ca', actor: 'admin' }), rejectsWith('not_found', 'CA_NOT_FOUND'));

        const second = await w.service.rotateInternalCa({ id: first.id, actor: 'admin' });
        assert.equal(second.id, GEN2);
        assert.equal(second.internal, true);
        assert.equal(second.level, 0);
        assert.notEqual(second.certificate.subjectKeyId, first.certificate.subjectKeyId);
        assert.equal(second.certificate.subjectCommonName, GEN2);
        assert.deepEqual(second.metadata, { [REPLACES_METADATA_KEY]: DMS_MANAGER_CA_NAME });
        assert.equal((await w.service.getCa(first.id)).certificate.status, 'ACTIVE');
        assert.equal((await w.service.ensureInternalCa()).id, GEN2);

        // Only the current generation rotates (compare-and-set); every generation refuses status changes.
        await assert.rejects(w.service.rotateInternalCa({ id: first.id, actor: 'admin' }), rejectsWith('conflict', 'CA_INTERNAL_SUPERSEDED'));
        for (const id of [first.id, second.id]) {
          await assert.rejects(w.service.updateCaStatus({ id, request: { status: 'REVOKED', reason: 'Superseded' }, actor: 'admin' }), rejectsWith('forbidden', 'CA_INTERNAL'));
        }

        // A restart (a new service over the same database) finds generation 2 and creates nothing.
        const restarted = w.replica();
        assert.equal((await restarted.ensureInternalCa()).certificate.id, second.certificate.id);
        assert.deepEqual(await internalIds(w), [DMS_MANAGER_CA_NAME, GEN2]);
        assert.equal((await restarted.rotateInternalCa({ id: GEN2, actor: 'admin' })).id, GEN3);
        assert.equal((await w.service.ensureInternalCa()).id, GEN3);
      } finally {
        await w.dispose();
      }
    });

    test('two replicas rotating at once: one wins, the other gets CA_INTERNAL_SUPERSEDED naming the winner', async () => {
      const w = await world(kind);
      try {
        await w.service.ensureInternalCa();
        const results = await Promise.allSettled([w.replica().rotateInternalCa({ id: DMS_MANAGER_CA_NAME, actor: 'a' }), w.replica().rotateInternalCa({ id: DMS_MANAGER_CA_NAME, actor: 'b' })]);
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        assert.equal(won.length, 1, JSON.stringify(results.map((r) => r.status)));
        assert.ok(lost[0]!.reason instanceof DomainError && lost[0]!.reason.code === 'CA_INTERNAL_SUPERSEDED', String(lost[0]!.reason));
        assert.deepEqual(await internalIds(w), [DMS_MANAGER_CA_NAME, GEN2]);
      } finally {
        await w.dispose();
      }
    });

    test('an id someone else\'s CA took (LAMASSU-DMS-MANAGER-2) is skipped', async () => {
      const w = await world(kind);
      try {
        await w.service.ensureInternalCa();
        const squatter = await w.service.createCa({ id: GEN2, subject: { common_name: 'Not internal' }, keySpec: p256, validity: tenYears, actor: 'admin' });
        const next = await w.service.rotateInternalCa({ id: DMS_MANAGER_CA_NAME, actor: 'admin' });
        assert.equal(next.id, GEN3);
        assert.equal((await w.service.ensureInternalCa()).id, GEN3);
        assert.equal((await w.service.getCa(squatter.id)).internal, false);
      } finally {
        await w.dispose();
      }
    });

    test('an internal CA that cannot issue any more (revoked before this fix, or expired) is replaced at start; replicas agree on one', async () => {
      const w = await world(kind);
      try {
        const first = await w.service.ensureInternalCa();
        // As the API allowed before: revoked in the database.
        assert.ok(await w.storage.certificates.updateStatus(first.certificateId, 'ACTIVE', { status: 'REVOKED', revokedAt: w.clock.now(), revocationReason: 'KeyCompromise' }));
        const [a, b] = await Promise.all([w.replica().ensureInternalCa(), w.replica().ensureInternalCa()]);
        assert.equal(a.id, GEN2);
        assert.equal(b.certificate.id, a.certificate.id);
        assert.deepEqual(await internalIds(w), [DMS_MANAGER_CA_NAME, GEN2]);
        // Ten years on (before the status sweep has seen it), generation 2 has expired: generation 3 takes over.
        w.clock.advance(3660 * DAY);
        assert.equal((await w.service.ensureInternalCa()).id, GEN3);
      } finally {
        await w.dispose();
      }
    });

    test('DMS certificates across a rotation: the old one still authenticates enrollment; new ones come from the new CA (openssl verify)', async () => {
      const w = await enrollmentWorld(kind);
      try {
        const dmsCert = async (id: string) => (await w.dms.issueCertificate(id, { keySpec: p256 }, 'admin')).certificate;
        await w.createDms('line-1', w.settings({ authMode: 'DMS_CERTIFICATE' }));
        await w.createDms('line-2', w.settings({ authMode: 'DMS_CERTIFICATE' }));
        const before = await dmsCert('line-1');
        assert.equal(before.issuerCaId, DMS_MANAGER_CA_NAME);
        const enroll = (dms: string, device: string, cert: Uint8Array) =>
          w.csr(device).then((csrDer) => w.enrollment.enroll({ label: dms, csrDer, credentials: { clientCertificateChain: [cert] } }));
        assert.equal((await enroll('line-1', 'dev-a', before.der)).deviceId, 'dev-a');

        const old = await w.ca.getCa(DMS_MANAGER_CA_NAME);
        const rotated = await w.ca.rotateInternalCa({ id: DMS_MANAGER_CA_NAME, actor: 'admin' });
        assert.equal((await enroll('line-1', 'dev-b', before.der)).certificate.issuerCaId, 'factory-ca');

        const after = await dmsCert('line-2');
        assert.equal(after.issuerCaId, rotated.id);
        const at = T0 + DAY;
        const byNew = opensslVerify(rotated.certificate.der, after.der, at);
        assert.ok(byNew.ok, byNew.out);
        assert.equal(opensslVerify(old.certificate.der, after.der, at).ok, false);
        assert.ok(opensslVerify(old.certificate.der, before.der, at).ok);
        assert.equal((await enroll('line-2', 'dev-c', after.der)).deviceId, 'dev-c');
        const issued = await w.dms.issueCertificate('line-2', { keySpec: p256 }, 'admin');
        assert.deepEqual(issued.chain, [rotated.certificate.der]);

        // Reissued, line-1's certificate comes from the new CA and the old one is superseded (refused).
        const reissued = await dmsCert('line-1');
        assert.equal(reissued.issuerCaId, rotated.id);
        await assert.rejects(enroll('line-1', 'dev-d', before.der), (e: unknown) => e instanceof DomainError && e.kind === 'unauthenticated');
        assert.equal((await enroll('line-1', 'dev-e', reissued.der)).deviceId, 'dev-e');

        // A DMS that happens to be called like the next generation does not stop the rotation after it.
        await w.createDms(GEN3, w.settings({ authMode: 'DMS_CERTIFICATE' }));
        const fourth = await w.ca.rotateInternalCa({ id: rotated.id, actor: 'admin' });
        assert.equal(fourth.id, `${DMS_MANAGER_CA_NAME}-4`);
        assert.equal((await dmsCert(GEN3)).issuerCaId, fourth.id);
      } finally {
        await w.dispose();
      }
    });
  });
}
