import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { needSoftHsm } from '../../../test/support/services.ts';
import { ManualClock } from '../../domain/ports/clock.ts';
import type { KeySpec } from '../../domain/ports/key-engine.ts';
import { opensslCsr } from '../../../test/support/csr-fixture.ts';
import { opensslText, opensslVerify, testCaService } from '../../../test/support/ca-service-fixture.ts';
import { softHsmEngineOnSqlite } from '../../../test/support/softhsm-engine.ts';

// RSA 4096 runs once, in software (ca-chains.test.ts); on the token it only costs time.
const CA_KEYS: [string, KeySpec][] = [
  ['ECDSA P-256', { type: 'ECDSA', bits: 256 }],
  ['ECDSA P-384', { type: 'ECDSA', bits: 384 }],
  ['ECDSA P-521', { type: 'ECDSA', bits: 521 }],
  ['RSA 2048', { type: 'RSA', bits: 2048 }],
  ['RSA 3072', { type: 'RSA', bits: 3072 }],
  ['Ed25519', { type: 'ED25519', bits: 256 }],
];

describe('CA keys in SoftHSM2', async () => {
  if (!(await needSoftHsm())) {
    it('runs with SoftHSM2', { skip: 'SERVICE MISSING: SoftHSM2' }, () => {});
    return;
  }
  const hsm = softHsmEngineOnSqlite();

  for (const [name, keySpec] of CA_KEYS) {
    it(`${name}: root -> sub -> leaf with keys on the token verifies with openssl -x509_strict`, async (t) => {
      const supported = hsm.engine.capabilities().keyTypes.some((k) => k.type === keySpec.type && k.sizes.includes(keySpec.bits));
      if (!supported) return t.skip(`${name} is not offered by this PKCS#11 engine`);
      const { service } = testCaService(hsm.opened.storage, new ManualClock(Date.now()), { engines: [hsm.engine] });
      const root = await service.createCa({ subject: { common_name: `HSM Root ${name}` }, keySpec, validity: { type: 'Duration', duration: '5y' }, actor: 't' });
      const sub = await service.createCa({ parentId: root.id, subject: { common_name: `HSM Sub ${name}` }, keySpec, validity: { type: 'Duration', duration: '2y' }, actor: 't' });
      assert.equal(sub.engineId, hsm.engine.id);
      const leaf = await service.signCertificate({ caId: sub.id, csr: opensslCsr({ key: 'p256', subj: '/CN=hsm-device' }), profile: { caDefault: true }, actor: 't' });
      assert.match(opensslVerify(root.certificate.der, [sub.certificate.der], leaf.der), /leaf\.pem: OK/);
      assert.match(opensslText(leaf.der), /X509v3 Authority Key Identifier/);
    });
  }
});
