/** Keys in a Map, gone with the process: for unit tests and throw-away servers. */
import type {
  CreateKeyRequest,
  ImportKeyRequest,
  KeyEngine,
  KeyEngineCapabilities,
  KeyEngineHealth,
  KeyInfo,
  SignRequest,
} from '../../../domain/ports/key-engine.ts';
import { keyNotFound } from '../key-errors.ts';
import {
  exportPkcs8Der,
  generateSoftwareKey,
  importPkcs8,
  signWithSoftwareKey,
  softwareCapabilities,
  type SoftwareKey,
} from '../software-keys.ts';

export interface MemoryKeyEngineOptions {
  id: string;
}

export class MemoryKeyEngine implements KeyEngine {
  readonly id: string;
  readonly kind = 'memory';
  private readonly keys = new Map<string, SoftwareKey>();

  constructor(options: MemoryKeyEngineOptions) {
    this.id = options.id;
  }

  capabilities(): KeyEngineCapabilities {
    return softwareCapabilities(true);
  }

  async createKey(req: CreateKeyRequest): Promise<KeyInfo> {
    const key = await generateSoftwareKey(this.id, req.spec);
    this.keys.set(key.info.id, key);
    return key.info;
  }

  async importKey(req: ImportKeyRequest): Promise<KeyInfo> {
    const key = importPkcs8(this.id, req.pkcs8);
    this.keys.set(key.info.id, key);
    return key.info;
  }

  async getKey(keyId: string): Promise<KeyInfo> {
    return this.find(keyId).info;
  }

  async listKeys(): Promise<KeyInfo[]> {
    return [...this.keys.values()].map((k) => k.info);
  }

  async sign(req: SignRequest): Promise<Uint8Array> {
    return signWithSoftwareKey(this.id, this.find(req.keyId), req);
  }

  async deleteKey(keyId: string): Promise<void> {
    if (!this.keys.delete(keyId)) throw keyNotFound(this.id, keyId);
  }

  async exportKey(keyId: string): Promise<Uint8Array> {
    return exportPkcs8Der(this.find(keyId));
  }

  async health(): Promise<KeyEngineHealth> {
    return { ok: true };
  }

  async close(): Promise<void> {
    this.keys.clear();
  }

  private find(keyId: string): SoftwareKey {
    const key = this.keys.get(keyId);
    if (!key) throw keyNotFound(this.id, keyId);
    return key;
  }
}
