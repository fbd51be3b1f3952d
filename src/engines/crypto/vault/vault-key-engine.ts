/**
 * Keys as HashiCorp Vault KV v2 secrets, one per key at `<mount>/data/<path>/<key id>` holding the
 * PKCS#8 PEM (Vault encrypts it at rest), reached with an AppRole login. Signing happens here in
 * software; parsed keys are cached after the first read so the hot path makes no Vault request.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { isDomainError } from '../../../domain/errors.ts';
import { systemClock, type Clock } from '../../../domain/ports/clock.ts';
import type {
  CreateKeyRequest,
  ImportKeyRequest,
  KeyEngine,
  KeyEngineCapabilities,
  KeyEngineHealth,
  KeyInfo,
  SignRequest,
} from '../../../domain/ports/key-engine.ts';
import { keyEngineUnavailable, keyNotFound, keyStoreCorrupt } from '../key-errors.ts';
import {
  exportPkcs8Der,
  generateSoftwareKey,
  importPkcs8,
  isKeyId,
  signWithSoftwareKey,
  softwareCapabilities,
  softwareKeyOf,
  type SoftwareKey,
} from '../software-keys.ts';
import { VaultClient } from './vault-client.ts';

export interface VaultKeyEngineOptions {
  id: string;
  /** VAULT_ADDRESS, e.g. https://vault:8200 */
  address: string;
  /** VAULT_ROLE_ID / VAULT_SECRET_ID of the AppRole. */
  roleId: string;
  secretId: string;
  /** KV v2 mount; default "secret". */
  mount?: string;
  /** Folder under the mount (the seed's VAULT_PKI_CA_PATH); default "lamassu/keys". */
  path?: string;
  /** VAULT_CA: PEM file of the CA behind Vault's TLS certificate. */
  caFile?: string;
  /** Decides when the token lease is over; tests pass a ManualClock. */
  clock?: Clock;
  timeoutMs?: number;
}

/** What one secret holds. */
interface StoredKey {
  private_key: string;
  label?: string;
}

const segments = (p: string) =>
  p
    .split('/')
    .filter(Boolean)
    .map((s) => encodeURIComponent(s))
    .join('/');

export class VaultKeyEngine implements KeyEngine {
  readonly id: string;
  readonly kind = 'vault';
  private readonly cache = new Map<string, Promise<SoftwareKey>>();
  private readonly dataPrefix: string;
  private readonly metadataPrefix: string;

  private constructor(
    options: VaultKeyEngineOptions,
    private readonly client: VaultClient,
  ) {
    this.id = options.id;
    const mount = segments(options.mount ?? 'secret');
    const folder = segments(options.path ?? 'lamassu/keys');
    const tail = folder ? `/${folder}` : '';
    this.dataPrefix = `/v1/${mount}/data${tail}`;
    this.metadataPrefix = `/v1/${mount}/metadata${tail}`;
  }

  /** Does not contact Vault: a server may start while Vault is still coming up; health() tells. */
  static async open(options: VaultKeyEngineOptions): Promise<VaultKeyEngine> {
    const client = await VaultClient.create({
      engineId: options.id,
      address: options.address,
      roleId: options.roleId,
      secretId: options.secretId,
      caFile: options.caFile,
      clock: options.clock ?? systemClock,
      timeoutMs: options.timeoutMs,
    });
    return new VaultKeyEngine(options, client);
  }

  capabilities(): KeyEngineCapabilities {
    return softwareCapabilities(true);
  }

  async createKey(req: CreateKeyRequest): Promise<KeyInfo> {
    return this.store(await generateSoftwareKey(this.id, req.spec), req.label);
  }

  async importKey(req: ImportKeyRequest): Promise<KeyInfo> {
    return this.store(importPkcs8(this.id, req.pkcs8), req.label);
  }

  async getKey(keyId: string): Promise<KeyInfo> {
    return (await this.load(keyId)).info;
  }

