/**
 * KeyEngine over a PKCS#11 token (an HSM; SoftHSM2 in tests). Signatures run on a pool of
 * sessions through pkcs11js's asynchronous C_Sign, which works on the libuv threadpool, so
 * several signatures proceed in parallel and the event loop stays free. A session, a login or
 * object handles lost behind the engine's back (token reinserted, sessions closed by another
 * application) are recovered once per operation, without a restart. A token that is gone (removed,
 * its files moved away) puts the engine into an outage: operations fail fast with
 * KEY_ENGINE_UNAVAILABLE while a background loop reinitialises the library with back-off, finds the
 * token by label again (its slot may have changed), logs in, and ends the outage.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import { DomainError } from '../../../domain/errors.ts';
import type {
  CreateKeyRequest,
  ImportKeyRequest,
  KeyEngine,
  KeyEngineCapabilities,
  KeyEngineHealth,
  KeyInfo,
  KeySpec,
  KeyType,
  SignRequest,
} from '../../../domain/ports/key-engine.ts';
import { silentLogger, type Logger } from '../../../domain/ports/logger.ts';
import {
  keyEngineUnavailable,
  keyExportUnsupported,
  keyInvalid,
  keyNotFound,
  keyTypeUnsupported,
} from '../key-errors.ts';
import { generationTemplates, importTemplates } from './key-templates.ts';
import { CKK_EC_EDWARDS, CKM_EC_EDWARDS_KEY_PAIR_GEN, CKM_EDDSA, signPlan } from './mechanisms.ts';
import { ckrCode, ckrName, isPinRefused, isRecoverable, isTokenLost, NotLoggedInError, TokenNotFoundError, toDomainError } from './pkcs11-errors.ts';
import { acquirePkcs11Module, type SharedPkcs11Module } from './pkcs11-module.ts';
import { curveByParams, ecSpki, keyIdOf, modulusBits, rsaSpki, unwrapEcPoint } from './public-key.ts';
import { SessionPool } from './session-pool.ts';

export interface Pkcs11KeyEngineConfig {
  type: 'pkcs11';
  id: string;
  /** Path of the PKCS#11 library (seed: PKCS11_DRIVER). */
  module: string;
  /** Token label (seed: PKCS11_LABEL). */
  tokenLabel: string;
  /** User PIN (seed: PKCS11_PIN). */
  pin: string;
  /** Concurrent sessions; default 4. */
  poolSize?: number;
}

export interface Pkcs11KeyEngineOptions {
  logger?: Logger;
}

type Session = pkcs11js.Handle;

const DEFAULT_POOL_SIZE = 4;
const KEY_ID = /^[0-9a-f]{64}$/;
// CKS_* session states in which the user is logged in (pkcs11js exports no CKS_ constants).
const CKS_RO_USER_FUNCTIONS = 1;
const CKS_RW_USER_FUNCTIONS = 3;
/** Back-off of the recovery loop: first attempt soon, then no more than one every 2 s. */
const RECOVERY_FIRST_DELAY_MS = 250;
const RECOVERY_MAX_DELAY_MS = 2000;

interface Outage {
  since: Date;
  /** What failed, for logs and /health: a CKR name or the engine's own message. */
  reason: string;
  attempts: number;
  timer?: NodeJS.Timeout;
}

/** The start-up settings a failure to open points at (the config error names it). */
type Pkcs11Setting = 'module' | 'tokenLabel' | 'pin';
const SETTING_NAMES: Record<Pkcs11Setting, string> = {
  module: 'PKCS11_DRIVER (YAML pkcs11.driver or key_engines[].driver)',
  tokenLabel: 'PKCS11_LABEL (YAML pkcs11.label or key_engines[].label)',
  pin: 'PKCS11_PIN (YAML pkcs11.pin or key_engines[].pin)',
};

