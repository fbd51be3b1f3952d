import type { KeyEngine, KeyType } from '../../domain/ports/key-engine.ts';
import type { KeyEngines } from './ca-service-deps.ts';

/** Lamassu's engine kinds (models.CryptoEngineType) and security levels (0 software ... 2 hardware). */
const LAMASSU_KIND: Record<string, { type: string; provider: string; securityLevel: number }> = {
  filesystem: { type: 'GOLANG', provider: 'Lamassu TS', securityLevel: 0 },
  memory: { type: 'MEMORY', provider: 'Lamassu TS', securityLevel: 0 },
  vault: { type: 'HASHICORP_VAULT_KV_V2', provider: 'HashiCorp', securityLevel: 1 },
  pkcs11: { type: 'PKCS11', provider: 'PKCS#11', securityLevel: 2 },
};

export interface EngineDescription {
  id: string;
  /** Lamassu's engine type, e.g. GOLANG for files, PKCS11 for an HSM. */
  type: string;
  provider: string;
  name: string;
  isDefault: boolean;
  securityLevel: number;
  metadata: Record<string, unknown>;
  supportedKeyTypes: { type: KeyType; sizes: number[] }[];
}

function describe(engine: KeyEngine, isDefault: boolean): EngineDescription {
  const kind = LAMASSU_KIND[engine.kind] ?? { type: engine.kind.toUpperCase(), provider: 'Lamassu TS', securityLevel: 0 };
  const caps = engine.capabilities();
  return {
    id: engine.id,
    type: kind.type,
    provider: kind.provider,
    name: engine.kind,
    isDefault,
    securityLevel: kind.securityLevel,
    // What a client may want to know before choosing an engine; never anything about keys or secrets.
    metadata: { 'lamassu.io/engine/kind': engine.kind, 'lamassu.io/engine/importable': caps.importable, 'lamassu.io/engine/exportable': caps.exportable },
    supportedKeyTypes: caps.keyTypes.map((k) => ({ type: k.type, sizes: [...k.sizes] })),
  };
}

/** The configured key engines in the order configured, the default one marked; its id is the engine_id on CAs. */
export function listEngines(engines: KeyEngines): EngineDescription[] {
  const defaultId = engines.default().id;
  return engines.list().map((e) => describe(e, e.id === defaultId));
}
