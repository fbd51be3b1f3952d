/**
 * Lamassu's list filters: `filter=<field>[<operator>]<value>`, repeatable, all ANDed (Lamassu v3.5
 * `docs/filtering.md`). Each resource declares which fields filter and of what type; the type decides
 * the operators. An unknown field, an operator its type does not take, or a value of the wrong shape is
 * a 400 with a stable code: a filter is never silently dropped, so a search never returns everything.
 */
import { invalid } from './errors.ts';
import { parseJsonPathFilter, type JsonPathPredicate } from './jsonpath-filter.ts';

export type FilterFieldType = 'string' | 'enum' | 'date' | 'number' | 'string_array' | 'json';

export type FilterOperator = 'eq' | 'eq_ic' | 'ne' | 'ne_ic' | 'ct' | 'ct_ic' | 'nc' | 'nc_ic' | 'bf' | 'af' | 'lt' | 'le' | 'gt' | 'ge' | 'jsonpath';

export interface FilterField {
  type: FilterFieldType;
  /** enum: the canonical values; a filter value matches them case-insensitively (v3.5). */
  values?: readonly string[];
  /** json: why `[jsonpath]` is not offered on this field (absent: it is). */
  jsonpathUnsupported?: string;
}

export type FilterFields = Readonly<Record<string, FilterField>>;

export interface FieldFilter {
  field: string;
  op: FilterOperator;
  /** string/enum: text; date: a Date; number: a number; json (jsonpath): the parsed predicate. */
  value: string | number | Date | JsonPathPredicate;
}

/** Operator names per field type, Lamassu's short and long spellings (matched case-insensitively). */
const OPERATORS: Record<Exclude<FilterFieldType, 'json'>, Record<string, FilterOperator>> = {
  string: {
    eq: 'eq', equal: 'eq', eq_ic: 'eq_ic', equal_ignorecase: 'eq_ic',
    ne: 'ne', notequal: 'ne', ne_ic: 'ne_ic', notequal_ignorecase: 'ne_ic',
    ct: 'ct', contains: 'ct', ct_ic: 'ct_ic', contains_ignorecase: 'ct_ic',
    nc: 'nc', notcontains: 'nc', nc_ic: 'nc_ic', notcontains_ignorecase: 'nc_ic',
  },
  string_array: { ct: 'ct', contains: 'ct', ct_ic: 'ct_ic', contains_ignorecase: 'ct_ic' },
  enum: { eq: 'eq', equal: 'eq', ne: 'ne', notequal: 'ne' },
  date: { bf: 'bf', before: 'bf', eq: 'eq', equal: 'eq', af: 'af', after: 'af' },
  number: {
    eq: 'eq', equal: 'eq', ne: 'ne', notequal: 'ne', lt: 'lt', lessthan: 'lt', le: 'le', lessequal: 'le', lessorequal: 'le',
    gt: 'gt', greaterthan: 'gt', ge: 'ge', greaterequal: 'ge', greaterorequal: 'ge',
  },
};

/** The operators each field type takes, by their short names. */
export const FILTER_OPERATORS_BY_TYPE: Readonly<Record<Exclude<FilterFieldType, 'json'>, readonly FilterOperator[]>> = Object.fromEntries(
  Object.entries(OPERATORS).map(([type, table]) => [type, [...new Set(Object.values(table))]]),
) as Record<Exclude<FilterFieldType, 'json'>, FilterOperator[]>;

export const MAX_FILTERS = 16;
const MAX_FILTER_LENGTH = 1024;

const clip = (s: string) => s.slice(0, 80);

function parseValue(field: string, spec: FilterField, text: string): string | number | Date {
  switch (spec.type) {
    case 'date': {
      // RFC 3339 like Lamassu; a bare date (2026-01-01) is midnight UTC.
      const ms = /^\d{4}-\d{2}-\d{2}([Tt ][0-9:.]+([Zz]|[+-]\d{2}:\d{2}))?$/.test(text) ? Date.parse(text) : Number.NaN;
      if (Number.isNaN(ms)) throw invalid('FILTER_VALUE_INVALID', `filter on ${field}: "${clip(text)}" is not an RFC 3339 date`, { field });
      return new Date(ms);
    }
    case 'number': {
      const n = /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
      if (!Number.isFinite(n)) throw invalid('FILTER_VALUE_INVALID', `filter on ${field}: "${clip(text)}" is not a number`, { field });
      return n;
    }
    case 'enum': {
      // Case-insensitive values (v3.5); a value of no known spelling matches nothing, as in Lamassu.
      const canonical = spec.values?.find((v) => v.toLowerCase() === text.toLowerCase());
      return canonical ?? text;
    }
    default:
      return text;
  }
}

/** One `filter` query value. */
export function parseFilter(raw: string, fields: FilterFields): FieldFilter {
  if (raw.length > MAX_FILTER_LENGTH) throw invalid('FILTER_INVALID', `a filter is at most ${MAX_FILTER_LENGTH} characters`);
  const open = raw.indexOf('[');
  const close = raw.indexOf(']');
  if (open <= 0 || close < open) throw invalid('FILTER_INVALID', `filter "${clip(raw)}" is not <field>[<operator>]<value>`);
  return filterOf(raw.slice(0, open), raw.slice(open + 1, close), raw.slice(close + 1), fields);
}

/** A filter given as its parts (device groups' criteria `{field, operand, value}`), checked like `parseFilter`. */
export function filterOf(field: string, operand: string, text: string, fields: FilterFields): FieldFilter {
  const operator = operand.toLowerCase();
  const spec = Object.hasOwn(fields, field) ? fields[field] : undefined;
  if (!spec) {
    throw invalid('FILTER_FIELD_UNKNOWN', `"${clip(field)}" is not a filterable field here; known: ${Object.keys(fields).join(', ')}`, { field: clip(field) });
  }
  if (spec.type === 'json') {
    if (operator !== 'jsonpath') {
      throw invalid('FILTER_OPERATOR_INVALID', `operator "${clip(operator)}" does not apply to ${field} (json); use jsonpath`, { field, operator: clip(operator) });
    }
    if (spec.jsonpathUnsupported) throw invalid('FILTER_OPERATOR_UNSUPPORTED', `[jsonpath] on ${field} is not offered: ${spec.jsonpathUnsupported}`, { field });
    return { field, op: 'jsonpath', value: parseJsonPathFilter(text) };
  }
  const table = OPERATORS[spec.type];
  const op = Object.hasOwn(table, operator) ? table[operator] : undefined;
  if (!op) {
    throw invalid('FILTER_OPERATOR_INVALID', `operator "${clip(operator)}" does not apply to ${field} (${spec.type}); use one of ${[...new Set(Object.values(table))].join(', ')}`, {
      field,
      operator: clip(operator),
    });
  }
  return { field, op, value: parseValue(field, spec, text) };
}

/** Every `filter` query value (absent: none). */
export function parseFilters(raw: string | string[] | undefined, fields: FilterFields): FieldFilter[] {
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  if (list.length > MAX_FILTERS) throw invalid('FILTER_INVALID', `at most ${MAX_FILTERS} filters per request`);
  return list.map((f) => parseFilter(f, fields));
}
