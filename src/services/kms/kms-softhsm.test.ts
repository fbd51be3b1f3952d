/**
 * The KMS over a SoftHSM2 token: keys made on the token sign raw messages and digests that openssl
 * accepts with the public key the KMS records; a CA made from such a key issues certificates openssl
 * verifies; the private key never leaves (export refused even where exports are allowed).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { opensslVerify, RecordingBus, testCaService } from '../../../test/support/ca-service-fixture.ts';
import { opensslCsr } from '../../../test/support/csr-fixture.ts';
import { needSoftHsm } from '../../../test/support/services.ts';
import { softHsmEngineOnSqlite } from '../../../test/support/softhsm-engine.ts';
import { ManualClock } from '../../domain/ports/clock.ts';
import { silentLogger } from '../../domain/ports/logger.ts';
import { KeyEngineSet } from '../../engines/crypto/registry.ts';
import { toPem } from '../../x509/pem.ts';
import { casUsingKey } from '../ca/cas-using-key.ts';
import { KmsService } from './kms-service.ts';

const NODE_HASH: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };

describe('KMS keys in SoftHSM2', async () => {
  if (!(await needSoftHsm())) {
    it('runs with SoftHSM2', { skip: 'SERVICE MISSING: SoftHSM2' }, () => {});
    return;
  }
  const hsm = softHsmEngineOnSqlite({ id: 'hsm' });
  let kms: KmsService;
  let dir: string;
  const clock = new ManualClock(Date.now());
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'lamassu-kms-hsm-'));
    kms = new KmsService({
      storage: hsm.opened.storage,
      keyEngines: KeyEngineSet.of([hsm.engine]),
      events: new RecordingBus(),
      clock,
      random: { uuid: () => randomUUID(), bytes: (n) => new Uint8Array(randomBytes(n)) },
      logger: silentLogger,
      settings: { allowExport: true },
      keyUsers: { casUsingKey: (id) => casUsingKey(hsm.opened.storage, id) },
    });
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
  });

  const opensslAccepts = (spki: Uint8Array, algorithm: string, message: Buffer, signature: Uint8Array, digest: boolean) => {
    const pub = path.join(dir, 'pub.pem');
    const sig = path.join(dir, 'sig.bin');
    const input = path.join(dir, 'in.bin');
    writeFileSync(pub, toPem(spki, 'PUBLIC KEY'));
    writeFileSync(sig, signature);
    const md = NODE_HASH[/SHA_(\d+)$/.exec(algorithm)![1]!]!;
    const pss = algorithm.startsWith('RSASSA_PSS') ? ['rsa_padding_mode:pss', 'rsa_pss_saltlen:digest'] : [];
    try {
      if (digest) {
        writeFileSync(input, createHash(md).update(message).digest());
        execFileSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', pub, '-in', input, '-sigfile', sig, '-pkeyopt', `digest:${md}`, ...pss.flatMap((o) => ['-pkeyopt', o])], { stdio: 'pipe' });
      } else {
        writeFileSync(input, message);
        execFileSync('openssl', ['dgst', `-${md}`, '-verify', pub, '-signature', sig, ...pss.flatMap((o) => ['-sigopt', o]), input], { stdio: 'pipe' });
      }
      return true;
    } catch {
      return false;
    }
  };

  for (const [algorithm, size, signing] of [
    ['ECDSA', 256, ['ECDSA_SHA_256', 'ECDSA_SHA_384']],
    ['ECDSA', 384, ['ECDSA_SHA_384']],
    ['RSA', 2048, ['RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_384']],
  ] as const) {
    it(`${algorithm} ${size}: made on the token, signs messages and digests openssl accepts; never exported`, async () => {
      const key = await kms.createKey({ algorithm, size, name: `hsm-${algorithm}-${size}`, actor: 't' });
      assert.equal(key.engineId, 'hsm');
      assert.equal((await hsm.engine.getKey(key.id)).id, key.id);
      const message = Buffer.from(`to be signed by ${algorithm} ${size}`);
      for (const alg of signing) {
        for (const digest of [false, true]) {
          const md = NODE_HASH[/SHA_(\d+)$/.exec(alg)![1]!]!;
          const input = digest ? createHash(md).update(message).digest() : message;
          const signature = await kms.sign({ key: key.id, algorithm: alg, messageType: digest ? 'hash' : 'raw', message: input, actor: 't' });
          assert.ok(opensslAccepts(key.publicKeySpki, alg, message, signature, digest), `${alg} ${digest ? 'hash' : 'raw'}`);
          assert.equal(await kms.verify({ key: key.name, algorithm: alg, messageType: digest ? 'hash' : 'raw', message: input, signature }), true);
        }
      }
      await assert.rejects(kms.exportKey({ key: key.id, actor: 't' }), { code: 'KMS_EXPORT_FORBIDDEN' });
    });
  }

  it('a CA made from a key on the token issues certificates openssl verifies; a key no CA uses is deleted from the token', async () => {
    const key = await kms.createKey({ algorithm: 'ECDSA', size: 256, name: 'hsm-ca-key', actor: 't' });
    const { service } = testCaService(hsm.opened.storage, clock, { engines: [hsm.engine] });
    const ca = await service.createCa({ subject: { common_name: 'HSM KMS CA' }, keyId: key.id, validity: { type: 'Duration', duration: '1y' }, actor: 't' });
    assert.equal(ca.keyId, key.id);
    const leaf = await service.signCertificate({ caId: ca.id, csr: opensslCsr({ key: 'p256', subj: '/CN=hsm-kms-leaf' }), profile: { caDefault: true }, actor: 't' });
    assert.match(opensslVerify(ca.certificate.der, [], leaf.der), /OK/);
    await assert.rejects(kms.deleteKey({ key: key.id, actor: 't' }), { code: 'KMS_KEY_IN_USE' });
    // A key no CA uses goes, and leaves the token.
    const other = await kms.createKey({ algorithm: 'ECDSA', size: 256, actor: 't' });
    await kms.deleteKey({ key: other.id, actor: 't' });
    await assert.rejects(hsm.engine.getKey(other.id), { code: 'KEY_NOT_FOUND' });
    await assert.rejects(kms.getKey(other.id), { code: 'KMS_KEY_NOT_FOUND' });
  });
});
