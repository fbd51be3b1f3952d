import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pkcs11js from 'pkcs11js';
import { isDomainError } from '../../../domain/errors.ts';
import type { Logger } from '../../../domain/ports/logger.ts';
import { needSoftHsm, pkcs11Module } from '../../../../test/support/services.ts';
import { rejectsWithCode, runKeyEngineContract, verifiesWith } from '../../../../test/support/key-engine-contract.ts';
import { Pkcs11KeyEngine } from './pkcs11-key-engine.ts';
import { acquirePkcs11Module, type SharedPkcs11Module } from './pkcs11-module.ts';
import { createSoftHsmToken, type SoftHsmToken } from '../../../../test/support/softhsm-test-token.ts';

/** Keeps every log line, to see recoveries happen and to look for the PIN in them. */
function recordingLogger(lines: string[]): Logger {
  const log = (obj: object | string, msg?: string) => lines.push(`${JSON.stringify(obj)} ${msg ?? ''}`);
  const logger: Logger = { debug: log, info: log, warn: log, error: log, child: () => logger };
  return logger;
}

if (await needSoftHsm()) {
  runKeyEngineContract('pkcs11 (SoftHSM2)', async () => {
    const token = await createSoftHsmToken();
    return {
      engine: await Pkcs11KeyEngine.open(token.config()),
      reopen: () => Pkcs11KeyEngine.open(token.config()),
      cleanup: () => token.remove(),
    };
  });

  describe('Pkcs11KeyEngine on SoftHSM2', () => {
    let token: SoftHsmToken;
    // Never logged in by an engine: a login is per application and token, so a wrong PIN only
    // shows on a token this process has not logged in to yet.
    let untouched: SoftHsmToken;
    let engine: Pkcs11KeyEngine;
    // The test's own handle on the library, to act behind the engine's back.
    let module: SharedPkcs11Module;
    let p11: pkcs11js.PKCS11;
    let slot: pkcs11js.Handle;
    const logLines: string[] = [];

    before(async () => {
      // Tokens first: SoftHSM sees only the tokens that exist when the library is initialised.
      token = await createSoftHsmToken();
      untouched = await createSoftHsmToken();
      engine = await Pkcs11KeyEngine.open(token.config({ poolSize: 3 }), { logger: recordingLogger(logLines) });
      module = acquirePkcs11Module(pkcs11Module());
      p11 = module.pkcs11;
      slot = p11.C_GetSlotList(true).find((s) => p11.C_GetTokenInfo(s).label.trimEnd() === token.label)!;
    });
    after(async () => {
      await engine?.close();
      module?.release();
      await token?.remove();
      await untouched?.remove();
    });

    const withOwnSession = <T>(fn: (s: pkcs11js.Handle) => T): T => {
      const s = p11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
      try {
        return fn(s);
      } finally {
        p11.C_CloseSession(s);
      }
    };

    const signsVerifiably = async (keyId: string, spki: Uint8Array, type: 'RSA' | 'ECDSA' | 'ED25519') => {
      const data = Buffer.from(`message ${Math.random()}`);
      assert.ok(verifiesWith(spki, type, data, await engine.sign({ keyId, data })));
    };

    it('derives its capabilities from the token: no export, import allowed, Ed25519 where offered', () => {
      const caps = engine.capabilities();
      assert.equal(caps.exportable, false);
      assert.equal(caps.importable, true);
      assert.deepEqual(caps.keyTypes.find((k) => k.type === 'RSA')?.sizes, [2048, 3072, 4096]);
      assert.deepEqual(caps.keyTypes.find((k) => k.type === 'ECDSA')?.sizes, [256, 384, 521]);
      const edwards = p11.C_GetMechanismList(slot).includes(0x1055);
      assert.equal(caps.keyTypes.some((k) => k.type === 'ED25519'), edwards);
    });

    it('stores private keys sensitive, non-extractable, private and on the token, both objects named by id', async () => {
      const key = await engine.createKey({ spec: { type: 'ECDSA', bits: 256 }, label: 'ca key' });
      // The engine's login is the application's: this session sees private objects too.
      withOwnSession((s) => {
        p11.C_FindObjectsInit(s, [{ type: pkcs11js.CKA_ID, value: Buffer.from(key.id, 'hex') }]);
        const objects = p11.C_FindObjects(s, 10);
        p11.C_FindObjectsFinal(s);
        assert.equal(objects.length, 2, 'one public and one private object carry the id');
        const classes = [];
        for (const o of objects) {
          const [cls, label] = p11.C_GetAttributeValue(s, o, [{ type: pkcs11js.CKA_CLASS }, { type: pkcs11js.CKA_LABEL }]);
          assert.equal(label.value!.toString(), 'ca key');
          classes.push((cls.value as Buffer).readUInt32LE(0));
          if (classes.at(-1) !== pkcs11js.CKO_PRIVATE_KEY) continue;
          const attrs = p11.C_GetAttributeValue(s, o, [
            { type: pkcs11js.CKA_TOKEN },
            { type: pkcs11js.CKA_PRIVATE },
            { type: pkcs11js.CKA_SENSITIVE },
            { type: pkcs11js.CKA_EXTRACTABLE },
          ]);
          assert.deepEqual(attrs.map((a) => (a.value as Buffer)[0]), [1, 1, 1, 0]);
        }
        assert.deepEqual(classes.sort(), [pkcs11js.CKO_PUBLIC_KEY, pkcs11js.CKO_PRIVATE_KEY].sort());
      });
    });

    it('recovers when another application closes all sessions of the token', async () => {
      const key = await engine.createKey({ spec: { type: 'ECDSA', bits: 256 } });
      await signsVerifiably(key.id, key.publicKeySpki, 'ECDSA');
      const before = logLines.length;
      p11.C_CloseAllSessions(slot);
      await signsVerifiably(key.id, key.publicKeySpki, 'ECDSA');
      assert.ok(logLines.length > before, 'the lost session was not noticed and reopened');
      // Every pooled session was dead: parallel signatures must all recover too.
      p11.C_CloseAllSessions(slot);
      await Promise.all(Array.from({ length: 6 }, () => signsVerifiably(key.id, key.publicKeySpki, 'ECDSA')));
      assert.equal((await engine.health()).ok, true);
    });

    it('recovers when the token is logged out behind its back', async () => {
      const key = await engine.createKey({ spec: { type: 'RSA', bits: 2048 } });
      await signsVerifiably(key.id, key.publicKeySpki, 'RSA');
      const before = logLines.length;
      withOwnSession((s) => p11.C_Logout(s));
      await signsVerifiably(key.id, key.publicKeySpki, 'RSA');
      assert.ok(logLines.length > before, 'the lost login was not noticed and redone');
      assert.ok(!logLines.some((l) => l.includes(token.pin)), 'the PIN reached the log');
    });

    it('recovers a logout before the key handle was ever cached', async () => {
      const key = await engine.createKey({ spec: { type: 'ECDSA', bits: 384 } });
      const fresh = await Pkcs11KeyEngine.open(token.config({ id: 'fresh', poolSize: 1 }));
      try {
        withOwnSession((s) => p11.C_Logout(s));
        const data = Buffer.from('after logout');
        assert.ok(verifiesWith(key.publicKeySpki, 'ECDSA', data, await fresh.sign({ keyId: key.id, data })));
      } finally {
        await fresh.close();
      }
    });

    it('keeps the library initialised for other engines when one engine closes', async () => {
      const key = await engine.createKey({ spec: { type: 'ECDSA', bits: 256 } });
      const second = await Pkcs11KeyEngine.open(token.config({ id: 'second' }));
      await second.close();
      await signsVerifiably(key.id, key.publicKeySpki, 'ECDSA');
      await rejectsWithCode(second.sign({ keyId: key.id, data: Buffer.from('x') }), 'KEY_ENGINE_UNAVAILABLE', 'unavailable');
      assert.equal((await second.health()).ok, false);
    });

    it('fails login with a stable code and never shows the PIN', async () => {
      const wrongPin = 'wrong-pin-73519';
      await assert.rejects(Pkcs11KeyEngine.open(untouched.config({ pin: wrongPin })), (e: unknown) => {
        assert.ok(isDomainError(e));
        assert.equal(e.code, 'KEY_ENGINE_AUTH_FAILED');
        assert.equal(e.kind, 'unavailable');
        const shown = `${e.message} ${e.stack} ${JSON.stringify(e.details)} ${JSON.stringify(e)}`;
        assert.ok(!shown.includes(wrongPin), 'the PIN leaked into the error');
        return true;
      });
      // The failed attempt left the token usable with the right PIN.
      const right = await Pkcs11KeyEngine.open(untouched.config());
      assert.equal((await right.health()).ok, true);
      await right.close();
    });

    it('reports an unknown token label as KEY_ENGINE_UNAVAILABLE', async () => {
      await rejectsWithCode(
        Pkcs11KeyEngine.open(token.config({ tokenLabel: 'no-such-token' })),
        'KEY_ENGINE_UNAVAILABLE',
        'unavailable',
      );
    });

    it('reports a PKCS#11 library that cannot be loaded as KEY_ENGINE_UNAVAILABLE', async () => {
      await rejectsWithCode(
        Pkcs11KeyEngine.open(token.config({ module: '/nonexistent/libpkcs11.so' })),
        'KEY_ENGINE_UNAVAILABLE',
        'unavailable',
      );
    });

    it('refuses an invalid configuration before touching the library', async () => {
      await rejectsWithCode(Pkcs11KeyEngine.open(token.config({ poolSize: 0 })), 'KEY_ENGINE_CONFIG_INVALID', 'invalid');
      await rejectsWithCode(Pkcs11KeyEngine.open(token.config({ pin: '' })), 'KEY_ENGINE_CONFIG_INVALID', 'invalid');
    });

    it('notices a key deleted by another engine on the same token', async () => {
      const key = await engine.createKey({ spec: { type: 'ECDSA', bits: 256 } });
      await signsVerifiably(key.id, key.publicKeySpki, 'ECDSA');
      const other = await Pkcs11KeyEngine.open(token.config({ id: 'other-replica' }));
      try {
        await other.deleteKey(key.id);
      } finally {
        await other.close();
      }
      await rejectsWithCode(engine.sign({ keyId: key.id, data: Buffer.from('x') }), 'KEY_NOT_FOUND', 'not_found');
      await rejectsWithCode(engine.getKey(key.id), 'KEY_NOT_FOUND', 'not_found');
    });

    it('imports the same PKCS#8 key twice as one key', async () => {
      const { generateKeyPairSync } = await import('node:crypto');
      const pkcs8 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ format: 'der', type: 'pkcs8' });
      const a = await engine.importKey({ pkcs8 });
      const b = await engine.importKey({ pkcs8 });
      assert.equal(a.id, b.id);
      assert.equal((await engine.listKeys()).filter((k) => k.id === a.id).length, 1);
      await signsVerifiably(a.id, a.publicKeySpki, 'ECDSA');
    });

    // Last of this block: it changes the PIN of the `untouched` token.
    it('stops logging in once the token refuses the PIN while running (HSMs lock a PIN after a few wrong tries)', async () => {
      const lines: string[] = [];
      const changed = await Pkcs11KeyEngine.open(untouched.config({ id: 'pin-changed' }), { logger: recordingLogger(lines) });
      const original = p11.C_Login;
      let logins = 0;
      try {
        const key = await changed.createKey({ spec: { type: 'ECDSA', bits: 256 } });
        const data = Buffer.from('before the PIN changes');
        assert.ok(verifiesWith(key.publicKeySpki, 'ECDSA', data, await changed.sign({ keyId: key.id, data })));
        // Someone changes the user PIN on the token and logs this application out.
        const theirSlot = p11.C_GetSlotList(true).find((s) => p11.C_GetTokenInfo(s).label.trimEnd() === untouched.label)!;
        const s = p11.C_OpenSession(theirSlot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
        try {
          p11.C_SetPIN(s, untouched.pin, `${untouched.pin}-new`);
          p11.C_Logout(s);
        } finally {
          p11.C_CloseSession(s);
        }
        p11.C_Login = function (this: pkcs11js.PKCS11, ...args: Parameters<pkcs11js.PKCS11['C_Login']>) {
          logins++;
          return original.apply(this, args);
        };
        await rejectsWithCode(changed.sign({ keyId: key.id, data }), 'KEY_ENGINE_AUTH_FAILED', 'unavailable');
        const afterRefusal = logins;
        assert.ok(afterRefusal >= 1, 'the engine never tried to log in again');
        for (let i = 0; i < 5; i++) await rejectsWithCode(changed.sign({ keyId: key.id, data }), 'KEY_ENGINE_AUTH_FAILED', 'unavailable');
        assert.equal((await changed.health()).ok, false);
        assert.equal(logins, afterRefusal, 'the engine kept offering the refused PIN to the token');
        assert.equal(lines.filter((l) => l.includes('refused the PIN')).length, 1, lines.join('\n'));
        assert.ok(!lines.some((l) => l.includes(untouched.pin)), 'the PIN reached the log');
      } finally {
        p11.C_Login = original;
        await changed.close();
      }
    });
  });
}
