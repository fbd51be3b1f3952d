/**
 * What every list route shares with Lamassu's: repeatable `filter=<field>[<op>]<value>`, `sort_by` in
 * our names or Lamassu's (its filterable field names, e.g. creation_timestamp), an empty `sort_by=` for
 * the default order, and `"next": ""` on the last page (Lamassu's convention for "no more").
 */
import { Type } from 'typebox';
import { MAX_FILTERS, parseFilters, type FieldFilter, type FilterFields } from '../domain/list-filter.ts';

/** The `filter` query parameter; repeated, or once (coerced to a one-element array). */
export const FilterParam = Type.Optional(
  Type.Array(Type.String({ maxLength: 1024 }), {
    maxItems: MAX_FILTERS,
    description:
      "Lamassu filter `<field>[<operator>]<value>`, repeatable (ANDed). Operators: eq, eq_ic, ne, ne_ic, ct, ct_ic, nc, nc_ic (text); " +
      'eq, ne (enums, case-insensitive values); bf, eq, af (dates, RFC 3339); eq, ne, lt, le, gt, ge (numbers); ct, ct_ic (tags). ' +
      'Unknown field: 400 FILTER_FIELD_UNKNOWN; operator not for the field: 400 FILTER_OPERATOR_INVALID; JSONPath: 400 FILTER_OPERATOR_UNSUPPORTED.',
  }),
);

/** `sort_by` accepting our keys, Lamassu's aliases and the empty string (= default). */
export const sortByParam = (keys: readonly string[], aliases: Readonly<Record<string, string>>) =>
  Type.Optional(Type.Union([...keys, ...Object.keys(aliases), ''].map((k) => Type.Literal(k)), { description: 'sort key; empty: the default order' }));

export function sortKeyOf<K extends string>(raw: string | undefined, aliases: Readonly<Record<string, K>>): K | undefined {
  if (raw === undefined || raw === '') return undefined;
  return (Object.hasOwn(aliases, raw) ? aliases[raw] : raw) as K;
}

export function filtersOf(raw: string[] | undefined, fields: FilterFields): FieldFilter[] | undefined {
  const filters = parseFilters(raw, fields);
  return filters.length > 0 ? filters : undefined;
}

/** Lamassu's page: the bookmark of the next page, or "" on the last one. */
/** `map` gets the item only (never Array.map's index, which a serializer with an optional second parameter would misread). */
export const pageJson = <T, U>(page: { list: T[]; next: string | null }, map: (item: T) => U) => ({ list: page.list.map((item) => map(item)), next: page.next ?? '' });
