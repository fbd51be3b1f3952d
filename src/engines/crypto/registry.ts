/**
 * Builds key engines from configuration and holds the engines of one server. A new backend is one
 * folder plus one case in `createKeyEngine`. PKCS#11 is loaded on demand so that servers without
 * an HSM never load the native pkcs11js module.
 */
import { invalid, notFound } from '../../domain/errors.ts';
import type { Clock } from '../../domain/ports/clock.ts';
import type { KeyEngine } from '../../domain/ports/key-engine.ts';
import type { Logger } from '../../domain/ports/logger.ts';
import type { MetricsRecorder } from '../../domain/ports/metrics.ts';
import { MeteredKeyEngine } from './metered-key-engine.ts';
import { FilesystemKeyEngine, type FilesystemKeyEngineOptions } from './filesystem/filesystem-key-engine.ts';
import { MemoryKeyEngine } from './memory/memory-key-engine.ts';
import type { Pkcs11KeyEngineConfig } from './pkcs11/pkcs11-key-engine.ts';
import { VaultKeyEngine, type VaultKeyEngineOptions } from './vault/vault-key-engine.ts';

export interface MemoryKeyEngineConfig {
  type: 'memory';
  id: string;
}

/** `gopem` is the seed's name for the same engine (ENGINE=gopem, GOPEM_DATA = directory). */
export interface FilesystemKeyEngineConfig extends FilesystemKeyEngineOptions {
  type: 'filesystem' | 'gopem';
}

/** Seed: VAULT_ADDRESS, VAULT_ROLE_ID, VAULT_SECRET_ID, VAULT_CA (caFile), VAULT_PKI_CA_PATH (path). */
export interface VaultKeyEngineConfig extends Omit<VaultKeyEngineOptions, 'clock'> {
  type: 'vault';
}

export type { Pkcs11KeyEngineConfig };

export type KeyEngineConfig =
  | MemoryKeyEngineConfig
  | FilesystemKeyEngineConfig
  | VaultKeyEngineConfig
  | Pkcs11KeyEngineConfig;

/** Runtime collaborators engines may use; none is configuration. */
export interface KeyEngineDependencies {
  logger?: Logger;
  /** Vault token leases are timed with it. */
  clock?: Clock;
  /** Counts each engine's operations (MeteredKeyEngine); absent: engines are used as they are. */
  metrics?: MetricsRecorder;
}

const configInvalid = (message: string) => invalid('KEY_ENGINE_CONFIG_INVALID', message);

function requireStrings(config: object, what: string, fields: string[]): void {
  const record = config as Record<string, unknown>;
  const missing = fields.filter((f) => typeof record[f] !== 'string' || record[f] === '');
  if (missing.length > 0) throw configInvalid(`${what} key engine: ${missing.join(', ')} required`);
}

export async function createKeyEngine(config: KeyEngineConfig, deps: KeyEngineDependencies = {}): Promise<KeyEngine> {
  const type = (config as { type?: unknown })?.type;
  requireStrings(config ?? {}, String(type), ['id']);
  switch (config.type) {
    case 'memory':
      return new MemoryKeyEngine({ id: config.id });
    case 'filesystem':
    case 'gopem':
      requireStrings(config, config.type, ['directory']);
      return FilesystemKeyEngine.open({ id: config.id, directory: config.directory, passphrase: config.passphrase, logger: deps.logger });
    case 'vault': {
      requireStrings(config, 'vault', ['address', 'roleId', 'secretId']);
      if (!/^https?:\/\/[^/]/.test(config.address)) {
        throw configInvalid('vault key engine: address must be an http(s) URL');
      }
      return VaultKeyEngine.open({ ...config, clock: deps.clock });
    }
    // ---- PKCS#11: registered by the PKCS#11 engine's owner (src/engines/crypto/pkcs11/). ----
    case 'pkcs11': {
      const { createPkcs11KeyEngine } = await import('./pkcs11/pkcs11-key-engine.ts');
      return createPkcs11KeyEngine(config, { logger: deps.logger });
    }
    default:
      throw configInvalid(
        `unknown key engine type ${JSON.stringify(String(type)).slice(0, 40)}; ` +
          'expected filesystem, gopem, vault, pkcs11 or memory',
      );
  }
}

/** The key engines of one server: looked up by id, one of them the default for new keys. */
export class KeyEngineSet {
  private constructor(
    private readonly engines: ReadonlyMap<string, KeyEngine>,
    private readonly defaultId: string,
  ) {}

  /** Opens every configured engine; if one fails, those already open are closed again. */
  static async open(
    configs: KeyEngineConfig[],
    options: { defaultId?: string } & KeyEngineDependencies = {},
  ): Promise<KeyEngineSet> {
    KeyEngineSet.checkIds(configs.map((c) => c?.id), options.defaultId);
    const opened: KeyEngine[] = [];
    try {
      for (const config of configs) opened.push(await createKeyEngine(config, options));
    } catch (e) {
      await Promise.allSettled(opened.map((engine) => engine.close()));
      throw e;
    }
    const metrics = options.metrics;
    return KeyEngineSet.of(metrics ? opened.map((engine) => new MeteredKeyEngine(engine, metrics)) : opened, options.defaultId);
  }

  /** Wraps engines that are already open (tests, or a composition root that builds its own). */
  static of(engines: KeyEngine[], defaultId?: string): KeyEngineSet {
    KeyEngineSet.checkIds(engines.map((e) => e.id), defaultId);
    return new KeyEngineSet(new Map(engines.map((e) => [e.id, e])), defaultId ?? engines[0].id);
  }

  /** Throws KEY_ENGINE_NOT_FOUND for an id that is not configured. */
  get(id: string): KeyEngine {
    const engine = this.engines.get(id);
    if (!engine) throw notFound('KEY_ENGINE_NOT_FOUND', `no key engine with id ${String(id).slice(0, 80)}`);
    return engine;
  }

  default(): KeyEngine {
    return this.get(this.defaultId);
  }

  list(): KeyEngine[] {
    return [...this.engines.values()];
  }

  /** Closes every engine, even when some fail; then reports the first failure. */
  async closeAll(): Promise<void> {
    const results = await Promise.allSettled(this.list().map((engine) => engine.close()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private static checkIds(ids: unknown[], defaultId: string | undefined): void {
    if (ids.length === 0) throw configInvalid('at least one key engine must be configured');
    const seen = new Set<unknown>();
    for (const id of ids) {
      if (typeof id !== 'string' || id === '') throw configInvalid('every key engine needs an id');
      if (seen.has(id)) throw configInvalid(`key engine id ${id} is configured twice`);
      seen.add(id);
    }
    if (defaultId !== undefined && !seen.has(defaultId)) {
      throw configInvalid(`default key engine ${defaultId} is not among the configured engines`);
    }
  }
}
