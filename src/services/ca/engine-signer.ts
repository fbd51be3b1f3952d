import type { KeyEngine, KeyType } from '../../domain/ports/key-engine.ts';
import { signatureAlgorithmFor, signatureAlgorithms, type X509Signer } from '../../x509/signer.ts';
import type { CaServiceDeps } from './ca-service-deps.ts';

/** An X509Signer whose key lives in a key engine. */
export function engineSigner(engine: KeyEngine, keyId: string, type: KeyType, bits: number): X509Signer {
  const algorithm = signatureAlgorithmFor(type, bits);
  const hash = signatureAlgorithms[algorithm].hash;
  return { algorithm, sign: (tbs) => engine.sign({ keyId, data: tbs, ...(hash ? { hash } : {}) }) };
}

/** The named engine, or the default one; KEY_ENGINE_NOT_FOUND for an id that is not configured. */
export function resolveEngine(deps: Pick<CaServiceDeps, 'keyEngines'>, engineId: string | undefined | null): KeyEngine {
  return engineId === undefined || engineId === null ? deps.keyEngines.default() : deps.keyEngines.get(engineId);
}
