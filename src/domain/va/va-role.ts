/**
 * A CA's VA settings ("VA role", as Lamassu calls it): how its CRLs and OCSP responses are produced.
 * Durations are milliseconds here; the API speaks Lamassu durations ("7d", "6d23h").
 */
import { invalid } from '../errors.ts';

export type OcspSignerChoice = 'CA' | 'DELEGATED';

export interface CrlSchedule {
  /** nextUpdate - thisUpdate. */
  validityMs: number;
  /** A new CRL is published this long after the last one, on schedule (must be shorter than the validity). */
  refreshIntervalMs: number;
}

export interface VaRoleSettings {
  crl: CrlSchedule & {
    /** Publish a new CRL shortly after every revocation or released hold. */
    regenerateOnRevoke: boolean;
  };
  delta: CrlSchedule & { enabled: boolean };
  ocsp: {
    /** nextUpdate - thisUpdate of each OCSP answer; also bounds HTTP caching (max-age). */
    validityMs: number;
    signer: OcspSignerChoice;
  };
}

export interface VaRole {
  caId: string;
  settings: VaRoleSettings;
  createdAt: Date;
  updatedAt: Date;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Lamassu's defaults (CRL valid 7 days, refreshed after 6d23h), delta CRLs off, OCSP answers valid one hour. */
export const DEFAULT_VA_ROLE_SETTINGS: VaRoleSettings = {
  crl: { validityMs: 7 * DAY, refreshIntervalMs: 6 * DAY + 23 * HOUR, regenerateOnRevoke: true },
  delta: { enabled: false, validityMs: 2 * HOUR, refreshIntervalMs: HOUR },
  ocsp: { validityMs: HOUR, signer: 'CA' },
};

const MIN_VALIDITY_MS = 60_000;

/** Throws VA_ROLE_INVALID for settings that would publish expired or never-refreshed data. */
export function checkVaRoleSettings(s: VaRoleSettings): void {
  const bad = (message: string) => invalid('VA_ROLE_INVALID', message);
  for (const [name, sched] of [['crl', s.crl], ['delta', s.delta]] as const) {
    if (!(sched.validityMs >= MIN_VALIDITY_MS)) throw bad(`${name} validity must be at least 1m`);
    if (!(sched.refreshIntervalMs > 0 && sched.refreshIntervalMs < sched.validityMs)) {
      throw bad(`${name} refresh_interval must be shorter than its validity, so a new CRL is out before the last one expires`);
    }
  }
  if (s.delta.enabled && s.delta.validityMs > s.crl.validityMs) throw bad('delta validity must not exceed the CRL validity');
  if (!(s.ocsp.validityMs >= MIN_VALIDITY_MS)) throw bad('ocsp validity must be at least 1m');
  if (s.ocsp.signer !== 'CA' && s.ocsp.signer !== 'DELEGATED') throw bad('ocsp signer must be CA or DELEGATED');
}