export class Pkcs11KeyEngine implements KeyEngine {
  readonly kind = 'pkcs11';
  readonly id: string;
  readonly #pin: string;
  /**
   * What the token answered when it refused the PIN while running. From then on no login is tried until a
   * restart: HSMs lock a PIN after a few wrong tries, and every request (and the recovery loop) would be one.
   */
  #pinRefused: unknown;
  readonly #module: SharedPkcs11Module;
  readonly #pkcs11: pkcs11js.PKCS11;
  readonly #label: string;
  readonly #logger: Logger;
  readonly #pool: SessionPool<Session>;
  /** Slot of the token, found by label; null after a failure so the next session looks again. */
  #slot: pkcs11js.Handle | null = null;
  #mechanisms: ReadonlySet<number> = new Set();
  #capabilities: KeyEngineCapabilities = { keyTypes: [], importable: true, exportable: false };
  /** Private key handles by key id: valid in every session of this application until recovery. */
  readonly #handles = new Map<string, pkcs11js.Handle>();
  /** Public facts of a key never change, so they are kept until the key is deleted. */
  readonly #infos = new Map<string, KeyInfo>();
  #closed = false;
  /** Set once open() succeeded: failures before that are start-up errors, not outages. */
  #opened = false;
  /** Module epoch the sessions of this engine belong to. */
  #epoch: number;
  /** Sessions opened in #epoch: only those may be closed (older handle numbers may be reused). */
  readonly #live = new Set<Session>();
  #outage: Outage | undefined;
  /** The recovery attempt running now, awaited by close(). */
  #recovering: Promise<void> | undefined;

  /** Loads the library, finds the token and logs in, so a bad PIN or label fails here. */
  static async open(config: Pkcs11KeyEngineConfig, options: Pkcs11KeyEngineOptions = {}): Promise<Pkcs11KeyEngine> {
    validateConfig(config);
    let module: SharedPkcs11Module;
    try {
      module = acquirePkcs11Module(config.module);
    } catch (e) {
      throw startError(toDomainError(e, config.id, `loading of ${config.module}`), 'module');
    }
    const engine = new Pkcs11KeyEngine(config, module, options.logger ?? silentLogger);
    try {
      await engine.#run('open', (session) => engine.#probe(session));
      engine.#opened = true;
      return engine;
    } catch (e) {
      await engine.close();
      const error = toDomainError(e, config.id, 'open');
      if (error.details?.tokenMissing) throw startError(error, 'tokenLabel');
      if (error.code === 'KEY_ENGINE_AUTH_FAILED') throw startError(error, 'pin');
      throw error;
    }
  }

  private constructor(config: Pkcs11KeyEngineConfig, module: SharedPkcs11Module, logger: Logger) {
    this.id = config.id;
    this.#pin = config.pin;
    this.#label = config.tokenLabel;
    this.#module = module;
    this.#pkcs11 = module.pkcs11;
    this.#epoch = module.epoch;
    this.#logger = logger.child({ keyEngine: config.id });
    this.#pool = new SessionPool<Session>(
      { open: () => this.#openSession(), close: (s) => this.#closeSession(s) },
      config.poolSize ?? DEFAULT_POOL_SIZE,
    );
  }

