import { invalid } from '../../domain/errors.ts';
import type { KeyEngine, KeyType } from '../../domain/ports/key-engine.ts';
import { signatureAlgorithmFor, signatureAlgorithms, type X509Signer } from '../../x509/signer.ts';
import type { CaServiceDeps } from './ca-service-deps.ts';

/** An X509Signer whose key lives in a key engine. */
export function engineSigner(engine: KeyEngine, keyId: string, type: KeyType, bits: number): X509Signer {
  const algorithm = signatureAlgorithmFor(type, bits);
  const hash = signatureAlgorithms[algorithm].hash;
  return { algorithm, sign: (tbs) => engine.sign({ keyId, data: tbs, ...(hash ? { hash } : {}) }) };
}

/** The named engine, or the default one; ENGINE_NOT_FOUND (400) for an id that is not configured. */
export function resolveEngine(deps: Pick<CaServiceDeps, 'keyEngines'>, engineId: string | undefined | null): KeyEngine {
  const id = engineId ?? deps.keyEngines.defaultId;
  const engine = deps.keyEngines.engines.get(id);
  if (!engine) {
    throw invalid('ENGINE_NOT_FOUND', `no key engine "${id}" (configured: ${[...deps.keyEngines.engines.keys()].join(', ')})`, { engine_id: id });
  }
  return engine;
}
