import { invalid } from '../errors.ts';

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
  // A year is 365 days here; Lamassu counts 364. Calendar years are not used: "1y" is a fixed length.
  y: 365 * 86_400_000,
};

const DURATION = /^(?:\d+(?:ms|[smhdwy]))+$/;
const PART = /(\d+)(ms|[smhdwy])/g;

/** Parses "10y", "1y2w3d4h", "90d", "30m" into milliseconds. Rejects empty, zero and unknown units. */
export function parseDuration(text: string): number {
  const s = text.trim();
  if (!DURATION.test(s)) {
    throw invalid('DURATION_INVALID', `"${text}" is not a duration like "10y" or "1y2w3d4h" (units ms s m h d w y)`);
  }
  let ms = 0;
  for (const [, n, unit] of s.matchAll(PART)) ms += Number(n) * UNIT_MS[unit!]!;
  if (!(ms > 0) || !Number.isSafeInteger(ms)) throw invalid('DURATION_INVALID', `"${text}" must be a positive duration`);
  return ms;
}

/** Formats milliseconds back into the largest whole units, e.g. 90 days -> "12w6d". */
export function formatDuration(ms: number): string {
  let rest = ms;
  let out = '';
  for (const unit of ['y', 'w', 'd', 'h', 'm', 's', 'ms']) {
    const size = UNIT_MS[unit]!;
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out || '0s';
}

/** Lamassu's validity: `{type: "Duration", duration: "10y"}` or `{type: "Time", time: "<RFC 3339>"}`. */
export type Validity = { type: 'Duration'; duration: string } | { type: 'Time'; time: string };

/** The notAfter a validity gives when counted from `from`, in whole seconds. */
export function validityEnd(v: Validity, from: Date): Date {
  if (v.type === 'Duration') return wholeSeconds(new Date(from.getTime() + parseDuration(v.duration)));
  const t = Date.parse(v.time);
  if (Number.isNaN(t)) throw invalid('VALIDITY_INVALID', `"${v.time}" is not an RFC 3339 time`);
  if (t <= from.getTime()) throw invalid('VALIDITY_INVALID', `validity end ${v.time} is not in the future`);
  return wholeSeconds(new Date(t));
}

export function checkValidity(v: Validity): void {
  if (v.type === 'Duration') parseDuration(v.duration);
  else if (v.type === 'Time') {
    if (Number.isNaN(Date.parse(v.time))) throw invalid('VALIDITY_INVALID', `"${v.time}" is not an RFC 3339 time`);
  } else throw invalid('VALIDITY_INVALID', 'validity type must be "Duration" or "Time"');
}

/** Certificates carry whole seconds; truncating keeps the stored times equal to the encoded ones. */
export const wholeSeconds = (d: Date) => new Date(Math.floor(d.getTime() / 1000) * 1000);