  capabilities(): KeyEngineCapabilities {
    return { ...this.#capabilities, keyTypes: this.#capabilities.keyTypes.map((k) => ({ ...k, sizes: [...k.sizes] })) };
  }

  async createKey(req: CreateKeyRequest): Promise<KeyInfo> {
    this.#checkSpec(req.spec);
    const templates = generationTemplates(req.spec);
    const info = await this.#run('createKey', async (session) => {
      const pair = await this.#pkcs11.C_GenerateKeyPairAsync(
        session,
        templates.mechanism,
        templates.publicKey,
        templates.privateKey,
      );
      try {
        const info = this.#readPublicKey(session, pair.publicKey);
        if (!info) throw new Error('the token returned a public key it cannot describe');
        const named: pkcs11js.Template = [
          { type: pkcs11js.CKA_ID, value: Buffer.from(info.id, 'hex') },
          { type: pkcs11js.CKA_LABEL, value: req.label ?? info.id },
        ];
        this.#pkcs11.C_SetAttributeValue(session, pair.publicKey, named);
        this.#pkcs11.C_SetAttributeValue(session, pair.privateKey, named);
        this.#handles.set(info.id, pair.privateKey);
        return info;
      } catch (e) {
        // A pair without its id could never be found again: do not leave it behind.
        this.#destroyQuietly(session, [pair.publicKey, pair.privateKey]);
        throw e;
      }
    });
    this.#infos.set(info.id, info);
    return info;
  }

  async importKey(req: ImportKeyRequest): Promise<KeyInfo> {
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: Buffer.from(req.pkcs8), format: 'der', type: 'pkcs8' });
    } catch {
      throw keyInvalid(this.id, 'not an unencrypted PKCS#8 private key');
    }
    const templates = importTemplates(key);
    if (!templates) throw keyTypeUnsupported(this.id, { type: key.asymmetricKeyType?.toUpperCase() as KeyType });
    this.#checkSpec(templates.spec);
    const spki = new Uint8Array(createPublicKey(key).export({ type: 'spki', format: 'der' }));
    const info: KeyInfo = { id: keyIdOf(spki), engineId: this.id, ...templates.spec, publicKeySpki: spki };
    const named: pkcs11js.Template = [
      { type: pkcs11js.CKA_ID, value: Buffer.from(info.id, 'hex') },
      { type: pkcs11js.CKA_LABEL, value: req.label ?? info.id },
    ];
    await this.#run('importKey', (session) => {
      // Importing the same key twice is a no-op: its id is the same.
      if (this.#findOne(session, pkcs11js.CKO_PRIVATE_KEY, info.id)) return;
      const privateKey = this.#pkcs11.C_CreateObject(session, [...templates.privateKey, ...named]);
      try {
        if (!this.#findOne(session, pkcs11js.CKO_PUBLIC_KEY, info.id)) {
          this.#pkcs11.C_CreateObject(session, [...templates.publicKey, ...named]);
        }
      } catch (e) {
        this.#destroyQuietly(session, [privateKey]);
        throw e;
      }
      this.#handles.set(info.id, privateKey);
    });
    this.#infos.set(info.id, info);
    return info;
  }

  async getKey(keyId: string): Promise<KeyInfo> {
    const cached = this.#infos.get(keyId);
    if (cached) return cached;
    if (!KEY_ID.test(keyId)) throw keyNotFound(this.id, keyId);
    const info = await this.#run('getKey', (session) => {
      const handle = this.#findOne(session, pkcs11js.CKO_PUBLIC_KEY, keyId);
      const info = handle && this.#readPublicKey(session, handle);
      if (!info || info.id !== keyId) throw keyNotFound(this.id, keyId);
      return info;
    });
    this.#infos.set(keyId, info);
    return info;
  }

  async listKeys(): Promise<KeyInfo[]> {
    return this.#run('listKeys', (session) => {
      const keys: KeyInfo[] = [];
      for (const handle of this.#findAll(session, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY }])) {
        const [idAttr] = this.#pkcs11.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_ID }]);
        const id = (idAttr.value as Buffer).toString('hex');
        if (!KEY_ID.test(id)) continue;
        const info = this.#infos.get(id) ?? this.#readPublicKey(session, handle);
        // Objects this engine did not name (other applications' keys) cannot be addressed by id.
        if (info?.id !== id) continue;
        this.#infos.set(id, info);
        keys.push(info);
      }
      return keys.sort((a, b) => a.id.localeCompare(b.id));
    });
  }

  async sign(req: SignRequest): Promise<Uint8Array> {
    const key = await this.getKey(req.keyId);
    const plan = signPlan(key, req, this.#mechanisms);
    return this.#run('sign', async (session) => {
      this.#pkcs11.C_SignInit(session, plan.mechanism, this.#privateKey(session, key.id));
      const raw = await this.#pkcs11.C_SignAsync(session, plan.input, Buffer.alloc(plan.outputLength));
      return plan.encode(raw);
    });
  }

  async deleteKey(keyId: string): Promise<void> {
    if (!KEY_ID.test(keyId)) throw keyNotFound(this.id, keyId);
    await this.#run('deleteKey', (session) => {
      const objects = this.#findAll(session, [{ type: pkcs11js.CKA_ID, value: Buffer.from(keyId, 'hex') }]);
      if (objects.length === 0) throw keyNotFound(this.id, keyId);
      for (const handle of objects) this.#pkcs11.C_DestroyObject(session, handle);
    });
    this.#infos.delete(keyId);
    this.#handles.delete(keyId);
  }

  async exportKey(_keyId: string): Promise<Uint8Array> {
    throw keyExportUnsupported(this.id);
  }

  async health(): Promise<KeyEngineHealth> {
    if (this.#outage) return { ok: false, detail: this.#outageError().message };
    try {
      const state = await this.#run('health', (session) => this.#pkcs11.C_GetSessionInfo(session).state);
      return { ok: true, detail: `token "${this.#label}", session state ${state}` };
    } catch (e) {
      return { ok: false, detail: toDomainError(e, this.id, 'health check').message };
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#outage?.timer);
    await this.#recovering;
    await this.#pool.close();
    this.#module.release();
  }

  /**
   * Runs `fn` on a pooled session. A failure a new session may cure gets one retry on a fresh
   * session (re-login, handles looked up again); anything else becomes a DomainError.
   */
  async #run<T>(operation: string, fn: (session: Session) => T | Promise<T>, recovery = false): Promise<T> {
    if (this.#closed) throw keyEngineUnavailable(this.id, 'closed');
    // During an outage only the recovery loop touches the library; everyone else fails fast.
    if (this.#outage && !recovery) throw this.#outageError();
    return this.#module.use(async () => {
      for (let attempt = 1; ; attempt++) {
        this.#followEpoch();
        let lease;
        try {
          lease = await this.#pool.acquire();
          const result = await fn(lease.session);
          this.#pool.release(lease);
          return result;
        } catch (e) {
          const retry = isRecoverable(e);
          if (lease) this.#pool.release(lease, retry);
          if (retry && attempt === 1) {
            if (!recovery) this.#logger.warn({ operation, ckr: ckrCode(e) }, 'PKCS#11 session lost; reopening and retrying once');
            this.#forgetSessions();
            continue;
          }
          // A fresh session did not help either, or the token is gone: only a reinitialisation may.
          if (this.#opened && !recovery && (retry || isTokenLost(e))) this.#startOutage(operation, e);
          throw toDomainError(e, this.id, operation);
        }
      }
    });
  }

  #forgetSessions(): void {
    this.#pool.invalidate();
    this.#handles.clear();
    this.#slot = null;
  }

  /** After a reinitialisation (by this engine or another on the same library) every session is gone. */
  #followEpoch(): void {
    if (this.#epoch === this.#module.epoch) return;
    this.#epoch = this.#module.epoch;
    this.#live.clear();
    this.#forgetSessions();
  }

  #outageError(): DomainError {
    const o = this.#outage!;
    return keyEngineUnavailable(
      this.id,
      `PKCS#11 token "${this.#label}" unavailable since ${o.since.toISOString()} (${o.reason}); reconnecting`,
    );
  }

  #startOutage(operation: string, e: unknown): void {
    if (this.#outage || this.#closed) return;
    const code = ckrCode(e);
    const reason = code !== undefined ? ckrName(code) : e instanceof Error ? e.message : String(e);
    this.#outage = { since: new Date(), reason, attempts: 0 };
    this.#logger.error(
      { operation, reason, token: this.#label },
      'PKCS#11 token lost: key operations answer KEY_ENGINE_UNAVAILABLE until it is back; reinitialising the library with back-off',
    );
    this.#scheduleRecovery();
  }

  #scheduleRecovery(): void {
    const outage = this.#outage;
    if (!outage || this.#closed) return;
    const delay = Math.min(RECOVERY_FIRST_DELAY_MS * 2 ** outage.attempts, RECOVERY_MAX_DELAY_MS);
    outage.timer = setTimeout(() => {
      this.#recovering = this.#recover(outage).finally(() => (this.#recovering = undefined));
    }, delay);
    // A recovering engine must not keep a stopping process alive.
    outage.timer.unref();
  }

  /** C_Finalize + C_Initialize, find the token by label, log in: the outage ends when all of it works. */
  async #recover(outage: Outage): Promise<void> {
    outage.attempts++;
    try {
      await this.#module.reinitialize();
      await this.#run('recover', (session) => this.#probe(session), true);
    } catch (e) {
      if (this.#closed) return;
      // The first failure and then one line a minute or so, not one per attempt.
      if (outage.attempts === 1 || outage.attempts % 30 === 0) {
        const code = ckrCode(e);
        this.#logger.warn(
          { attempts: outage.attempts, reason: code !== undefined ? ckrName(code) : e instanceof Error ? e.message.split('\n')[0] : String(e) },
          'PKCS#11 token still unavailable; retrying',
        );
      }
      this.#scheduleRecovery();
      return;
    }
    this.#outage = undefined;
    this.#logger.info(
      { token: this.#label, attempts: outage.attempts, downMs: Date.now() - outage.since.getTime() },
      'PKCS#11 token back: key operations resume',
    );
  }

  #openSession(): Session {
    const slot = this.#slot ?? this.#findSlot();
    const session = this.#pkcs11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    this.#live.add(session);
    try {
      this.#ensureLoggedIn(session);
    } catch (e) {
      this.#closeSession(session);
      throw e;
    }
    this.#slot = slot;
    return session;
  }

  #closeSession(session: Session): void {
    // A session of an earlier epoch died with C_Finalize; its handle number may belong to another now.
    if (!this.#live.delete(session)) return;
    try {
      this.#pkcs11.C_CloseSession(session);
    } catch {
      // Already gone (closed behind our back, token removed): nothing left to release.
    }
  }

  /** The login belongs to the token, not the session: one login serves every session. */
  #ensureLoggedIn(session: Session): void {
    const { state } = this.#pkcs11.C_GetSessionInfo(session);
    if (state === CKS_RO_USER_FUNCTIONS || state === CKS_RW_USER_FUNCTIONS) return;
    if (this.#pinRefused) throw this.#pinRefused;
    try {
      this.#pkcs11.C_Login(session, pkcs11js.CKU_USER, this.#pin);
    } catch (e) {
      if (ckrCode(e) === pkcs11js.CKR_USER_ALREADY_LOGGED_IN) return;
      if (this.#opened && isPinRefused(e)) {
        this.#pinRefused = e;
        this.#logger.error(
          { engineId: this.id, ckr: ckrName(ckrCode(e)!) },
          'PKCS#11 token refused the PIN: no further login attempts until a restart with the right PKCS11_PIN (each try counts towards locking the token)',
        );
      }
      throw e;
    }
  }

  #findSlot(): pkcs11js.Handle {
    for (const slot of this.#pkcs11.C_GetSlotList(true)) {
      if (this.#pkcs11.C_GetTokenInfo(slot).label.trimEnd() === this.#label) return slot;
    }
    throw new TokenNotFoundError(this.#label);
  }

  /** Capabilities come from what the token lists, not from what we expect of it. */
  #probe(session: Session): void {
    const slot = this.#pkcs11.C_GetSessionInfo(session).slotID;
    const mechanisms = new Set(this.#pkcs11.C_GetMechanismList(slot));
    const info = (m: number, flag: number) => {
      if (!mechanisms.has(m)) return undefined;
      const i = this.#pkcs11.C_GetMechanismInfo(slot, m);
      return i.flags & flag ? i : undefined;
    };
    const keyTypes: KeyEngineCapabilities['keyTypes'] = [];
    const offer = (type: KeyType, generator: number, signer: number, sizes: number[]) => {
      const gen = info(generator, pkcs11js.CKF_GENERATE_KEY_PAIR);
      if (!gen || !info(signer, pkcs11js.CKF_SIGN)) return;
      // SoftHSM states RSA sizes in bits and EC sizes in bits of the field; both compare directly.
      const fit = sizes.filter((bits) => bits >= gen.minKeySize && bits <= gen.maxKeySize);
      if (fit.length > 0) keyTypes.push({ type, sizes: fit });
    };
    offer('RSA', pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN, pkcs11js.CKM_SHA256_RSA_PKCS, [2048, 3072, 4096]);
    offer('ECDSA', pkcs11js.CKM_EC_KEY_PAIR_GEN, pkcs11js.CKM_ECDSA, [256, 384, 521]);
    offer('ED25519', CKM_EC_EDWARDS_KEY_PAIR_GEN, CKM_EDDSA, [256]);
    this.#mechanisms = mechanisms;
    this.#capabilities = { keyTypes, importable: true, exportable: false };
  }

  #checkSpec(spec: KeySpec): void {
    const offered = this.#capabilities.keyTypes.find((k) => k.type === spec?.type);
    if (!offered || !offered.sizes.includes(spec.bits)) throw keyTypeUnsupported(this.id, spec ?? {});
  }

  #privateKey(session: Session, keyId: string): pkcs11js.Handle {
    const cached = this.#handles.get(keyId);
    if (cached) return cached;
    const handle = this.#findOne(session, pkcs11js.CKO_PRIVATE_KEY, keyId);
    if (!handle) {
      // Private objects are invisible to a session that lost its login: that is not "no key".
      const { state } = this.#pkcs11.C_GetSessionInfo(session);
      if (state !== CKS_RO_USER_FUNCTIONS && state !== CKS_RW_USER_FUNCTIONS) throw new NotLoggedInError();
      // Deleted elsewhere (another replica on the same token): forget what we knew of it.
      this.#infos.delete(keyId);
      throw keyNotFound(this.id, keyId);
    }
    this.#handles.set(keyId, handle);
    return handle;
  }

  #findOne(session: Session, objectClass: number, keyId: string): pkcs11js.Handle | null {
    const [handle] = this.#findAll(
      session,
      [
        { type: pkcs11js.CKA_CLASS, value: objectClass },
        { type: pkcs11js.CKA_ID, value: Buffer.from(keyId, 'hex') },
      ],
      1,
    );
    return handle ?? null;
  }

  #findAll(session: Session, template: pkcs11js.Template, limit = Infinity): pkcs11js.Handle[] {
    this.#pkcs11.C_FindObjectsInit(session, template);
    try {
      const found: pkcs11js.Handle[] = [];
      while (found.length < limit) {
        const batch = this.#pkcs11.C_FindObjects(session, Math.min(64, limit - found.length));
        if (batch.length === 0) break;
        found.push(...batch);
      }
      return found;
    } finally {
      this.#pkcs11.C_FindObjectsFinal(session);
    }
  }

  /** KeyInfo from a public key object; undefined for key types this engine does not handle. */
  #readPublicKey(session: Session, handle: pkcs11js.Handle): KeyInfo | undefined {
    const [keyType] = this.#pkcs11.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_KEY_TYPE }]);
    const type = readUlong(keyType.value as Buffer);
    if (type === pkcs11js.CKK_RSA) {
      const [modulus, exponent] = this.#pkcs11.C_GetAttributeValue(session, handle, [
        { type: pkcs11js.CKA_MODULUS },
        { type: pkcs11js.CKA_PUBLIC_EXPONENT },
      ]);
      const spki = rsaSpki(modulus.value as Buffer, exponent.value as Buffer);
      return { id: keyIdOf(spki), engineId: this.id, type: 'RSA', bits: modulusBits(modulus.value as Buffer), publicKeySpki: spki };
    }
    if (type !== pkcs11js.CKK_EC && type !== CKK_EC_EDWARDS) return undefined;
    const [params, point] = this.#pkcs11.C_GetAttributeValue(session, handle, [
      { type: pkcs11js.CKA_EC_PARAMS },
      { type: pkcs11js.CKA_EC_POINT },
    ]);
    const curve = curveByParams(params.value as Buffer);
    if (!curve) return undefined;
    const spki = ecSpki(curve, unwrapEcPoint(point.value as Buffer));
    return { id: keyIdOf(spki), engineId: this.id, type: curve.type, bits: curve.bits, publicKeySpki: spki };
  }

  #destroyQuietly(session: Session, handles: pkcs11js.Handle[]): void {
    for (const handle of handles) {
      try {
        this.#pkcs11.C_DestroyObject(session, handle);
      } catch {
        // Best effort cleanup after a failure that is reported anyway.
      }
    }
  }
}

