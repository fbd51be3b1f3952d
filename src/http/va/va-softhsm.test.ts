import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { needSoftHsm } from '../../../test/support/services.ts';
import { DEFAULT_VA_ROLE_SETTINGS } from '../../domain/va/va-role.ts';
import { Pkcs11KeyEngine } from '../../engines/crypto/pkcs11/pkcs11-key-engine.ts';
import { createSoftHsmToken, type SoftHsmToken } from '../../../test/support/softhsm-test-token.ts';
import { run, startTestbed, type Testbed } from '../../../test/support/va-testbed.ts';

describe('VA with the CA keys in SoftHSM2 (PKCS#11)', async () => {
  if (!(await needSoftHsm())) {
    it('runs with SoftHSM2', { skip: 'SERVICE MISSING: SoftHSM2' }, () => {});
    return;
  }
  let token: SoftHsmToken;
  let engine: Pkcs11KeyEngine;
  let tb: Testbed;
  before(async () => {
    token = await createSoftHsmToken();
    engine = await Pkcs11KeyEngine.open(token.config());
    tb = await startTestbed({ leaves: 2, engines: [engine] });
    await tb.ca.updateCertificateStatus({ serialNumber: tb.leaves[1]!.serialNumber, issuerCaId: tb.sub.id, request: { status: 'REVOKED', reason: 'Superseded' }, actor: 't' });
    await tb.settle();
  });
  after(async () => {
    await tb?.close();
    await engine?.close();
    await token?.remove();
  });

  const ocsp = (leaf: string) => run('openssl', ['ocsp', '-issuer', 'ca.pem', '-CAfile', 'root.pem', '-url', `${tb.url}/api/va/ocsp`, '-cert', leaf, '-resp_text'], { cwd: tb.dir });

  it('signs OCSP answers with the CA key on the token', async () => {
    assert.equal(tb.sub.engineId, engine.id);
    const good = await ocsp('leaf0.pem');
    assert.match(good.out, /Response verify OK/);
    assert.match(good.out, /leaf0\.pem: good/);
    const revoked = await ocsp('leaf1.pem');
    assert.match(revoked.out, /leaf1\.pem: revoked/);
    assert.match(revoked.out, /Reason: superseded/);
  });

  it('issues the delegated responder with its key on the token, and openssl accepts its answers', async () => {
    await tb.va.roles.put(tb.sub.id, { ...DEFAULT_VA_ROLE_SETTINGS, ocsp: { validityMs: 3_600_000, signer: 'DELEGATED' } });
    const out = await ocsp('leaf0.pem');
    assert.match(out.out, /Response verify OK/);
    assert.match(out.out, /OCSP No Check/);
    const keys = await engine.listKeys();
    const signer = await tb.va.signers.get(tb.sub.id, 'DELEGATED');
    assert.ok(keys.length >= 5, 'root, sub, two leaves and the responder key live on the token');
    assert.equal(signer.certs.length, 1);
  });

  it('signs CRLs with the CA key on the token; openssl verifies them', async () => {
    const crl = await tb.va.crls.current(tb.sub.id, 'full');
    writeFileSync(path.join(tb.dir, 'hsm.crl'), crl.der);
    const out = await run('openssl', ['crl', '-in', 'hsm.crl', '-inform', 'DER', '-CAfile', 'ca.pem', '-noout'], { cwd: tb.dir });
    assert.match(out.out, /verify OK/);
  });
});
