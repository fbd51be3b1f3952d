/**
 * A plain-JavaScript reading of Lamassu's filter operators over flat records, to check what the SQL
 * returns for every field and operator. Values are ASCII so JS and SQL lower() agree.
 */
import type { FieldFilter } from '../../src/domain/list-filter.ts';

export type FlatValue = string | number | Date | null | string[];
export type FlatRecord = { id: string } & Record<string, FlatValue>;

export function matches(r: FlatRecord, f: FieldFilter): boolean {
  const x = r[f.field];
  if (Array.isArray(x)) return f.op === 'ct_ic' ? x.some((t) => t.toLowerCase() === String(f.value).toLowerCase()) : x.includes(String(f.value));
  if (x instanceof Date || typeof x === 'number' || f.value instanceof Date || typeof f.value === 'number') {
    const a = x instanceof Date ? x.getTime() : (x as number | null);
    const v = f.value instanceof Date ? f.value.getTime() : Number(f.value);
    if (a === null) return f.op === 'ne';
    return { eq: a === v, ne: a !== v, bf: a < v, lt: a < v, le: a <= v, af: a > v, gt: a > v, ge: a >= v }[f.op as 'eq'] ?? false;
  }
  const v = String(f.value);
  if (x === null) return ['ne', 'ne_ic', 'nc', 'nc_ic'].includes(f.op);
  const s = String(x);
  const [l, lv] = [s.toLowerCase(), v.toLowerCase()];
  return { eq: s === v, eq_ic: l === lv, ne: s !== v, ne_ic: l !== lv, ct: s.includes(v), ct_ic: l.includes(lv), nc: !s.includes(v), nc_ic: !l.includes(lv) }[f.op as 'eq'] ?? false;
}
