/** Whether an answer is acceptable: never >= 500 (but 501 with a code documented as 501), errors in the protocol's shape with a documented code. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Protocol } from './requests.ts';

const docs = readFileSync(path.resolve(import.meta.dirname, '../../docs/errors.md'), 'utf8');
const rows = [...docs.matchAll(/^\|\s*([A-Z][A-Z0-9_]+)\s*\|\s*([^|]*)\|/gm)];
export const documentedCodes = new Set(rows.map((m) => m[1]!));
/** "Not offered" answers documented as 501 (e.g. EST fullcmc): deliberate, not failures. */
const documented501 = new Set(rows.filter((m) => m[2]!.trim().startsWith('501')).map((m) => m[1]!));

export interface Answer {
  status: number;
  contentType: string;
  body: string;
  method: string;
}

const codeOfJson = (body: string): string | Error => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return new Error('error body is not JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return new Error('error body is not a JSON object');
  const keys = Object.keys(parsed).sort().join(',');
  if (keys !== 'code,message') return new Error(`error body has keys ${keys}, not code,message`);
  const { code, message } = parsed as { code: unknown; message: unknown };
  if (typeof code !== 'string' || typeof message !== 'string') return new Error('code and message must be strings');
  return code;
};

/** undefined when fine, else why not. */
export function judge(protocol: Protocol, a: Answer): string | undefined {
  if (a.status < 400) return undefined;
  if (a.method === 'HEAD' || a.status === 304) return undefined;
  let code: string | Error;
  if (protocol === 'ocsp' && a.contentType.startsWith('application/ocsp-response')) return a.status >= 500 ? `status ${a.status}` : undefined;
  if (protocol === 'est' && a.contentType.startsWith('text/plain')) {
    const m = /^([A-Z][A-Z0-9_]+): [^\n]*\n$/.exec(a.body);
    code = m ? m[1]! : new Error('EST error is not one "CODE: message" line');
  } else if (a.contentType.startsWith('application/json')) {
    code = codeOfJson(a.body);
  } else {
    code = new Error(`error answered as ${a.contentType || 'no content type'}`);
  }
  if (code instanceof Error) return code.message;
  if (!documentedCodes.has(code)) return `code ${code} is not in docs/errors.md`;
  if (a.status >= 500 && !(a.status === 501 && documented501.has(code))) return `status ${a.status} (${code})`;
  return undefined;
}
