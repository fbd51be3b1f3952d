/**
 * Event-type patterns of alert subscriptions, with the AMQP topic semantics the bus uses: words are
 * separated by ".", "*" matches exactly one word, "#" zero or more ("certificate.#" is every certificate event).
 */
import { invalid } from '../errors.ts';

const WORD = /^([a-z0-9][a-z0-9_-]*|\*|#)$/i;

/** Refuses what no event type could ever look like, naming the fault. */
export function checkEventPattern(pattern: string): void {
  if (pattern.length === 0 || pattern.length > 255) throw invalid('ALERT_EVENT_TYPE_INVALID', 'event_type must be 1 to 255 characters');
  const bad = pattern.split('.').find((w) => !WORD.test(w));
  if (bad !== undefined) {
    throw invalid('ALERT_EVENT_TYPE_INVALID', `event_type "${pattern}": "${bad}" is not a word, "*" or "#" (words are letters, digits, "-" and "_")`);
  }
}

export function eventPatternMatcher(pattern: string): (type: string) => boolean {
  const p = pattern.split('.');
  const match = (t: string[], i: number, j: number): boolean => {
    if (i === p.length) return j === t.length;
    if (p[i] === '#') {
      for (let k = j; k <= t.length; k++) if (match(t, i + 1, k)) return true;
      return false;
    }
    return j < t.length && (p[i] === '*' || p[i] === t[j]) && match(t, i + 1, j + 1);
  };
  return (type) => match(type.split('.'), 0, 0);
}
