/**
 * One loaded, initialised PKCS#11 library per module path and process. C_Initialize is
 * process-wide state in the library, so every engine (and test) sharing a path shares one
 * instance; the last one to let go calls C_Finalize.
 */
import pkcs11js from 'pkcs11js';

export interface SharedPkcs11Module {
  readonly pkcs11: pkcs11js.PKCS11;
  /** Drops this holder's reference; C_Finalize runs when it was the last one. */
  release(): void;
}

interface Entry {
  pkcs11: pkcs11js.PKCS11;
  refs: number;
}

const loaded = new Map<string, Entry>();

export function acquirePkcs11Module(modulePath: string): SharedPkcs11Module {
  let entry = loaded.get(modulePath);
  if (!entry) {
    const pkcs11 = new pkcs11js.PKCS11();
    pkcs11.load(modulePath);
    try {
      // OS locking: the pool calls into the library from several libuv threads at once.
      pkcs11.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
    } catch (e) {
      if ((e as { code?: number }).code !== pkcs11js.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
        pkcs11.close();
        throw e;
      }
    }
    entry = { pkcs11, refs: 0 };
    loaded.set(modulePath, entry);
  }
  entry.refs++;
  const held = entry;
  let released = false;
  return {
    pkcs11: held.pkcs11,
    release() {
      if (released) return;
      released = true;
      if (--held.refs > 0) return;
      loaded.delete(modulePath);
      try {
        held.pkcs11.C_Finalize();
      } finally {
        held.pkcs11.close();
      }
    },
  };
}
