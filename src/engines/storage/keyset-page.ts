import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import { invalid } from '../../domain/errors.ts';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, type Page, type SortMode } from '../../domain/ca/page.ts';

/**
 * Bookmark (keyset) pagination: rows are ordered by (sort column, id) and a bookmark carries the last
 * row's pair, so each page is an index range scan whatever its depth. The bookmark names its sort so a
 * client cannot continue one listing with another's bookmark.
 */
export interface KeysetSort {
  /** Stable name of the sort, written into bookmarks. */
  key: string;
  /** Qualified column, e.g. "c.not_after". */
  column: string;
  /** Qualified id column that breaks ties. */
  idColumn: string;
  mode: SortMode;
}

type Cursor = [string, SortMode, string | number, string];

export function pageSize(requested: number | undefined): number {
  const n = requested ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE_SIZE) {
    throw invalid('PAGE_SIZE_INVALID', `page_size must be an integer in 1..${MAX_PAGE_SIZE}`);
  }
  return n;
}

function decode(bookmark: string, sort: KeysetSort): Cursor {
  try {
    const c = JSON.parse(Buffer.from(bookmark, 'base64url').toString('utf8')) as Cursor;
    if (Array.isArray(c) && c.length === 4 && c[0] === sort.key && c[1] === sort.mode && typeof c[3] === 'string') {
      return c;
    }
  } catch {
    // fall through to the error below
  }
  throw invalid('BOOKMARK_INVALID', 'bookmark is not one this listing issued (same sort_by and sort_mode)');
}

/** The WHERE condition that starts after the bookmark. */
export function afterBookmark(eb: ExpressionBuilder<any, any>, sort: KeysetSort, bookmark: string): Expression<SqlBool> {
  const [, , value, id] = decode(bookmark, sort);
  const op = sort.mode === 'asc' ? '>' : '<';
  const col = sql.ref(sort.column);
  return eb.or([eb(col, op, value), eb.and([eb(col, '=', value), eb(sql.ref(sort.idColumn), op, id)])]);
}

/** Cuts the `size + 1` rows fetched into a page and the bookmark of the next one. */
export function toPage<R, T>(rows: R[], size: number, sort: KeysetSort, cursorOf: (row: R) => [string | number, string], map: (row: R) => T): Page<T> {
  const more = rows.length > size;
  const kept = more ? rows.slice(0, size) : rows;
  let next: string | null = null;
  if (more) {
    const [value, id] = cursorOf(kept[kept.length - 1]!);
    const cursor: Cursor = [sort.key, sort.mode, value, id];
    next = Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
  }
  return { list: kept.map(map), next };
}
