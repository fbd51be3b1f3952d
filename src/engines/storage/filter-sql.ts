/**
 * Lamassu list filters (domain/list-filter.ts) as SQL conditions, the same on SQLite and PostgreSQL.
 * Case-sensitive "contains" uses instr/strpos rather than LIKE (case-insensitive on SQLite); the
 * case-insensitive operators compare lower() of both sides, which the lower(column) indexes serve.
 * Dates are epoch-millisecond columns; "not" operators also match rows where the column is NULL.
 */
import { sql, type Expression, type ExpressionBuilder, type RawBuilder, type SqlBool } from 'kysely';
import type { FieldFilter } from '../../domain/list-filter.ts';

export interface FilterColumn {
  /** Qualified column, e.g. "c.subject_cn". */
  column: string;
  /** How the column stores the field: text, epoch ms, a number, 0/1 for an enum of true/false, a JSON text array. */
  stores: 'text' | 'ms' | 'number' | 'bool' | 'json_array';
}

export type FilterColumns = Readonly<Record<string, FilterColumn>>;

const contains = (pg: boolean, haystack: RawBuilder<unknown>, needle: RawBuilder<unknown>) =>
  pg ? sql<SqlBool>`strpos(${haystack}, ${needle}) > 0` : sql<SqlBool>`instr(${haystack}, ${needle}) > 0`;

function condition(f: FieldFilter, c: FilterColumn, pg: boolean): RawBuilder<SqlBool> {
  const col = sql.ref(c.column);
  const orNull = (e: RawBuilder<SqlBool>) => sql<SqlBool>`(${col} is null or ${e})`;
  if (c.stores === 'ms' || c.stores === 'number') {
    const v = f.value instanceof Date ? f.value.getTime() : Number(f.value);
    switch (f.op) {
      case 'eq':
        return sql<SqlBool>`${col} = ${v}`;
      case 'ne':
        return orNull(sql<SqlBool>`${col} <> ${v}`);
      case 'bf':
      case 'lt':
        return sql<SqlBool>`${col} < ${v}`;
      case 'le':
        return sql<SqlBool>`${col} <= ${v}`;
      case 'af':
      case 'gt':
        return sql<SqlBool>`${col} > ${v}`;
      case 'ge':
        return sql<SqlBool>`${col} >= ${v}`;
    }
  }
  if (c.stores === 'bool') {
    const v = String(f.value) === 'true' ? 1 : String(f.value) === 'false' ? 0 : -1;
    return f.op === 'ne' ? sql<SqlBool>`${col} <> ${v}` : sql<SqlBool>`${col} = ${v}`;
  }
  const text = String(f.value);
  if (c.stores === 'json_array') {
    // The array is stored as JSON text: an element is its JSON string form, quotes included.
    const element = JSON.stringify(text);
    return f.op === 'ct_ic' ? contains(pg, sql`lower(${col})`, sql`lower(${element})`) : contains(pg, sql`${col}`, sql`${element}`);
  }
  switch (f.op) {
    case 'eq':
      return sql<SqlBool>`${col} = ${text}`;
    case 'ne':
      return orNull(sql<SqlBool>`${col} <> ${text}`);
    case 'eq_ic':
      return sql<SqlBool>`lower(${col}) = lower(${text})`;
    case 'ne_ic':
      return orNull(sql<SqlBool>`lower(${col}) <> lower(${text})`);
    case 'ct':
      return contains(pg, sql`${col}`, sql`${text}`);
    case 'ct_ic':
      return contains(pg, sql`lower(${col})`, sql`lower(${text})`);
    case 'nc':
      return orNull(sql<SqlBool>`not (${contains(pg, sql`${col}`, sql`${text}`)})`);
    case 'nc_ic':
      return orNull(sql<SqlBool>`not (${contains(pg, sql`lower(${col})`, sql`lower(${text})`)})`);
    default:
      // parseFilter only lets through operators of the field's type; a date/number op on text cannot come.
      throw new Error(`filter operator ${f.op} on a text column`);
  }
}

/** One condition per filter, to be ANDed; the fields were checked against the domain's list already. */
export function filterConditions(filters: FieldFilter[] | undefined, columns: FilterColumns, pg: boolean): RawBuilder<SqlBool>[] {
  return (filters ?? []).map((f) => {
    const c = columns[f.field];
    if (!c) throw new Error(`no column for filter field ${f.field}`);
    return condition(f, c, pg);
  });
}

/** Applies `filterConditions` to a select with where(). */
export const whereFilters =
  (filters: FieldFilter[] | undefined, columns: FilterColumns, pg: boolean) =>
  (eb: ExpressionBuilder<any, any>): Expression<SqlBool> =>
    eb.and(filterConditions(filters, columns, pg));
