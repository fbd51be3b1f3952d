import { DEFAULT_ISSUANCE_SETTINGS, type IssuanceSettings } from '../../domain/ca/issuance-profile.ts';
import type { CertificateRepository } from '../../domain/ca/certificate-repository.ts';
import type { ServerKeyGenerator } from '../../domain/dms/server-key-generator.ts';
import type { Clock } from '../../domain/ports/clock.ts';
import type { KeySpec } from '../../domain/ports/key-engine.ts';
import type { CsrSignatureVerifier } from '../../domain/ports/csr-signature-verifier.ts';
import type { EventBus } from '../../domain/ports/event-bus.ts';
import type { RandomSource } from '../../domain/ports/id-generator.ts';
import type { KeyEngine } from '../../domain/ports/key-engine.ts';
import type { Logger } from '../../domain/ports/logger.ts';
import type { MetricsRecorder } from '../../domain/ports/metrics.ts';
import type { Storage } from '../../domain/ports/storage.ts';

export interface CaSettings {
  /** VA base URLs (no trailing slash); each issued certificate points at every one of them. */
  vaBaseUrls: string[];
  /** Global about-to-expire threshold; a CA may override it. Default 30 days. */
  aboutToExpireMs: number;
  /** How long a replica trusts its cached view of a CA before reading it again (cross-replica revocation). */
  caCacheTtlMs: number;
  /** What a CA without a profile of its own issues with. */
  defaultIssuance: IssuanceSettings;
  /** Key and validity of each new internal CA (LAMASSU-DMS-MANAGER and its rotations). */
  internalCa: InternalCaOptions;
}

export interface InternalCaOptions {
  keySpec: KeySpec;
  /** e.g. "10y". */
  validity: string;
}

export const DEFAULT_INTERNAL_CA: InternalCaOptions = { keySpec: { type: 'ECDSA', bits: 256 }, validity: '10y' };

export const DEFAULT_CA_SETTINGS: CaSettings = {
  vaBaseUrls: ['http://localhost:8080'],
  aboutToExpireMs: 30 * 86_400_000,
  caCacheTtlMs: 1000,
  defaultIssuance: DEFAULT_ISSUANCE_SETTINGS,
  internalCa: DEFAULT_INTERNAL_CA,
};

/** The configured key engines (KeyEngineSet satisfies this). `get` throws KEY_ENGINE_NOT_FOUND. */
export interface KeyEngines {
  get(id: string): KeyEngine;
  default(): KeyEngine;
  list(): KeyEngine[];
}

/** Everything the CA use-cases need: ports only. */
export interface CaServiceDeps {
  storage: Storage;
  keyEngines: KeyEngines;
  events: EventBus;
  clock: Clock;
  random: RandomSource;
  logger: Logger;
  settings: CaSettings;
  /** Makes keys that are handed out once (POST /certificates without an engine); optional. */
  keyGenerator?: ServerKeyGenerator;
  /** Checks CSR signatures off the event loop (worker threads); without it they are checked inline. */
  csrVerifier?: CsrSignatureVerifier;
  /** Counts issued certificates for /metrics; absent: nothing is counted. */
  metrics?: MetricsRecorder;
  /** Where issued certificates are committed instead of `storage` (SQLite: a writer thread, off the event loop). */
  issuedCertificates?: Pick<CertificateRepository, 'insert' | 'insertMany'>;
}