/** Same as Pkcs11KeyEngine.open; the shape the engine registry calls. */
export const createPkcs11KeyEngine = (config: Pkcs11KeyEngineConfig, options?: Pkcs11KeyEngineOptions) =>
  Pkcs11KeyEngine.open(config, options);

/** A failure to open that a setting explains: the message starts with its name, as configuration errors do. */
function startError(error: DomainError, setting: Pkcs11Setting): DomainError {
  return new DomainError(error.code, error.kind, `${SETTING_NAMES[setting]}: ${error.message}`, {
    ...error.details,
    setting: SETTING_NAMES[setting].split(' ')[0],
  });
}

/** CK_ULONG as the library hands it over: native byte order (little endian on our targets). */
const readUlong = (b: Buffer) => (b.length >= 8 ? Number(b.readBigUInt64LE(0)) : b.readUInt32LE(0));

function validateConfig(config: Pkcs11KeyEngineConfig): void {
  const problems: string[] = [];
  if (typeof config.id !== 'string' || config.id === '') problems.push('id is required');
  if (typeof config.module !== 'string' || config.module === '') problems.push('module (PKCS11_DRIVER) is required');
  if (typeof config.tokenLabel !== 'string' || config.tokenLabel === '') problems.push('tokenLabel (PKCS11_LABEL) is required');
  if (typeof config.pin !== 'string' || config.pin === '') problems.push('pin (PKCS11_PIN) is required');
  const size = config.poolSize;
  if (size !== undefined && (!Number.isInteger(size) || size < 1 || size > 64)) problems.push('poolSize must be 1 to 64');
  if (problems.length > 0) {
    throw new DomainError('KEY_ENGINE_CONFIG_INVALID', 'invalid', `PKCS#11 key engine: ${problems.join('; ')}`);
  }
}