  async listKeys(): Promise<KeyInfo[]> {
    const res = await this.client.request('GET', `${this.metadataPrefix}?list=true`);
    if (res.status === 404) return [];
    const keys = (res.body as { data?: { keys?: unknown } } | undefined)?.data?.keys;
    if (res.status !== 200 || !Array.isArray(keys)) throw this.unexpected('list keys', res.status);
    return Promise.all(keys.filter(isKeyId).map(async (id) => (await this.load(id)).info));
  }

  async sign(req: SignRequest): Promise<Uint8Array> {
    return signWithSoftwareKey(this.id, await this.load(req.keyId), req);
  }

  /** Deletes every version and the metadata, so the key cannot be undeleted from Vault. */
  async deleteKey(keyId: string): Promise<void> {
    if (!isKeyId(keyId)) throw keyNotFound(this.id, keyId);
    const meta = await this.client.request('GET', `${this.metadataPrefix}/${keyId}`);
    if (meta.status === 404) throw keyNotFound(this.id, keyId);
    if (meta.status !== 200) throw this.unexpected('read key metadata', meta.status);
    this.cache.delete(keyId);
    const res = await this.client.request('DELETE', `${this.metadataPrefix}/${keyId}`);
    if (res.status !== 204 && res.status !== 200) throw this.unexpected('delete key', res.status);
  }

  async exportKey(keyId: string): Promise<Uint8Array> {
    return exportPkcs8Der(await this.load(keyId));
  }

  /** Vault unsealed and active, and our AppRole can log in. */
  async health(): Promise<KeyEngineHealth> {
    try {
      const res = await this.client.unauthenticated('GET', '/v1/sys/health');
      // 200 active, 429 unsealed standby: both serve reads and writes (standbys forward).
      if (res.status !== 200 && res.status !== 429) {
        return { ok: false, detail: `Vault health answered HTTP ${res.status}` };
      }
      await this.client.ensureLoggedIn();
      return { ok: true };
    } catch (e) {
      return { ok: false, detail: isDomainError(e) ? e.message : 'Vault health check failed' };
    }
  }

  async close(): Promise<void> {
    this.cache.clear();
    await this.client.close();
  }

  private async store(key: SoftwareKey, label: string | undefined): Promise<KeyInfo> {
    const data: StoredKey = { private_key: key.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string };
    if (label) data.label = label;
    const res = await this.client.request('POST', `${this.dataPrefix}/${key.info.id}`, { data });
    if (res.status !== 200 && res.status !== 204) throw this.unexpected('store key', res.status);
    this.cache.set(key.info.id, Promise.resolve(key));
    return key.info;
  }

  /** One Vault read per key per process; concurrent first uses share it, failures are not cached. */
  private load(keyId: string): Promise<SoftwareKey> {
    if (!isKeyId(keyId)) return Promise.reject(keyNotFound(this.id, keyId));
    let pending = this.cache.get(keyId);
    if (!pending) {
      const loading = this.readKey(keyId);
      pending = loading;
      this.cache.set(keyId, loading);
      loading.catch(() => {
        if (this.cache.get(keyId) === loading) this.cache.delete(keyId);
      });
    }
    return pending;
  }

  private async readKey(keyId: string): Promise<SoftwareKey> {
    const res = await this.client.request('GET', `${this.dataPrefix}/${keyId}`);
    if (res.status === 404) throw keyNotFound(this.id, keyId);
    if (res.status !== 200) throw this.unexpected('read key', res.status);
    const stored = (res.body as { data?: { data?: Partial<StoredKey> } } | undefined)?.data?.data;
    if (typeof stored?.private_key !== 'string') throw keyStoreCorrupt(this.id, keyId, 'the secret has no private_key');
    let privateKey: KeyObject;
    try {
      privateKey = createPrivateKey({ key: stored.private_key, format: 'pem' });
    } catch {
      throw keyStoreCorrupt(this.id, keyId, 'the secret does not hold a PEM private key');
    }
    const key = softwareKeyOf(this.id, privateKey);
    if (key.info.id !== keyId) throw keyStoreCorrupt(this.id, keyId, 'the secret holds a different key');
    return key;
  }

  private unexpected(what: string, status: number) {
    return keyEngineUnavailable(this.id, `Vault refused to ${what} (HTTP ${status})`);
  }
}
