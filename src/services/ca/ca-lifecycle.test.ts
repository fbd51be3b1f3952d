import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forEachStorage } from '../../../test/support/storage.ts';
import { DMS_MANAGER_CA_NAME } from '../../domain/ca/ca.ts';
import { DEFAULT_ISSUANCE_SETTINGS } from '../../domain/ca/issuance-profile.ts';
import { DomainError } from '../../domain/errors.ts';
import { ManualClock } from '../../domain/ports/clock.ts';
import { parseCertificate } from '../../x509/certificate.ts';
import { opensslCsr } from '../../../test/support/csr-fixture.ts';
import { toPem } from '../../x509/pem.ts';
import { opensslText, opensslVerify, testCaService } from '../../../test/support/ca-service-fixture.ts';

const DAY = 86_400_000;
const rejectsWith = (kind: string, code: string) => (e: unknown) => {
  assert.ok(e instanceof DomainError, String(e));
  assert.equal(`${e.kind}:${e.code}`, `${kind}:${code}`);
  return true;
};
const p256 = { type: 'ECDSA' as const, bits: 256 };
const tenYears = { type: 'Duration' as const, duration: '10y' };

forEachStorage('CA service', (ctx) => {
  const setup = async () => {
    const clock = new ManualClock(Date.now());
    const { service, events } = testCaService(ctx.storage, clock);
    const root = await service.createCa({ subject: { common_name: 'Root' }, keySpec: p256, validity: tenYears, actor: 'alice' });
    const sub = await service.createCa({ parentId: root.id, subject: { common_name: 'Sub' }, keySpec: p256, validity: tenYears, actor: 'alice' });
    const subsub = await service.createCa({ parentId: sub.id, subject: { common_name: 'SubSub' }, keySpec: p256, validity: tenYears, actor: 'alice' });
    const sign = (caId: string, cn = 'dev') =>
      service.signCertificate({ caId, csr: opensslCsr({ key: 'p256', subj: `/CN=${cn}` }), profile: { caDefault: true }, actor: 'bob' });
    return { clock, service, events, root, sub, subsub, sign };
  };

  test('revoking a CA cascades to sub-CAs and every certificate below, in one go, one event per change', async () => {
    const { service, events, root, sub, subsub, sign } = await setup();
    const leafRoot = await sign(root.id, 'under-root');
    const leafSub = await sign(sub.id);
    const leafSubsub = await sign(subsub.id);
    const held = await sign(subsub.id, 'held');
    const compromised = await sign(subsub.id, 'compromised');
    await service.updateCertificateStatus({ serialNumber: held.serialNumber, request: { status: 'REVOKED', reason: 'CertificateHold' }, actor: 'bob' });
    await service.updateCertificateStatus({ serialNumber: compromised.serialNumber, request: { status: 'REVOKED', reason: 'KeyCompromise' }, actor: 'bob' });
    events.published.length = 0;

    const revoked = await service.updateCaStatus({ id: sub.id, request: { status: 'REVOKED', reason: 'KeyCompromise' }, actor: 'carol' });
    assert.equal(revoked.certificate.status, 'REVOKED');
    assert.equal(revoked.certificate.revocationReason, 'KeyCompromise');
    const reason = async (serial: string) => {
      const c = await service.getCertificate(serial);
      return `${c.status}/${c.revocationReason}`;
    };
    assert.equal(await reason(leafSub.serialNumber), 'REVOKED/CessationOfOperation');
    assert.equal(await reason(leafSubsub.serialNumber), 'REVOKED/CessationOfOperation');
    assert.equal(await reason(held.serialNumber), 'REVOKED/CessationOfOperation');
    assert.equal(await reason(compromised.serialNumber), 'REVOKED/KeyCompromise');
    assert.equal(await reason(leafRoot.serialNumber), 'ACTIVE/null');
    assert.equal((await service.getCa(subsub.id)).certificate.revocationReason, 'CessationOfOperation');
    assert.equal((await service.getCa(root.id)).certificate.status, 'ACTIVE');

    const caEvents = events.ofType('ca.status.update');
    const certEvents = events.ofType('certificate.status.update');
    assert.deepEqual(caEvents.map((e) => e.subject).sort(), [sub.id, subsub.id].sort());
    assert.deepEqual(certEvents.map((e) => e.subject).sort(), [leafSub.id, leafSubsub.id, held.id].sort());
    assert.ok(events.published.every((e) => e.actor === 'carol'));

    // A revoked CA signs nothing, and its revocation is final.
    await assert.rejects(sign(subsub.id), rejectsWith('conflict', 'CA_CANNOT_SIGN'));
    await assert.rejects(service.updateCaStatus({ id: sub.id, request: { status: 'ACTIVE' }, actor: 'carol' }), rejectsWith('conflict', 'CA_ILLEGAL_TRANSITION'));
  });

  test('hold and release: a held certificate comes back, a held CA cannot sign until released', async () => {
    const { clock, service, events, sub, sign } = await setup();
    const leaf = await sign(sub.id);
    const held = await service.updateCertificateStatus({ serialNumber: leaf.serialNumber, request: { status: 'REVOKED', reason: 'CertificateHold' }, actor: 'bob' });
    assert.equal(held.status, 'REVOKED');
    assert.deepEqual(held.revokedAt, clock.now());
    await assert.rejects(
      service.updateCertificateStatus({ serialNumber: leaf.serialNumber, request: { status: 'REVOKED', reason: 'CertificateHold' }, actor: 'bob' }),
      rejectsWith('conflict', 'CERTIFICATE_ILLEGAL_TRANSITION'),
    );
    const released = await service.updateCertificateStatus({ serialNumber: leaf.serialNumber, request: { status: 'ACTIVE' }, actor: 'bob' });
    assert.equal(released.status, 'ACTIVE');
    assert.equal(released.revokedAt, null);
    const last = events.ofType('certificate.status.update').at(-1)!;
    assert.equal((last.data as { previous_status: string }).previous_status, 'REVOKED');

    await service.updateCaStatus({ id: sub.id, request: { status: 'REVOKED', reason: 'CertificateHold' }, actor: 'bob' });
    await assert.rejects(sign(sub.id), rejectsWith('conflict', 'CA_CANNOT_SIGN'));
    // Hold does not cascade.
    assert.equal((await service.getCertificate(leaf.serialNumber)).status, 'ACTIVE');
    await service.updateCaStatus({ id: sub.id, request: { status: 'ACTIVE' }, actor: 'bob' });
    await sign(sub.id);

    // Released after its end: it comes back EXPIRED, which is terminal.
    await service.updateCertificateStatus({ serialNumber: leaf.serialNumber, request: { status: 'REVOKED', reason: 'CertificateHold' }, actor: 'bob' });
    clock.advance(400 * DAY);
    const expired = await service.updateCertificateStatus({ serialNumber: leaf.serialNumber, request: { status: 'ACTIVE' }, actor: 'bob' });
    assert.equal(expired.status, 'EXPIRED');
    await assert.rejects(
      service.updateCertificateStatus({ serialNumber: leaf.serialNumber, request: { status: 'REVOKED', reason: 'KeyCompromise' }, actor: 'bob' }),
      rejectsWith('conflict', 'CERTIFICATE_ILLEGAL_TRANSITION'),
    );
  });

  test('invalidity date: kept with the revocation, not after the revocation time (now), cleared on release', async () => {
    const { clock, service, sub, sign } = await setup();
    const leaf = await sign(sub.id);
    const revoke = (invalidityDate: Date, reason: 'KeyCompromise' | 'CertificateHold' = 'KeyCompromise') =>
      service.updateCertificateStatus({ serialNumber: leaf.serialNumber, request: { status: 'REVOKED', reason, invalidityDate }, actor: 'bob' });
    const now = clock.now().getTime();
    const future = new Date(Math.ceil((now + 1) / 1000) * 1000);
    await assert.rejects(revoke(future), rejectsWith('invalid', 'INVALIDITY_DATE_AFTER_REVOCATION'));
    await assert.rejects(revoke(new Date(now + DAY)), rejectsWith('invalid', 'INVALIDITY_DATE_AFTER_REVOCATION'));
    assert.equal((await service.getCertificate(leaf.serialNumber)).status, 'ACTIVE', 'a rejected revocation changes nothing');

    const suspected = new Date(Math.floor(now / 1000) * 1000 - DAY);
    const held = await revoke(suspected, 'CertificateHold');
    assert.deepEqual(held.invalidityDate, suspected);
    assert.deepEqual((await service.getCertificate(leaf.serialNumber)).invalidityDate, suspected);
    const released = await service.updateCertificateStatus({ serialNumber: leaf.serialNumber, request: { status: 'ACTIVE' }, actor: 'bob' });
    assert.equal(released.invalidityDate, undefined);
    assert.equal((await service.getCertificate(leaf.serialNumber)).invalidityDate, undefined);

    // The revocation time itself is the latest allowed.
    clock.set(Math.floor(now / 1000) * 1000 + 5000);
    const revoked = await revoke(clock.now());
    assert.deepEqual(revoked.invalidityDate, clock.now());
    assert.deepEqual(revoked.revokedAt, clock.now());

    // A CA's own certificate takes one too.
    await assert.rejects(
      service.updateCaStatus({ id: sub.id, request: { status: 'REVOKED', reason: 'KeyCompromise', invalidityDate: new Date(clock.now().getTime() + 1000) }, actor: 'bob' }),
      rejectsWith('invalid', 'INVALIDITY_DATE_AFTER_REVOCATION'),
    );
    const ca = await service.updateCaStatus({ id: sub.id, request: { status: 'REVOKED', reason: 'KeyCompromise', invalidityDate: suspected }, actor: 'bob' });
    assert.deepEqual(ca.certificate.invalidityDate, suspected);
    assert.deepEqual((await service.getCa(sub.id)).certificate.invalidityDate, suspected);
  });

  test('bad CSRs, disallowed keys and unknown CAs get stable codes', async () => {
    const { service, sub } = await setup();
    const sign = (csr: string | Uint8Array, caId = sub.id, profile: Parameters<typeof service.signCertificate>[0]['profile'] = { caDefault: true }) =>
      service.signCertificate({ caId, csr, profile, actor: 'bob' });
    await assert.rejects(sign('garbage!'), rejectsWith('invalid', 'CSR_MALFORMED'));
    await assert.rejects(sign(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00)), rejectsWith('invalid', 'CSR_MALFORMED'));
    const csr = opensslCsr({ key: 'p256', subj: '/CN=tampered' });
    const tampered = csr.slice();
    tampered[tampered.length - 3]! ^= 0x01;
    await assert.rejects(sign(tampered), rejectsWith('invalid', 'CSR_INVALID_SIGNATURE'));
    const lax = await service.createProfile({ name: 'legacy', settings: { ...DEFAULT_ISSUANCE_SETTINGS, verifyCsrSignature: false }, actor: 'bob' });
    await sign(tampered, sub.id, { profileId: lax.id });

    const ecOnly = { ...DEFAULT_ISSUANCE_SETTINGS, cryptoEnforcement: { ...DEFAULT_ISSUANCE_SETTINGS.cryptoEnforcement, enabled: true, allowRsaKeys: false, allowedEcdsaKeySizes: [256] } };
    await assert.rejects(sign(opensslCsr({ key: 'rsa2048', subj: '/CN=r' }), sub.id, { inline: ecOnly }), rejectsWith('invalid', 'CSR_KEY_NOT_ALLOWED'));
    await assert.rejects(sign(opensslCsr({ key: 'p384', subj: '/CN=r' }), sub.id, { inline: ecOnly }), rejectsWith('invalid', 'CSR_KEY_NOT_ALLOWED'));
    await sign(opensslCsr({ key: 'p256', subj: '/CN=ok' }), sub.id, { inline: ecOnly });

    await assert.rejects(sign(csr, 'no-such-ca'), rejectsWith('not_found', 'CA_NOT_FOUND'));
    await assert.rejects(sign('garbage!', 'no-such-ca'), rejectsWith('not_found', 'CA_NOT_FOUND'));
    await assert.rejects(sign(csr, sub.id, { profileId: 'nope' }), rejectsWith('not_found', 'PROFILE_NOT_FOUND'));
    await assert.rejects(service.getCertificate('abcdef0123'), rejectsWith('not_found', 'CERTIFICATE_NOT_FOUND'));
    await assert.rejects(
      service.createCa({ parentId: 'nope', subject: { common_name: 'x' }, keySpec: p256, validity: tenYears, actor: 'a' }),
      rejectsWith('not_found', 'CA_NOT_FOUND'),
    );
  });

  test('profiles: validity capped at the CA, subject override, usages, sign as CA with path length', async () => {
    const { clock, service, root, sub } = await setup();
    const profile = await service.createProfile({
      name: 'gateway',
      settings: {
        ...DEFAULT_ISSUANCE_SETTINGS,
        validity: { type: 'Duration', duration: '50y' },
        honorSubject: false,
        subject: { organization: 'Override Org', country: 'DE' },
        honorExtensions: false,
        keyUsage: ['DigitalSignature'],
        extendedKeyUsages: ['ServerAuth', 'ClientAuth'],
        signAsCa: true,
        pathLength: 0,
      },
      actor: 'bob',
    });
    const csr = opensslCsr({ key: 'p256', subj: '/CN=gw-1/O=Ignored', addext: ['subjectAltName=DNS:dropped.example', 'keyUsage=keyAgreement'] });
    const cert = await service.signCertificate({ caId: sub.id, csr, profile: { profileId: profile.id }, actor: 'bob' });
    assert.deepEqual(cert.notAfter, sub.certificate.notAfter);
    assert.deepEqual(cert.notBefore, new Date(Math.floor(clock.now().getTime() / 1000) * 1000));
    assert.equal(cert.isCa, true);
    const parsed = parseCertificate(cert.der);
    assert.deepEqual(parsed.subject, { common_name: 'gw-1', organization: 'Override Org', country: 'DE' });
    assert.deepEqual(parsed.basicConstraints, { ca: true, pathLen: 0 });
    assert.deepEqual(parsed.keyUsage, ['digitalSignature', 'keyCertSign'], 'sign_as_ca adds keyCertSign');
    assert.deepEqual(parsed.extendedKeyUsage, ['serverAuth', 'clientAuth']);
    assert.deepEqual(parsed.subjectAltNames.dns, []);
    assert.deepEqual(cert.details.extendedKeyUsage, ['ServerAuth', 'ClientAuth']);
    assert.match(opensslText(cert.der), /pathlen:0/);
    assert.match(opensslVerify(root.certificate.der, [sub.certificate.der], cert.der), /OK/);

    // Honour the CSR's key usage when the profile says so.
    const honour = await service.signCertificate({
      caId: sub.id,
      csr,
      profile: { inline: { ...DEFAULT_ISSUANCE_SETTINGS, honorKeyUsage: true } },
      actor: 'bob',
    });
    assert.deepEqual(parseCertificate(honour.der).keyUsage, ['keyAgreement']);
    assert.deepEqual(parseCertificate(honour.der).subjectAltNames.dns, ['dropped.example']);

    await assert.rejects(service.deleteProfile({ id: 'nope', actor: 'b' }), rejectsWith('not_found', 'PROFILE_NOT_FOUND'));
    const withDefault = await service.createCa({ subject: { common_name: 'P' }, keySpec: p256, validity: tenYears, profileId: profile.id, actor: 'a' });
    await assert.rejects(service.deleteProfile({ id: profile.id, actor: 'b' }), rejectsWith('conflict', 'PROFILE_IN_USE'));
    const viaDefault = await service.signCertificate({ caId: withDefault.id, csr, profile: { caDefault: true }, actor: 'bob' });
    assert.equal(viaDefault.isCa, true);
  });

  test('internal CA LAMASSU-DMS-MANAGER: created once, marked internal, refuses requests from the API', async () => {
    const { service } = await setup();
    const first = await service.ensureInternalCa();
    const again = await service.ensureInternalCa();
    assert.equal(first.id, DMS_MANAGER_CA_NAME);
    assert.equal(again.certificate.id, first.certificate.id);
    assert.equal(first.internal, true);
    const csr = opensslCsr({ key: 'p256', subj: '/CN=dms-1' });
    await assert.rejects(service.signCertificate({ caId: first.id, csr, profile: { caDefault: true }, actor: 'x' }), rejectsWith('forbidden', 'CA_INTERNAL'));
    const dmsCert = await service.signCertificate({ caId: first.id, csr, profile: { caDefault: true }, allowInternalCa: true, actor: 'system' });
    assert.equal(dmsCert.issuerCaId, DMS_MANAGER_CA_NAME);
  });

  test('import a CA with its key (signs) and without (tracked only); import external certificates', async () => {
    const { service, sign } = await setup();
    const other = testCaService(ctx.storage, new ManualClock(Date.now()));
    // A CA made elsewhere: take a sub's certificate and its key out of another service's engine.
    const engine = other.service.deps.keyEngines.default();
    const foreign = await other.service.createCa({ subject: { common_name: 'Foreign' }, keySpec: p256, validity: tenYears, actor: 'x' });
    const pkcs8 = await engine.exportKey!(foreign.keyId!);
    const withKey = await service.importCa({
      id: `imported-${foreign.id}`,
      certificate: Buffer.from(toPem(foreign.certificate.der, 'CERTIFICATE')).toString('base64'),
      privateKey: toPem(pkcs8, 'PRIVATE KEY'),
      actor: 'bob',
    });
    assert.equal(withKey.type, 'IMPORTED_WITH_KEY');
    assert.equal(withKey.parentId, null);
    const leaf = await sign(withKey.id);
    assert.match(opensslVerify(foreign.certificate.der, [], leaf.der), /OK/);

    const wrongKey = await engine.exportKey!((await other.service.createCa({ subject: { common_name: 'F2' }, keySpec: p256, validity: tenYears, actor: 'x' })).keyId!);
    await assert.rejects(
      service.importCa({ certificate: toPem(foreign.certificate.der, 'CERTIFICATE'), privateKey: toPem(wrongKey, 'PRIVATE KEY'), actor: 'bob' }),
      rejectsWith('invalid', 'CA_KEY_MISMATCH'),
    );

    // Without key, its parent found by AKI: a root and its sub made elsewhere, imported in that order.
    const root2 = await other.service.createCa({ subject: { common_name: 'Foreign root' }, keySpec: p256, validity: tenYears, actor: 'x' });
    const sub2 = await other.service.createCa({ parentId: root2.id, subject: { common_name: 'Foreign sub' }, keySpec: p256, validity: tenYears, actor: 'x' });
    const trackedRoot = await service.importCa({ certificate: root2.certificate.der, actor: 'bob' });
    assert.equal(trackedRoot.certificate.issuerCaId, trackedRoot.id);
    const tracked = await service.importCa({ certificate: sub2.certificate.der, actor: 'bob' });
    assert.equal(tracked.type, 'IMPORTED_WITHOUT_KEY');
    assert.equal(tracked.parentId, trackedRoot.id);
    assert.equal(tracked.level, 1);
    await assert.rejects(service.importCa({ certificate: sub2.certificate.der, actor: 'bob' }), rejectsWith('conflict', 'CERTIFICATE_SERIAL_EXISTS'));
    await assert.rejects(sign(tracked.id), rejectsWith('conflict', 'CA_CANNOT_SIGN'));
    await assert.rejects(service.importCa({ certificate: leaf.der, actor: 'bob' }), rejectsWith('invalid', 'CA_CERTIFICATE_NOT_CA'));
    await assert.rejects(service.importCa({ certificate: 'bm90IGEgY2VydA==', actor: 'bob' }), rejectsWith('invalid', 'CERTIFICATE_MALFORMED'));

    const foreignLeaf = await other.service.signCertificate({ caId: foreign.id, csr: opensslCsr({ key: 'p256', subj: '/CN=ext' }), profile: { caDefault: true }, actor: 'x' });
    await ctx.storage.certificates.get(foreignLeaf.id);
    const external = await service.importCertificate({ certificate: toPem(foreignLeaf.der, 'CERTIFICATE'), metadata: { site: 'A' }, actor: 'bob' });
    assert.equal(external.type, 'EXTERNAL');
    assert.deepEqual(external.details.metadata, { site: 'A' });
  });

  test('server-side key generation with the key kept in an engine', async () => {
    const { service, root, sub } = await setup();
    const out = await service.generateCertificate({
      caId: sub.id,
      keySpec: { type: 'RSA', bits: 2048 },
      engineId: 'memory',
      subject: { common_name: 'server-gen', organization: 'Plant' },
      profile: { caDefault: true },
      actor: 'bob',
    });
    assert.equal(out.certificate.engineId, 'memory');
    assert.match(out.keyId!, /^[0-9a-f]{64}$/);
    assert.equal(out.privateKeyPkcs8, undefined);
    assert.match(opensslVerify(root.certificate.der, [sub.certificate.der], out.certificate.der), /OK/);
  });

  test('a CA past its notAfter signs nothing, even before the status sweep marks it EXPIRED', async () => {
    const { clock, service, sub, sign } = await setup();
    clock.set(sub.certificate.notAfter.getTime() + 1000);
    await assert.rejects(sign(sub.id), rejectsWith('conflict', 'CA_CANNOT_SIGN'));
    await assert.rejects(
      service.createCa({ parentId: sub.id, subject: { common_name: 'late' }, keySpec: p256, validity: tenYears, actor: 'a' }),
      rejectsWith('conflict', 'CA_CANNOT_SIGN'),
    );
    await assert.rejects(service.importCa({ id: '../etc', certificate: sub.certificate.der, actor: 'a' }), rejectsWith('invalid', 'CA_ID_INVALID'));
  });

  test('stats and lists', async () => {
    const { service, sub, sign } = await setup();
    await sign(sub.id, 'stat-1');
    await sign(sub.id, 'stat-2');
    const stats = await service.getStats();
    assert.ok(stats.cas.total >= 3);
    assert.ok((stats.certificates.ca_distribution[sub.id] ?? 0) >= 3);
    const page = await service.listCertificates({ issuerCaId: sub.id, commonName: 'stat-*' });
    assert.equal(page.list.length, 2);
    const chain = await service.caChain(sub.id);
    assert.equal(chain.length, 2);
  });
});
