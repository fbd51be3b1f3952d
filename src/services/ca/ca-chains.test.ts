import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { openTestStorage } from '../../../test/support/storage.ts';
import { ManualClock } from '../../domain/ports/clock.ts';
import type { KeySpec } from '../../domain/ports/key-engine.ts';
import { opensslCsr, TEST_KEY_KINDS } from '../../../test/support/csr-fixture.ts';
import { opensslText, opensslVerify, testCaService } from '../../../test/support/ca-service-fixture.ts';

const CA_KEYS: [string, KeySpec][] = [
  ['ECDSA P-256', { type: 'ECDSA', bits: 256 }],
  ['ECDSA P-384', { type: 'ECDSA', bits: 384 }],
  ['ECDSA P-521', { type: 'ECDSA', bits: 521 }],
  ['RSA 2048', { type: 'RSA', bits: 2048 }],
  ['RSA 3072', { type: 'RSA', bits: 3072 }],
  ['RSA 4096', { type: 'RSA', bits: 4096 }],
  ['Ed25519', { type: 'ED25519', bits: 256 }],
];

let opened: Awaited<ReturnType<typeof openTestStorage>>;
before(async () => {
  opened = await openTestStorage('sqlite');
});
after(async () => opened?.dispose());

// openssl checks validity against the real time, so the clock starts now.
const clock = () => new ManualClock(Date.now());

CA_KEYS.forEach(([name, keySpec], i) => {
  const deviceKey = TEST_KEY_KINDS[i % TEST_KEY_KINDS.length]!;
  test(`${name} root -> sub -> ${deviceKey} leaf verifies with openssl -x509_strict`, async () => {
    const { service } = testCaService(opened.storage, clock());
    const root = await service.createCa({
      subject: { common_name: `Root ${name}`, organization: 'Lamassu', country: 'ES' },
      keySpec,
      validity: { type: 'Duration', duration: '10y' },
      actor: 'test',
    });
    const sub = await service.createCa({
      parentId: root.id,
      subject: { common_name: `Sub ${name}` },
      keySpec,
      validity: { type: 'Duration', duration: '20y' },
      actor: 'test',
    });
    assert.equal(sub.level, 1);
    // Asked for 20 years under a 10-year root: capped at the root's end.
    assert.deepEqual(sub.certificate.notAfter, root.certificate.notAfter);
    const csr = opensslCsr({ key: deviceKey, subj: `/CN=device-${i}/O=Plant`, addext: ['subjectAltName=DNS:device.example,IP:10.0.0.1'] });
    const leaf = await service.signCertificate({ caId: sub.id, csr, profile: { caDefault: true }, actor: 'test' });
    assert.match(leaf.serialNumber, /^[0-9a-f]{1,32}$/);
    assert.equal(leaf.status, 'ACTIVE');
    assert.equal(leaf.issuerCaId, sub.id);
    assert.match(opensslVerify(root.certificate.der, [sub.certificate.der], leaf.der), /leaf\.pem: OK/);

    const text = opensslText(leaf.der);
    assert.match(text, /CA Issuers - URI:http:\/\/va\.example:8080\/api\/ca\/v1\/cas\/[^/]+\/certificate/);
    assert.match(text, new RegExp(`OCSP - URI:http://va2\\.example/api/va/ocsp`));
    assert.match(text, new RegExp(`URI:http://va\\.example:8080/api/va/crl/${sub.id}`));
    assert.match(text, /DNS:device\.example, IP Address:10\.0\.0\.1/);
    assert.match(text, /Subject: CN\s?=\s?device-\d+, O\s?=\s?Plant/);
    assert.match(text, /Digital Signature, Key Encipherment/);
    assert.match(text, /TLS Web Client Authentication/);
    const subText = opensslText(sub.certificate.der);
    assert.match(subText, /CA:TRUE/);
    assert.match(subText, /Certificate Sign, CRL Sign/);
    // Stored before it was returned.
    assert.deepEqual(await opened.storage.certificates.get(leaf.id), leaf);
  });
});
