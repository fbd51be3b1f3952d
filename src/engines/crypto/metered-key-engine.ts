/**
 * A key engine that counts its operations for /metrics (lamassu_key_engine_operations_total): each
 * create, import, sign, delete and export, with "success" or the error code it failed with. Reads (getKey,
 * listKeys, health) are not counted.
 */
import { isDomainError } from '../../domain/errors.ts';
import type { CreateKeyRequest, ImportKeyRequest, KeyEngine, KeyEngineCapabilities, KeyEngineHealth, KeyInfo, SignRequest } from '../../domain/ports/key-engine.ts';
import type { KeyEngineOperation, MetricsRecorder } from '../../domain/ports/metrics.ts';

const resultOf = (err: unknown) => (isDomainError(err) ? err.code : 'INTERNAL');

export class MeteredKeyEngine implements KeyEngine {
  readonly id: string;
  readonly kind: string;
  readonly exportKey?: (keyId: string) => Promise<Uint8Array>;

  constructor(
    private readonly inner: KeyEngine,
    private readonly metrics: MetricsRecorder,
  ) {
    this.id = inner.id;
    this.kind = inner.kind;
    if (inner.exportKey) {
      const exportKey = inner.exportKey.bind(inner);
      this.exportKey = (keyId) => this.count('export', exportKey(keyId));
    }
  }

  private count<T>(op: KeyEngineOperation, work: Promise<T>): Promise<T> {
    return work.then(
      (value) => {
        this.metrics.keyEngineOperation(this.id, op, 'success');
        return value;
      },
      (err: unknown) => {
        this.metrics.keyEngineOperation(this.id, op, resultOf(err));
        throw err;
      },
    );
  }

  capabilities(): KeyEngineCapabilities {
    return this.inner.capabilities();
  }
  createKey(req: CreateKeyRequest): Promise<KeyInfo> {
    return this.count('create', this.inner.createKey(req));
  }
  importKey(req: ImportKeyRequest): Promise<KeyInfo> {
    return this.count('import', this.inner.importKey(req));
  }
  getKey(keyId: string): Promise<KeyInfo> {
    return this.inner.getKey(keyId);
  }
  listKeys(): Promise<KeyInfo[]> {
    return this.inner.listKeys();
  }
  sign(req: SignRequest): Promise<Uint8Array> {
    return this.count('sign', this.inner.sign(req));
  }
  deleteKey(keyId: string): Promise<void> {
    return this.count('delete', this.inner.deleteKey(keyId));
  }
  health(): Promise<KeyEngineHealth> {
    return this.inner.health();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
