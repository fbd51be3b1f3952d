/** Option groups and parsers several nouns share (subject, key type, validity, files). */
import { readFileSync, writeFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { usageError } from './errors.ts';

export interface SubjectOptions {
  cn?: string;
  o?: string;
  ou?: string;
  country?: string;
  state?: string;
  locality?: string;
}

export function withSubjectOptions(cmd: Command): Command {
  return cmd
    .option('--cn <name>', 'subject common name')
    .option('--o <organization>', 'subject organization')
    .option('--ou <unit>', 'subject organizational unit')
    .option('--country <cc>', 'subject country (two letters)')
    .option('--state <state>', 'subject state or province')
    .option('--locality <locality>', 'subject locality');
}

export function subjectOf(o: SubjectOptions): Record<string, string> {
  const s: Record<string, string> = {};
  if (o.cn) s.common_name = o.cn;
  if (o.o) s.organization = o.o;
  if (o.ou) s.organization_unit = o.ou;
  if (o.country) s.country = o.country;
  if (o.state) s.state = o.state;
  if (o.locality) s.locality = o.locality;
  return s;
}

export interface KeySpec {
  type: 'RSA' | 'ECDSA' | 'ED25519';
  bits: number;
}

/** "ECDSA-256", "RSA-3072", "ED25519" (case-insensitive). */
export function parseKeySpec(text: string): KeySpec {
  const m = /^(RSA|ECDSA|EC|ED25519)(?:-(\d+))?$/i.exec(text.trim());
  if (!m) throw new InvalidArgumentError('expected RSA-<bits>, ECDSA-<256|384|521> or ED25519');
  const type = m[1]!.toUpperCase();
  if (type === 'ED25519') return { type: 'ED25519', bits: 256 };
  const bits = m[2] ? Number(m[2]) : type === 'RSA' ? 2048 : 256;
  return { type: type === 'RSA' ? 'RSA' : 'ECDSA', bits };
}

/** A duration ("10y", "90d", "1y2w") or an end time (RFC 3339). */
export function parseValidity(text: string): { type: 'Duration'; duration: string } | { type: 'Time'; time: string } {
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const d = new Date(text);
    if (Number.isNaN(d.getTime())) throw new InvalidArgumentError(`"${text}" is not a date`);
    return { type: 'Time', time: d.toISOString() };
  }
  if (!/^(\d+(ms|s|m|h|d|w|y))+$/.test(text)) throw new InvalidArgumentError('expected a duration such as 10y, 90d, 1y2w, or an RFC 3339 time');
  return { type: 'Duration', duration: text };
}

export function parsePositiveInt(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

/** JSON object given inline or as @file. */
export function parseJsonObject(text: string): Record<string, unknown> {
  const raw = text.startsWith('@') ? readFileSync(text.slice(1), 'utf8') : text;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new InvalidArgumentError('expected a JSON object (or @file)');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InvalidArgumentError('expected a JSON object');
  return v as Record<string, unknown>;
}

export function readInput(file: string, what: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    throw usageError(`cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export function readBytes(file: string, what: string): Buffer {
  try {
    return readFileSync(file === '-' ? 0 : file);
  } catch (e) {
    throw usageError(`cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Writes a result file; private keys get mode 0600. */
export function writeOutput(file: string, data: string | Uint8Array, secret = false): void {
  try {
    writeFileSync(file, data, { mode: secret ? 0o600 : 0o644 });
  } catch (e) {
    throw usageError(`cannot write ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export const REVOCATION_REASONS = [
  'Unspecified',
  'KeyCompromise',
  'CACompromise',
  'AffiliationChanged',
  'Superseded',
  'CessationOfOperation',
  'PrivilegeWithdrawn',
  'AACompromise',
];
