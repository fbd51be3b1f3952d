/** What commands print: tables and key/value views for people, JSON (`--json`) for scripts. */
import Table from 'cli-table3';

export type Cell = string | number | boolean | null | undefined;
export interface Column<T> {
  header: string;
  value: (row: T) => Cell;
}

const text = (v: Cell) => (v === null || v === undefined || v === '' ? '-' : String(v));
/** No colours (the same bytes on a terminal and in a pipe), no rules between rows. */
const plain = { style: { head: [], border: [] }, chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' } };

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printTable<T>(rows: readonly T[], columns: readonly Column<T>[]): void {
  if (rows.length === 0) {
    process.stdout.write('(none)\n');
    return;
  }
  const table = new Table({ head: columns.map((c) => c.header), ...plain });
  for (const row of rows) table.push(columns.map((c) => text(c.value(row))));
  process.stdout.write(`${table.toString()}\n`);
}

/** One object as a two-column table of the fields given. */
export function printRecord(fields: Record<string, Cell>): void {
  const table = new Table(plain);
  for (const [k, v] of Object.entries(fields)) table.push({ [k]: text(v) });
  process.stdout.write(`${table.toString()}\n`);
}

/** A line for people on stderr, so stdout stays the command's result (PEM, JSON). */
export function note(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** Subject fields as "CN=x, O=y". */
export function subjectText(s: Record<string, string | undefined> | undefined): string {
  if (!s) return '';
  const names: [string, string][] = [
    ['common_name', 'CN'],
    ['organization_unit', 'OU'],
    ['organization', 'O'],
    ['locality', 'L'],
    ['state', 'ST'],
    ['country', 'C'],
    ['serial_number', 'serialNumber'],
  ];
  return names.filter(([k]) => s[k]).map(([k, short]) => `${short}=${s[k]}`).join(', ');
}

/** A date of the API (RFC 3339) shortened to the minute, UTC. */
export const when = (iso: string | null | undefined) => (iso ? iso.replace(/:\d{2}(\.\d+)?Z$/, 'Z').replace('T', ' ') : '');
