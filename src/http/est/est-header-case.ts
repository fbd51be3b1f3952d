/**
 * Header names in canonical case on every EST response (`Content-Type`, `Content-Length`,
 * `Content-Transfer-Encoding`, `WWW-Authenticate`, `Retry-After` ...). HTTP names are case-insensitive, but
 * widely deployed embedded EST clients look them up case-sensitively, and fastify stores every name lower-case.
 * Node writes names exactly as writeHead receives them, so EST responses rename them there, at the last
 * moment: fastify's send, error handling, hooks, logging and metrics stay as they are.
 */
import type { OutgoingHttpHeader, OutgoingHttpHeaders, ServerResponse } from 'node:http';

/** Names whose canonical spelling is not "capitalise each dash-separated word". */
const IRREGULAR: Record<string, string> = { 'www-authenticate': 'WWW-Authenticate', etag: 'ETag', te: 'TE' };

export function canonicalHeaderName(name: string): string {
  const lower = name.toLowerCase();
  return IRREGULAR[lower] ?? lower.replace(/(^|-)([a-z])/g, (_m, dash: string, letter: string) => dash + letter.toUpperCase());
}

function renamed(headers: OutgoingHttpHeaders | OutgoingHttpHeader[]): OutgoingHttpHeaders | OutgoingHttpHeader[] {
  if (Array.isArray(headers)) return headers.map((v, i) => (i % 2 === 0 && typeof v === 'string' ? canonicalHeaderName(v) : v));
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) out[canonicalHeaderName(name)] = value;
  return out;
}

/** Makes `res` write its header names in canonical case (call before anything is sent). */
export function writeCanonicalHeaderNames(res: ServerResponse): void {
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, statusCode: number, ...rest: unknown[]) {
    // Names set with setHeader (by Node's user code or a plugin) keep the spelling given there: respell them.
    for (const name of this.getHeaderNames()) {
      const value = this.getHeader(name);
      if (value === undefined) continue;
      this.removeHeader(name);
      this.setHeader(canonicalHeaderName(name), value);
    }
    const at = typeof rest[0] === 'string' ? 1 : 0; // writeHead(status, [statusMessage], [headers])
    const headers = rest[at];
    if (headers !== null && typeof headers === 'object') rest[at] = renamed(headers as OutgoingHttpHeaders);
    return (writeHead as (...args: unknown[]) => ServerResponse).call(this, statusCode, ...rest);
  } as ServerResponse['writeHead'];
}
