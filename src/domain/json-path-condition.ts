/**
 * The part of Lamassu's `[jsonpath]` filter (PostgreSQL jsonpath, `docs/filtering.md`) that both of our
 * databases evaluate alike: `exists(<path>)` and `<path> <op> <literal>`, where a path is `$` followed by
 * `.key`, `."any key"` or `[index]` steps, the operators are ==, !=, <, <=, >, >= and the literal is a
 * JSON string, number, true, false or null. Comparisons are type-strict, as in jsonpath: a string never
 * equals a number, a missing key matches nothing (not even !=), an array is not searched. Wildcards,
 * filters (`?(...)`), `last`, && and || are refused with a stable code rather than half-supported.
 */
import { invalid } from './errors.ts';

export type JsonPathStep = string | number;
export type JsonPathOperator = 'exists' | 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge';
export type JsonScalar = string | number | boolean | null;

export interface JsonPathCondition {
  path: JsonPathStep[];
  op: JsonPathOperator;
  /** Absent for `exists`. */
  value?: JsonScalar;
}

export const MAX_JSON_PATH_STEPS = 16;
const MAX_KEY_LENGTH = 128;
const COMPARATORS: Record<string, Exclude<JsonPathOperator, 'exists'>> = { '==': 'eq', '!=': 'ne', '<>': 'ne', '<=': 'le', '>=': 'ge', '<': 'lt', '>': 'gt' };

const refuse = (code: string, message: string, expression: string) => invalid(code, message, { expression: expression.slice(0, 80) });

/** Reads the path at `text[at]` (which must be `$`); returns the steps and the index after them. */
function readPath(text: string, at: number, expression: string): [JsonPathStep[], number] {
  if (text[at] !== '$') throw refuse('JSONPATH_INVALID', 'a JSONPath starts with $', expression);
  const steps: JsonPathStep[] = [];
  let i = at + 1;
  for (;;) {
    if (text[i] === '.' && text[i + 1] === '"') {
      const end = text.indexOf('"', i + 2);
      if (end < 0) throw refuse('JSONPATH_INVALID', 'unterminated quoted key', expression);
      steps.push(text.slice(i + 2, end));
      i = end + 1;
    } else if (text[i] === '.') {
      const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(text.slice(i + 1));
      if (!m) throw refuse('JSONPATH_UNSUPPORTED', 'after "." comes a key (letters, digits, "_", "-") or a quoted key; wildcards are not supported', expression);
      steps.push(m[0]);
      i += 1 + m[0].length;
    } else if (text[i] === '[') {
      const m = /^\[(\d{1,6})\]/.exec(text.slice(i));
      if (!m) throw refuse('JSONPATH_UNSUPPORTED', 'only numeric array indexes ([0]) are supported, not wildcards, filters or last', expression);
      steps.push(Number(m[1]));
      i += m[0].length;
    } else break;
  }
  if (steps.length > MAX_JSON_PATH_STEPS) throw refuse('JSONPATH_INVALID', `a path has at most ${MAX_JSON_PATH_STEPS} steps`, expression);
  for (const s of steps) {
    // SQLite's path syntax cannot escape a quote or backslash inside a key.
    if (typeof s === 'string' && (s === '' || s.length > MAX_KEY_LENGTH || /["\\]/.test(s))) {
      throw refuse('JSONPATH_INVALID', `keys are 1-${MAX_KEY_LENGTH} characters without " or \\`, expression);
    }
  }
  return [steps, i];
}

function readLiteral(text: string, expression: string): JsonScalar {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // A literal followed by && or || is jsonpath we do not evaluate (several criteria are ANDed already).
    if (/&&|\|\|/.test(text)) throw refuse('JSONPATH_UNSUPPORTED', '&& and || are not supported: give several criteria (they are ANDed)', expression);
    throw refuse('JSONPATH_INVALID', 'the right-hand side is a JSON string, number, true, false or null', expression);
  }
  if (value !== null && !['string', 'number', 'boolean'].includes(typeof value)) {
    throw refuse('JSONPATH_UNSUPPORTED', 'only scalar literals (string, number, true, false, null) are supported', expression);
  }
  return value as JsonScalar;
}

/** Parses one expression; bad syntax is JSONPATH_INVALID, valid jsonpath we do not evaluate is JSONPATH_UNSUPPORTED. */
export function parseJsonPathCondition(expression: string): JsonPathCondition {
  const text = expression.trim();
  if (text.length === 0 || text.length > 1024) throw refuse('JSONPATH_INVALID', 'a JSONPath expression is 1-1024 characters', expression);
  const exists = /^exists\s*\(\s*/.exec(text);
  if (exists) {
    const [path, end] = readPath(text, exists[0].length, expression);
    if (!/^\s*\)$/.test(text.slice(end))) throw refuse('JSONPATH_UNSUPPORTED', 'exists() takes one path and nothing may follow it', expression);
    return { path, op: 'exists' };
  }
  const [path, end] = readPath(text, 0, expression);
  const rest = text.slice(end).trimStart();
  const comparator = Object.keys(COMPARATORS).find((c) => rest.startsWith(c));
  if (!comparator) throw refuse('JSONPATH_UNSUPPORTED', 'expected exists(<path>) or <path> <==|!=|<|<=|>|>=> <literal>', expression);
  const op = COMPARATORS[comparator]!;
  const value = readLiteral(rest.slice(comparator.length).trim(), expression);
  if ((op === 'lt' || op === 'le' || op === 'gt' || op === 'ge') && typeof value !== 'number') {
    throw refuse('JSONPATH_UNSUPPORTED', '<, <=, > and >= compare numbers only', expression);
  }
  return { path, op, value };
}
