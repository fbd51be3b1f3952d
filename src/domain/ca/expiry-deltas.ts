/**
 * Expiration deltas (Lamassu's "preventive" and "critical"): durations before a certificate's notAfter at
 * which one `certificate.expiring` event announces that it is running out. Set on a CA, an issuance
 * profile or a DMS; a certificate follows the most specific one that has any (DMS over profile over CA).
 */
import { invalid } from '../errors.ts';
import { formatDuration, parseDuration } from './duration.ts';

export interface ExpiryDeltas {
  /** e.g. 30 days: time to plan a renewal. */
  preventiveMs: number | null;
  /** e.g. 7 days: renew now. Shorter than the preventive delta. */
  criticalMs: number | null;
}

/** Where a certificate's deltas come from. */
export type ExpiryDeltaSource = 'ca' | 'profile' | 'dms';

/** How far a certificate's announcements went: nothing yet, the preventive delta, the critical delta. */
export type ExpiryStage = 'none' | 'preventive' | 'critical';
export const EXPIRY_STAGES: readonly ExpiryStage[] = ['none', 'preventive', 'critical'];

/** Deltas that announce nothing are the same as none. */
export const hasDeltas = (d: ExpiryDeltas | null | undefined): d is ExpiryDeltas =>
  d != null && (d.preventiveMs !== null || d.criticalMs !== null);

/** A delta as the API shows it: whole days as days ("30d", Lamassu's spelling), anything else as a duration. */
export const formatDelta = (ms: number) => (ms % 86_400_000 === 0 ? `${ms / 86_400_000}d` : formatDuration(ms));

/** Two deltas alike (no deltas and all-null deltas are alike). */
export const sameDeltas = (a: ExpiryDeltas | null | undefined, b: ExpiryDeltas | null | undefined) =>
  hasDeltas(a) ? hasDeltas(b) && a.preventiveMs === b.preventiveMs && a.criticalMs === b.criticalMs : !hasDeltas(b);

/** Throws EXPIRY_DELTAS_INVALID unless each delta is a positive duration and critical < preventive. */
export function checkExpiryDeltas(d: ExpiryDeltas): void {
  for (const [name, ms] of [['preventive_delta', d.preventiveMs], ['critical_delta', d.criticalMs]] as const) {
    if (ms !== null && (!Number.isSafeInteger(ms) || ms <= 0)) {
      throw invalid('EXPIRY_DELTAS_INVALID', `${name} must be a positive duration`, { [name]: ms });
    }
  }
  if (d.preventiveMs !== null && d.criticalMs !== null && d.criticalMs >= d.preventiveMs) {
    throw invalid('EXPIRY_DELTAS_INVALID', 'critical_delta must be shorter than preventive_delta', {
      preventive_delta: formatDuration(d.preventiveMs),
      critical_delta: formatDuration(d.criticalMs),
    });
  }
}

/** From the API's duration strings ("30d"); null or absent leaves that delta off. */
export function parseExpiryDeltas(preventive: string | null | undefined, critical: string | null | undefined): ExpiryDeltas {
  const parse = (text: string | null | undefined, name: string) => {
    if (text === null || text === undefined || text === '') return null;
    try {
      return parseDuration(text);
    } catch {
      throw invalid('EXPIRY_DELTAS_INVALID', `${name} "${text}" is not a duration like "30d"`, { [name]: text });
    }
  };
  const d = { preventiveMs: parse(preventive, 'preventive_delta'), criticalMs: parse(critical, 'critical_delta') };
  checkExpiryDeltas(d);
  return d;
}

/** The deltas that govern a certificate: the first level that has any. */
export function resolveExpiryDeltas(levels: {
  dms?: ExpiryDeltas | null;
  profile?: ExpiryDeltas | null;
  ca?: ExpiryDeltas | null;
}): { source: ExpiryDeltaSource; deltas: ExpiryDeltas | null } {
  if (hasDeltas(levels.dms)) return { source: 'dms', deltas: levels.dms };
  if (hasDeltas(levels.profile)) return { source: 'profile', deltas: levels.profile };
  return { source: 'ca', deltas: hasDeltas(levels.ca) ? levels.ca : null };
}

/**
 * The next instant an announcement is due after `stage`: the preventive threshold (or, without one, the
 * critical one) while nothing was announced, the critical one after the preventive; null when nothing is left.
 */
export function nextExpiryAlertAt(notAfter: Date, deltas: ExpiryDeltas | null, stage: ExpiryStage): Date | null {
  if (deltas === null || stage === 'critical') return null;
  const ms = stage === 'none' ? (deltas.preventiveMs ?? deltas.criticalMs) : deltas.criticalMs;
  return ms === null ? null : new Date(notAfter.getTime() - ms);
}

/** The plan a certificate carries in storage: where its deltas come from, the deltas, the stage reached. */
export interface ExpiryPlan {
  source: ExpiryDeltaSource;
  deltas: ExpiryDeltas | null;
  stage: ExpiryStage;
  /** Provenance kept for re-planning when a profile's or a DMS's deltas change. */
  profileId: string | null;
  dmsId: string | null;
}

/** A plan worth storing: with deltas, or a profile or DMS whose deltas a later change may re-plan it by. */
export const isPlanWorthKeeping = (p: Pick<ExpiryPlan, 'deltas' | 'profileId' | 'dmsId'>): boolean =>
  p.deltas !== null || p.profileId !== null || p.dmsId !== null;
