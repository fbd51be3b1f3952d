/**
 * Issuance with the server's off-event-loop helpers injected: CSR signatures checked by the worker pool,
 * certificates committed through another writer than `storage`.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { forEachStorage } from '../../../test/support/storage.ts';
import type { Certificate } from '../../domain/ca/certificate.ts';
import { DEFAULT_ISSUANCE_SETTINGS } from '../../domain/ca/issuance-profile.ts';
import { DomainError } from '../../domain/errors.ts';
import { ManualClock } from '../../domain/ports/clock.ts';
import type { CsrSignatureVerifier } from '../../domain/ports/csr-signature-verifier.ts';
import { CsrVerifierPool } from '../../engines/crypto/csr-verifier-pool.ts';
import { opensslCsr } from '../../../test/support/csr-fixture.ts';
import { testCaService } from '../../../test/support/ca-service-fixture.ts';

const p256 = { type: 'ECDSA' as const, bits: 256 };
const tenYears = { type: 'Duration' as const, duration: '10y' };
const pool = new CsrVerifierPool({ size: 1 });
after(() => pool.close());

/** The pool, counting what it is asked. */
function counting(inner: CsrSignatureVerifier): CsrSignatureVerifier & { calls: number } {
  const v = { calls: 0, verify: (der: Uint8Array) => (v.calls++, inner.verify(der)), close: () => inner.close() };
  return v;
}

const codeOf = (e: unknown) => (e instanceof DomainError ? `${e.kind}:${e.code}` : String(e));

forEachStorage('signCertificate with a CSR verifier and a certificate writer', (ctx) => {
  test('the pool judges proof of possession; a profile that waives it does not ask; a closed pool is a 503 code', async () => {
    const verifier = counting(pool);
    const { service } = testCaService(ctx.storage, new ManualClock(Date.now()), { deps: { csrVerifier: verifier } });
    const ca = await service.createCa({ subject: { common_name: 'Offload CA' }, keySpec: p256, validity: tenYears, actor: 't' });
    const csr = opensslCsr({ key: 'p256', subj: '/CN=offload' });
    const cert = await service.signCertificate({ caId: ca.id, csr, profile: { caDefault: true }, actor: 't' });
    assert.equal(cert.subjectCommonName, 'offload');
    assert.equal(verifier.calls, 1);

    const tampered = csr.slice();
    tampered[tampered.length - 3]! ^= 0x01;
    const err = await service.signCertificate({ caId: ca.id, csr: tampered, profile: { caDefault: true }, actor: 't' }).catch((e: unknown) => e);
    assert.equal(codeOf(err), 'invalid:CSR_INVALID_SIGNATURE');
    assert.equal(verifier.calls, 2);

    const lax = { inline: { ...DEFAULT_ISSUANCE_SETTINGS, verifyCsrSignature: false } };
    await service.signCertificate({ caId: ca.id, csr: tampered, profile: lax, actor: 't' });
    assert.equal(verifier.calls, 2);

    const closed = new CsrVerifierPool({ size: 1 });
    await closed.close();
    const { service: down } = testCaService(ctx.storage, new ManualClock(Date.now()), { deps: { csrVerifier: closed } });
    const err2 = await down.signCertificate({ caId: ca.id, csr, profile: { caDefault: true }, actor: 't' }).catch((e: unknown) => e);
    assert.equal(codeOf(err2), 'unavailable:CSR_VERIFIER_UNAVAILABLE');
  });

  test('issued certificates go through the injected writer, committed before the call returns', async () => {
    const written: Certificate[] = [];
    const writer = {
      insert: (c: Certificate) => writer.insertMany([c]),
      insertMany: async (certs: Certificate[]) => {
        await ctx.storage.certificates.insertMany(certs);
        written.push(...certs);
      },
    };
    const { service } = testCaService(ctx.storage, new ManualClock(Date.now()), { deps: { issuedCertificates: writer } });
    const ca = await service.createCa({ subject: { common_name: 'Writer CA' }, keySpec: p256, validity: tenYears, actor: 't' });
    const certs = await Promise.all(
      Array.from({ length: 20 }, (_, i) => service.signCertificate({ caId: ca.id, csr: opensslCsr({ key: 'p256', subj: `/CN=w${i}` }), profile: { caDefault: true }, actor: 't' })),
    );
    assert.deepEqual(new Set(written.map((c) => c.id)), new Set(certs.map((c) => c.id)));
    for (const c of certs) assert.ok(await ctx.storage.certificates.get(c.id));
  });
});
