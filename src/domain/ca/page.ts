/** One page of a list and the opaque bookmark of the next (null on the last page). */
export interface Page<T> {
  list: T[];
  next: string | null;
}

export type SortMode = 'asc' | 'desc';

export interface PageRequest<S extends string> {
  sortBy?: S;
  sortMode?: SortMode;
  /** 1..1000; repositories default to 100. */
  pageSize?: number;
  bookmark?: string;
}

export const MAX_PAGE_SIZE = 1000;
export const DEFAULT_PAGE_SIZE = 100;
