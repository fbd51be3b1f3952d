/**
 * Lamassu list filters (domain/list-filter.ts) as SQL conditions, the same on SQLite and PostgreSQL.
 * Case-sensitive "contains" uses instr/strpos rather than LIKE (case-insensitive on SQLite); the
 * case-insensitive operators compare lower() of both sides, which the lower(column) indexes serve.
 * Dates are epoch-millisecond columns; "not" operators also match rows where the column is NULL.
 */
import { sql, type Expression, type ExpressionBuilder, type RawBuilder, type SqlBool } from 'kysely';
import { jsonPathText, type JsonCompareOp, type JsonLiteral, type JsonPathPredicate, type JsonStep } from '../../domain/jsonpath-filter.ts';
import type { FieldFilter } from '../../domain/list-filter.ts';

export interface FilterColumn {
  /** Qualified column, e.g. "c.subject_cn". */
  column: string;
  /** How the column stores the field: text, epoch ms, a number, 0/1 for an enum of true/false, a JSON text array, a JSON object. */
  stores: 'text' | 'ms' | 'number' | 'bool' | 'json_array' | 'json';
  /** json: the keys leading from the column's document to the field (certificate metadata sits in `details`). */
  prefix?: readonly string[];
}

export type FilterColumns = Readonly<Record<string, FilterColumn>>;

const contains = (pg: boolean, haystack: RawBuilder<unknown>, needle: RawBuilder<unknown>) =>
  pg ? sql<SqlBool>`strpos(${haystack}, ${needle}) > 0` : sql<SqlBool>`instr(${haystack}, ${needle}) > 0`;

function condition(f: FieldFilter, c: FilterColumn, pg: boolean): RawBuilder<SqlBool> {
  const col = sql.ref(c.column);
  if (f.op === 'jsonpath') {
    const predicate = f.value as JsonPathPredicate;
    if (pg) {
      // PostgreSQL evaluates the jsonpath itself (Lamassu's `@@`), on text rebuilt from the parsed tree.
      const doc = c.prefix?.length ? sql`jsonb_extract_path(${col}::jsonb, ${sql.join(c.prefix.map((k) => sql.lit(k)))})` : sql`${col}::jsonb`;
      return sql<SqlBool>`coalesce(${doc} @@ ${jsonPathText(predicate)}::jsonpath, false)`;
    }
    return sql<SqlBool>`coalesce(${sqliteJsonPath(predicate, sql`${col}`, (c.prefix ?? []).map((key) => ({ key })))}, 0) = 1`;
  }
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

// ---- jsonpath on SQLite: the same predicates with SQLite's JSON functions ----
// PostgreSQL's lax jsonpath semantics, as far as the subset reaches: a missing path compares false, values
// of another type (or objects, arrays) compare unknown (NULL, so !( ) of it stays unknown); an array at
// the end of a path compares each element (true if one does). Arrays in the middle of a path are not
// unwrapped (PostgreSQL does): `$.a.b` does not look into the objects of an array `a`.

const sqlitePath = (steps: readonly JsonStep[]) =>
  `$${steps.map((s) => ('key' in s ? `."${s.key}"` : 'index' in s ? `[${s.index}]` : '[#-1]')).join('')}`;

/** 1, 0 or NULL: a JSON value of SQLite type `type` and value `value` compared with a literal. */
function sqliteCompare(type: RawBuilder<unknown>, value: RawBuilder<unknown>, op: JsonCompareOp, lit: JsonLiteral): RawBuilder<unknown> {
  if (lit === null) return op === '==' ? sql`(${type} = 'null')` : sql`(${type} <> 'null')`;
  if (typeof lit === 'boolean') {
    const same = sql`(${type} = ${lit ? 'true' : 'false'})`;
    return sql`(case when ${type} in ('true', 'false') then ${op === '==' ? same : sql`not ${same}`} when ${type} = 'null' then ${op === '==' ? 0 : 1} end)`;
  }
  const types = typeof lit === 'number' ? sql`('integer', 'real')` : sql`('text')`;
  const sqlOp = sql.raw(op === '==' ? '=' : op === '!=' ? '<>' : op);
  return sql`(case when ${type} in ${types} then (${value} ${sqlOp} ${lit}) when ${type} = 'null' then ${op === '!=' ? 1 : op === '==' ? 0 : null} end)`;
}

/** The comparison of the value at `path` of `doc`, unwrapping an array there. */
function sqlitePathCompare(doc: RawBuilder<unknown>, path: string, op: JsonCompareOp, lit: JsonLiteral): RawBuilder<unknown> {
  const type = sql`json_type(${doc}, ${path})`;
  const each = sqliteCompare(sql`e.type`, sql`e.atom`, op, lit);
  return sql`(case when ${type} is null then 0
    when ${type} = 'array' then (case when exists (select 1 from json_each(${doc}, ${path}) e where ${each} = 1) then 1
      when exists (select 1 from json_each(${doc}, ${path}) e where ${each} is null) then null else 0 end)
    else ${sqliteCompare(type, sql`json_extract(${doc}, ${path})`, op, lit)} end)`;
}

function sqliteJsonPath(p: JsonPathPredicate, doc: RawBuilder<unknown>, prefix: readonly JsonStep[]): RawBuilder<unknown> {
  switch (p.kind) {
    case 'and':
      return sql`(${sqliteJsonPath(p.left, doc, prefix)} and ${sqliteJsonPath(p.right, doc, prefix)})`;
    case 'or':
      return sql`(${sqliteJsonPath(p.left, doc, prefix)} or ${sqliteJsonPath(p.right, doc, prefix)})`;
    case 'not':
      return sql`(not ${sqliteJsonPath(p.expr, doc, prefix)})`;
    case 'cmp':
      return sqlitePathCompare(doc, sqlitePath([...prefix, ...p.path]), p.op, p.value);
    case 'exists': {
      const path = sqlitePath([...prefix, ...p.path]);
      const type = sql`json_type(${doc}, ${path})`;
      if (!p.each) return sql`(${type} is not null)`;
      if (!p.filter) return sql`(case when ${type} is null then 0 when ${type} = 'array' then json_array_length(${doc}, ${path}) > 0 else 1 end)`;
      const f = p.filter;
      // Each element (or the value itself when it is no array, as lax [*] does) kept when the filter is true.
      const onElement = sql`coalesce(${sqlitePathCompare(sql`e.value`, sqlitePath(f.rel), f.op, f.value)}, 0) = 1`;
      const onValue = sqlitePathCompare(sql`json_extract(${doc}, ${path})`, sqlitePath(f.rel), f.op, f.value);
      const elementFilter = f.rel.length === 0 ? sql`coalesce(${sqliteCompare(sql`e.type`, sql`e.atom`, f.op, f.value)}, 0) = 1` : sql`(e.type = 'object' and ${onElement})`;
      const valueFilter = f.rel.length === 0 ? sqliteCompare(type, sql`json_extract(${doc}, ${path})`, f.op, f.value) : sql`(${type} = 'object' and coalesce(${onValue}, 0) = 1)`;
      return sql`(case when ${type} is null then 0
        when ${type} = 'array' then exists (select 1 from json_each(${doc}, ${path}) e where ${elementFilter})
        else coalesce(${valueFilter}, 0) = 1 end)`;
    }
  }
}
