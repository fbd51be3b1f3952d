/** Lamassu's signatures over a digest with CA keys on a PKCS#11 token (SoftHSM2), checked by openssl pkeyutl. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { needSoftHsm } from '../../../test/support/services.ts';
import { testCaService } from '../../../test/support/ca-service-fixture.ts';
import { softHsmEngineOnSqlite } from '../../../test/support/softhsm-engine.ts';
import { ManualClock } from '../../domain/ports/clock.ts';
import type { KeySpec } from '../../domain/ports/key-engine.ts';

const CASES: [KeySpec, string[]][] = [
  [{ type: 'ECDSA', bits: 256 }, ['ECDSA_SHA_256', 'ECDSA_SHA_512']],
  [{ type: 'ECDSA', bits: 384 }, ['ECDSA_SHA_384']],
  [{ type: 'RSA', bits: 2048 }, ['RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384', 'RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_512']],
];

describe('CA signatures over a digest on SoftHSM2', async () => {
  if (!(await needSoftHsm())) {
    it('runs with SoftHSM2', { skip: 'SERVICE MISSING: SoftHSM2' }, () => {});
    return;
  }
  const hsm = softHsmEngineOnSqlite();
  let dir: string;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'lamassu-hsm-digest-'));
  });
  after(async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const [keySpec, algorithms] of CASES) {
    it(`${keySpec.type} ${keySpec.bits}: ${algorithms.join(', ')} over a digest verify with openssl and with /verify`, async () => {
      const { service } = testCaService(hsm.opened.storage, new ManualClock(Date.now()), { engines: [hsm.engine] });
      const ca = await service.createCa({ subject: { common_name: `HSM digest ${keySpec.type} ${keySpec.bits}` }, keySpec, validity: { type: 'Duration', duration: '1y' }, actor: 't' });
      assert.equal(ca.engineId, hsm.engine.id);
      const pub = path.join(dir, `${ca.id}.pem`);
      writeFileSync(pub, new X509Certificate(Buffer.from(ca.certificate.der)).publicKey.export({ type: 'spki', format: 'pem' }));
      for (const algorithm of algorithms) {
        const hash = `sha${algorithm.slice(-3)}`;
        const digest = createHash(hash).update(`firmware for ${algorithm}`).digest();
        const signature = await service.signWithCa({ caId: ca.id, message: digest, messageType: 'hash', algorithm, actor: 't' });
        writeFileSync(path.join(dir, 'digest.bin'), digest);
        writeFileSync(path.join(dir, 'sig.bin'), signature);
        const pss = algorithm.startsWith('RSASSA_PSS') ? ['-pkeyopt', 'rsa_padding_mode:pss', '-pkeyopt', 'rsa_pss_saltlen:digest'] : [];
        const out = execFileSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', pub, '-in', path.join(dir, 'digest.bin'), '-sigfile', path.join(dir, 'sig.bin'), '-pkeyopt', `digest:${hash}`, ...pss], { encoding: 'utf8' });
        assert.match(out, /Signature Verified Successfully/, algorithm);
        assert.equal(await service.verifyWithCa({ caId: ca.id, message: digest, messageType: 'hash', algorithm, signature }), true, algorithm);
      }
    });
  }
});
