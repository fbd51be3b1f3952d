/**
 * A table over a list the server pages with bookmarks (every Lamassu list: `{list, next}`), with Previous /
 * Next page buttons. The bookmarks of the pages seen so far make a stack: "next" pushes the server's
 * bookmark, "previous" pops; a change of filters (`resetKey`) starts again at the first page.
 */
import { Button, Group, Stack, Table, Text } from '@mantine/core';
import { useState, type ReactNode } from 'react';

export interface Column<T> {
  header: string;
  cell: (row: T) => ReactNode;
  /** Monospace, small: serial numbers and the like. */
  mono?: boolean;
}

export interface Bookmarks {
  /** The bookmark of the page to show; undefined for the first. */
  bookmark?: string;
  /** 1-based. */
  page: number;
  next(bookmark: string): void;
  previous(): void;
}

export function useBookmarks(resetKey: string): Bookmarks {
  const [stack, setStack] = useState<string[]>([]);
  const [lastKey, setLastKey] = useState(resetKey);
  if (resetKey !== lastKey) {
    setLastKey(resetKey);
    setStack([]);
  }
  return {
    bookmark: stack[stack.length - 1],
    page: stack.length + 1,
    next: (b) => setStack((s) => [...s, b]),
    previous: () => setStack((s) => s.slice(0, -1)),
  };
}

export function PagedTable<T>(props: {
  /** The table's accessible name. */
  label: string;
  columns: Column<T>[];
  rows: T[];
  rowKey: (row: T) => string;
  /** The server's bookmark of the next page; empty or absent on the last. */
  next: string | null | undefined;
  pager: Bookmarks;
  /** Shown when the page is empty. */
  empty: string;
  minWidth?: number;
}) {
  const { label, columns, rows, rowKey, next, pager, empty, minWidth = 600 } = props;
  return (
    <Stack gap="xs">
      <Table.ScrollContainer minWidth={minWidth}>
        <Table striped highlightOnHover aria-label={label}>
          <Table.Thead>
            <Table.Tr>
              {columns.map((c) => (
                <Table.Th key={c.header}>{c.header}</Table.Th>
              ))}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((row) => (
              <Table.Tr key={rowKey(row)}>
                {columns.map((c) => (
                  <Table.Td key={c.header} style={c.mono ? { fontFamily: 'monospace', fontSize: 12 } : undefined}>
                    {c.cell(row)}
                  </Table.Td>
                ))}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {rows.length === 0 && <Text size="sm">{empty}</Text>}
      <Group>
        <Button size="xs" variant="default" disabled={pager.page === 1} onClick={pager.previous}>
          Previous page
        </Button>
        <Text size="sm">Page {pager.page}</Text>
        <Button size="xs" variant="default" disabled={!next} onClick={() => next && pager.next(next)}>
          Next page
        </Button>
      </Group>
    </Stack>
  );
}
