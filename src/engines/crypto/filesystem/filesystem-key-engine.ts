/**
 * Keys as PKCS#8 PEM files, one per key, named `<key id>.pem` (mode 0600, directory 0700), and
 * encrypted with AES-256-CBC when a passphrase is configured. Config kinds `filesystem` and the
 * seed's `gopem` both open this engine. Files are written atomically; parsed keys are cached so
 * signing never touches the disk. The cache is per process: a key deleted by another replica
 * sharing the directory stays usable here until restart.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { access, readdir, readFile, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  CreateKeyRequest,
  ImportKeyRequest,
  KeyEngine,
  KeyEngineCapabilities,
  KeyEngineHealth,
  KeyInfo,
  SignRequest,
} from '../../../domain/ports/key-engine.ts';
import { isDomainError } from '../../../domain/errors.ts';
import type { Logger } from '../../../domain/ports/logger.ts';
import { ensurePrivateDirectory } from '../../private-directory.ts';
import { keyEngineUnavailable, keyFileNotFound, keyNotFound, keyPassphraseInvalid, keyStoreCorrupt } from '../key-errors.ts';
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
import { TEMP_FILE_PATTERN, writeFileAtomic } from './write-file-atomic.ts';

export interface FilesystemKeyEngineOptions {
  id: string;
  directory: string;
  /** When set, new keys are written as encrypted PKCS#8; never logged or echoed. */
  passphrase?: string;
  /** Warns when an existing key directory lets other users in. */
  logger?: Logger;
}

const KEY_FILE_PATTERN = /^([0-9a-f]{64})\.pem$/;
/** Temp files younger than this may belong to a write in progress in another process. */
const STALE_TEMP_MS = 10 * 60 * 1000;

const errnoOf = (e: unknown) => (e as NodeJS.ErrnoException)?.code ?? 'unknown error';

export class FilesystemKeyEngine implements KeyEngine {
  readonly id: string;
  readonly kind = 'filesystem';
  private readonly directory: string;
  private readonly passphrase: string | undefined;
  private readonly cache = new Map<string, Promise<SoftwareKey>>();

  private constructor(options: FilesystemKeyEngineOptions) {
    this.id = options.id;
    this.directory = options.directory;
    this.passphrase = options.passphrase || undefined;
  }

  /** Creates the directory (0700) if needed and removes temp files left by a crashed write. */
  static async open(options: FilesystemKeyEngineOptions): Promise<FilesystemKeyEngine> {
    const engine = new FilesystemKeyEngine(options);
    try {
      await ensurePrivateDirectory(options.directory, `the key directory of key engine ${options.id}`, options.logger);
      await engine.removeStaleTempFiles();
    } catch (e) {
      throw keyEngineUnavailable(options.id, `cannot prepare key directory ${options.directory}: ${errnoOf(e)}`);
    }
    return engine;
  }

  capabilities(): KeyEngineCapabilities {
    return softwareCapabilities(true);
  }

  async createKey(req: CreateKeyRequest): Promise<KeyInfo> {
    return this.store(await generateSoftwareKey(this.id, req.spec));
  }

  /** Importing a key already stored rewrites the same file: the id is derived from the key. */
  async importKey(req: ImportKeyRequest): Promise<KeyInfo> {
    return this.store(importPkcs8(this.id, req.pkcs8));
  }

  async getKey(keyId: string): Promise<KeyInfo> {
    return (await this.load(keyId)).info;
  }

  async listKeys(): Promise<KeyInfo[]> {
    const ids = (await this.readDirectory()).flatMap((name) => KEY_FILE_PATTERN.exec(name)?.[1] ?? []);
    return Promise.all(ids.map(async (id) => (await this.load(id)).info));
  }

  async sign(req: SignRequest): Promise<Uint8Array> {
    return signWithSoftwareKey(this.id, await this.load(req.keyId), req);
  }

  async deleteKey(keyId: string): Promise<void> {
    if (!isKeyId(keyId)) throw keyNotFound(this.id, keyId);
    this.cache.delete(keyId);
    try {
      await unlink(this.pathOf(keyId));
    } catch (e) {
      if (errnoOf(e) === 'ENOENT') throw keyFileNotFound(this.id, keyId, this.directory);
      throw keyEngineUnavailable(this.id, `cannot delete key file ${keyId}.pem: ${errnoOf(e)}`);
    }
  }

  async exportKey(keyId: string): Promise<Uint8Array> {
    return exportPkcs8Der(await this.load(keyId));
  }

  /** The directory must be writable and, when keys exist, the first must open with the passphrase. */
  async health(): Promise<KeyEngineHealth> {
    try {
      await access(this.directory, fsConstants.R_OK | fsConstants.W_OK);
      const first = (await this.readDirectory()).map((n) => KEY_FILE_PATTERN.exec(n)?.[1]).find(Boolean);
      if (first) await this.load(first);
      return { ok: true };
    } catch (e) {
      return { ok: false, detail: isDomainError(e) ? e.message : `key directory not usable: ${errnoOf(e)}` };
    }
  }

  async close(): Promise<void> {
    this.cache.clear();
  }

  private pathOf(keyId: string): string {
    return join(this.directory, `${keyId}.pem`);
  }

  private async store(key: SoftwareKey): Promise<KeyInfo> {
    const pem = this.passphrase
      ? key.privateKey.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: this.passphrase })
      : key.privateKey.export({ format: 'pem', type: 'pkcs8' });
    try {
      await writeFileAtomic(this.pathOf(key.info.id), pem, 0o600);
    } catch (e) {
      throw keyEngineUnavailable(this.id, `cannot write key file ${key.info.id}.pem: ${errnoOf(e)}`);
    }
    this.cache.set(key.info.id, Promise.resolve(key));
    return key.info;
  }

  /** One read per key per process; concurrent first uses share it, failures are not cached. */
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
    let pem: string;
    try {
      pem = await readFile(this.pathOf(keyId), 'utf8');
    } catch (e) {
      if (errnoOf(e) === 'ENOENT') throw keyFileNotFound(this.id, keyId, this.directory);
      throw keyStoreCorrupt(this.id, keyId, `cannot read ${keyId}.pem: ${errnoOf(e)}`);
    }
    let privateKey: KeyObject;
    try {
      privateKey = createPrivateKey({ key: pem, format: 'pem', passphrase: this.passphrase });
    } catch {
      if (pem.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----')) throw keyPassphraseInvalid(this.id, keyId);
      throw keyStoreCorrupt(this.id, keyId, `${keyId}.pem is not a PEM private key`);
    }
    const key = softwareKeyOf(this.id, privateKey);
    if (key.info.id !== keyId) throw keyStoreCorrupt(this.id, keyId, `${keyId}.pem holds a different key`);
    return key;
  }

  private async readDirectory(): Promise<string[]> {
    try {
      return await readdir(this.directory);
    } catch (e) {
      throw keyEngineUnavailable(this.id, `cannot list key directory: ${errnoOf(e)}`);
    }
  }

  private async removeStaleTempFiles(): Promise<void> {
    for (const name of await readdir(this.directory)) {
      if (!TEMP_FILE_PATTERN.test(name)) continue;
      const path = join(this.directory, name);
      const info = await stat(path).catch(() => undefined);
      if (info && Date.now() - info.mtimeMs > STALE_TEMP_MS) await rm(path, { force: true });
    }
  }
}
