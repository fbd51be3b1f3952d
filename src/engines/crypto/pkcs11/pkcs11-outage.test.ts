/**
 * A token that vanishes and comes back (its SoftHSM2 directory moved away and back), with a second
 * engine on another token of the same library: the first fails fast while away and recovers on its
 * own after the library is reinitialised; the second keeps signing through that reinitialisation.
 * In a file of its own: reinitialising the library touches every user of it in the process.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPublicKey, verify } from 'node:crypto';
import { isDomainError } from '../../../domain/errors.ts';
import type { KeyInfo } from '../../../domain/ports/key-engine.ts';
import type { Logger } from '../../../domain/ports/logger.ts';
import { needSoftHsm } from '../../../../test/support/services.ts';
import { createSoftHsmToken, type SoftHsmToken } from '../../../../test/support/softhsm-test-token.ts';
import { Pkcs11KeyEngine } from './pkcs11-key-engine.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function recordingLogger(lines: string[]): Logger {
  const log = (obj: object | string, msg?: string) => lines.push(`${JSON.stringify(obj)} ${msg ?? ''}`);
  const logger: Logger = { debug: log, info: log, warn: log, error: log, child: () => logger };
  return logger;
}

if (await needSoftHsm()) {
  describe('Pkcs11KeyEngine when its token goes away and comes back', () => {
    let lost: SoftHsmToken;
    let steady: SoftHsmToken;
    let lostEngine: Pkcs11KeyEngine;
    let steadyEngine: Pkcs11KeyEngine;
    let lostKey: KeyInfo;
    let steadyKey: KeyInfo;
    const logLines: string[] = [];

    before(async () => {
      lost = await createSoftHsmToken();
      steady = await createSoftHsmToken();
      lostEngine = await Pkcs11KeyEngine.open(lost.config({ poolSize: 2 }), { logger: recordingLogger(logLines) });
      steadyEngine = await Pkcs11KeyEngine.open(steady.config({ poolSize: 2 }));
      lostKey = await lostEngine.createKey({ spec: { type: 'ECDSA', bits: 256 } });
      steadyKey = await steadyEngine.createKey({ spec: { type: 'ECDSA', bits: 256 } });
    });
    after(async () => {
      lost?.putBack();
      await lostEngine?.close();
      await steadyEngine?.close();
      await lost?.remove();
      await steady?.remove();
    });

    const message = new TextEncoder().encode('outage');
    const sign = (engine: Pkcs11KeyEngine, key: KeyInfo) => engine.sign({ keyId: key.id, data: message });
    const verifies = (key: KeyInfo, signature: Uint8Array) =>
      verify('sha256', message, createPublicKey({ key: Buffer.from(key.publicKeySpki), format: 'der', type: 'spki' }), signature);

    it('fails fast with KEY_ENGINE_UNAVAILABLE while away, recovers within 5 s of the return, and the other token never stops', async () => {
      assert.ok(verifies(lostKey, await sign(lostEngine, lostKey)));
      lost.takeAway();

      const failure = await sign(lostEngine, lostKey).then(
        () => assert.fail('signed without its token'),
        (e: unknown) => e,
      );
      assert.ok(isDomainError(failure) && failure.code === 'KEY_ENGINE_UNAVAILABLE', String(failure));
      assert.equal((await lostEngine.health()).ok, false);
      // While away: every call answers at once, without waiting on the library.
      const started = performance.now();
      for (let i = 0; i < 20; i++) await assert.rejects(sign(lostEngine, lostKey), { code: 'KEY_ENGINE_UNAVAILABLE' });
      assert.ok(performance.now() - started < 500, 'fails fast');
      // The other engine signs right through the reinitialisations of the shared library.
      for (let i = 0; i < 20; i++) {
        assert.ok(verifies(steadyKey, await sign(steadyEngine, steadyKey)));
        await sleep(50);
      }

      const backAt = Date.now();
      lost.putBack();
      for (;;) {
        const signature = await sign(lostEngine, lostKey).catch(() => undefined);
        if (signature) {
          assert.ok(verifies(lostKey, signature));
          break;
        }
        assert.ok(Date.now() - backAt < 5000, 'signing again within 5 s of the return');
        await sleep(100);
      }
      assert.equal((await lostEngine.health()).ok, true);
      assert.ok(verifies(steadyKey, await sign(steadyEngine, steadyKey)));
      assert.ok(logLines.some((l) => l.includes('PKCS#11 token lost')));
      assert.ok(logLines.some((l) => l.includes('PKCS#11 token back')));
      assert.ok(!logLines.some((l) => l.includes(lost.pin)), 'the PIN is never logged');
    });

    it('close() during an outage returns promptly and stops the recovery loop', async () => {
      lost.takeAway();
      await assert.rejects(sign(lostEngine, lostKey), { code: 'KEY_ENGINE_UNAVAILABLE' });
      const started = performance.now();
      await lostEngine.close();
      assert.ok(performance.now() - started < 3000);
      await assert.rejects(sign(lostEngine, lostKey), { code: 'KEY_ENGINE_UNAVAILABLE' });
      lost.putBack();
      // The steady engine still works after the closed engine's last reinitialisation.
      assert.ok(verifies(steadyKey, await sign(steadyEngine, steadyKey)));
    });
  });
}
