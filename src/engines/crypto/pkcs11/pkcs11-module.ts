/**
 * One loaded, initialised PKCS#11 library per module path and process. C_Initialize is
 * process-wide state in the library, so every engine (and test) sharing a path shares one
 * instance; the last one to let go calls C_Finalize.
 *
 * Some libraries (SoftHSM2 among them) stay broken after their token went away and came back
 * until they are finalised and initialised again. `reinitialize()` does that without pulling
 * the library out from under a call in flight: calls run inside `use()`, and a
 * reinitialisation waits for them to finish and holds new ones back until it is done.
 */
import pkcs11js from 'pkcs11js';

export interface SharedPkcs11Module {
  readonly pkcs11: pkcs11js.PKCS11;
  /**
   * Counts reinitialisations: sessions, logins and object handles of an earlier epoch are
   * gone (and their handle numbers may be reused).
   */
  readonly epoch: number;
  /** Runs `fn` while no reinitialisation runs; waits for one in progress first. */
  use<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * C_Finalize + C_Initialize once no call is in flight. Callers arriving while one runs share
   * it. Throws when C_Initialize fails (the library is then left uninitialised; try again later).
   */
  reinitialize(): Promise<void>;
  /** Drops this holder's reference; C_Finalize runs when it was the last one. */
  release(): void;
}

interface Entry {
  pkcs11: pkcs11js.PKCS11;
  refs: number;
  epoch: number;
  /** Calls inside use() right now. */
  active: number;
  /** Set while a reinitialisation waits or runs. */
  reinitializing?: Promise<void>;
  /** Wakes the waiting reinitialisation when the last call in flight ends. */
  idle?: () => void;
}

const loaded = new Map<string, Entry>();

function initialize(pkcs11: pkcs11js.PKCS11): void {
  try {
    // OS locking: the pool calls into the library from several libuv threads at once.
    pkcs11.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  } catch (e) {
    if ((e as { code?: number }).code !== pkcs11js.CKR_CRYPTOKI_ALREADY_INITIALIZED) throw e;
  }
}

async function use<T>(entry: Entry, fn: () => Promise<T>): Promise<T> {
  while (entry.reinitializing) await entry.reinitializing.catch(() => undefined);
  entry.active++;
  try {
    return await fn();
  } finally {
    if (--entry.active === 0) entry.idle?.();
  }
}

function reinitialize(entry: Entry): Promise<void> {
  entry.reinitializing ??= (async () => {
    if (entry.active > 0) await new Promise<void>((resolve) => (entry.idle = resolve));
    entry.idle = undefined;
    // Sessions die with C_Finalize whatever C_Initialize does next.
    entry.epoch++;
    try {
      entry.pkcs11.C_Finalize();
    } catch {
      // Not initialised (an earlier C_Initialize failed): nothing to finalise.
    }
    initialize(entry.pkcs11);
  })().finally(() => (entry.reinitializing = undefined));
  return entry.reinitializing;
}

export function acquirePkcs11Module(modulePath: string): SharedPkcs11Module {
  let entry = loaded.get(modulePath);
  if (!entry) {
    const pkcs11 = new pkcs11js.PKCS11();
    pkcs11.load(modulePath);
    try {
      initialize(pkcs11);
    } catch (e) {
      pkcs11.close();
      throw e;
    }
    entry = { pkcs11, refs: 0, epoch: 0, active: 0 };
    loaded.set(modulePath, entry);
  }
  entry.refs++;
  const held = entry;
  let released = false;
  return {
    pkcs11: held.pkcs11,
    get epoch() {
      return held.epoch;
    },
    use: (fn) => use(held, fn),
    reinitialize: () => reinitialize(held),
    release() {
      if (released) return;
      released = true;
      if (--held.refs > 0) return;
      loaded.delete(modulePath);
      try {
        held.pkcs11.C_Finalize();
      } catch {
        // Left uninitialised by a failed reinitialisation: nothing to finalise.
      } finally {
        held.pkcs11.close();
      }
    },
  };
}
