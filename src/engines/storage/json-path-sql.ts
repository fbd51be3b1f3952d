/**
 * JSONPath conditions (domain/json-path-condition.ts) on a JSON text column, the same answers on SQLite
 * (json_type/json_extract) and PostgreSQL (jsonb #> / #>>): the value at the path must exist and be of the
 * literal's JSON type before it is compared, so "5" never equals 5 and a missing key matches nothing.
 */
import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { JsonPathCondition, JsonPathStep } from '../../domain/json-path-condition.ts';

const COMPARE = { eq: '=', ne: '<>', lt: '<', le: '<=', gt: '>', ge: '>=' } as const;

/** SQLite's path: `$."key"[0]` (keys were checked free of quotes and backslashes). */
const sqlitePath = (steps: JsonPathStep[]) => `$${steps.map((s) => (typeof s === 'number' ? `[${s}]` : `."${s}"`)).join('')}`;

function sqliteCondition(column: string, c: JsonPathCondition): RawBuilder<SqlBool> {
  const col = sql.ref(column);
  const path = sqlitePath(c.path);
  const type = sql`json_type(${col}, ${path})`;
  const value = sql`json_extract(${col}, ${path})`;
  if (c.op === 'exists') return sql<SqlBool>`${type} is not null`;
  const v = c.value ?? null;
  const op = sql.raw(COMPARE[c.op]);
  if (v === null) return c.op === 'eq' ? sql<SqlBool>`${type} = 'null'` : sql<SqlBool>`${type} <> 'null'`;
  if (typeof v === 'boolean') return sql<SqlBool>`${type} = ${(c.op === 'eq') === v ? 'true' : 'false'}`;
  if (typeof v === 'number') return sql<SqlBool>`(${type} in ('integer', 'real') and ${value} ${op} ${v})`;
  return sql<SqlBool>`(${type} = 'text' and ${value} ${op} ${v})`;
}

function postgresCondition(column: string, c: JsonPathCondition): RawBuilder<SqlBool> {
  const path = sql`array[${sql.join(c.path.map((s) => String(s)))}]::text[]`;
  const node = sql`(${sql.ref(column)}::jsonb #> ${path})`;
  const type = sql`jsonb_typeof(${node})`;
  const text = sql`(${sql.ref(column)}::jsonb #>> ${path})`;
  if (c.op === 'exists') return sql<SqlBool>`${node} is not null`;
  const v = c.value ?? null;
  const op = sql.raw(COMPARE[c.op]);
  if (v === null) return c.op === 'eq' ? sql<SqlBool>`${type} = 'null'` : sql<SqlBool>`${type} <> 'null'`;
  if (typeof v === 'boolean') return sql<SqlBool>`(${type} = 'boolean' and ${text} = ${(c.op === 'eq') === v ? 'true' : 'false'})`;
  // The cast happens only for numbers: PostgreSQL does not promise to evaluate AND's operands in order.
  if (typeof v === 'number') return sql<SqlBool>`(case when ${type} = 'number' then ${text}::numeric end) ${op} ${String(v)}::numeric`;
  return sql<SqlBool>`(${type} = 'string' and ${text} ${op} ${v})`;
}

/** One condition per JSONPath condition on `column` (qualified, e.g. "d.metadata"), to be ANDed. */
export function jsonPathConditions(conditions: JsonPathCondition[] | undefined, column: string, pg: boolean): RawBuilder<SqlBool>[] {
  return (conditions ?? []).map((c) => (pg ? postgresCondition(column, c) : sqliteCondition(column, c)));
}
