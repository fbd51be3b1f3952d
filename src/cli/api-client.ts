/**
 * A small client of the REST API: bearer token, the server's TLS CA, errors turned into exit codes
 * (ApiError: the server's `{code, message}`; UnreachableError: no answer at all).
 */
import { Agent, fetch, type RequestInit, type Response } from 'undici';
import type { Connection } from './connection.ts';
import { ApiError, UnreachableError, usageError } from './errors.ts';

/** Long enough for a CA key on a slow HSM; a hung server still ends the command. */
const REQUEST_TIMEOUT_MS = 60_000;

export interface ClientTls {
  /** PEM client certificate (chain) and key, for EST certificate authentication. */
  cert?: string;
  key?: string;
}

export interface Page<T> {
  list: T[];
  next: string | null;
}

function causeOf(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  if (cause) return [cause.code, cause.message].filter(Boolean).join(' ');
  return (e as Error).message;
}

/** `{code, message}` from a JSON error body, or `CODE: message` from a plain-text one (EST). */
async function errorOf(res: Response): Promise<ApiError> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as { code?: unknown; message?: unknown };
    if (typeof body.code === 'string') return new ApiError(res.status, body.code, String(body.message ?? ''));
  } catch {
    // not JSON
  }
  const plain = /^([A-Z][A-Z0-9_]+): (.*)$/s.exec(text.trim());
  if (plain) return new ApiError(res.status, plain[1]!, plain[2]!);
  return new ApiError(res.status, `HTTP_${res.status}`, text.trim().slice(0, 300) || res.statusText);
}

export class ApiClient {
  private readonly dispatcher: Agent;

  constructor(
    readonly connection: Connection,
    tls: ClientTls = {},
  ) {
    this.dispatcher = new Agent({
      connect: {
        ...(connection.ca ? { ca: connection.ca } : {}),
        ...(tls.cert ? { cert: tls.cert } : {}),
        ...(tls.key ? { key: tls.key } : {}),
      },
    });
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  /** Any request; throws UnreachableError when no answer came, ApiError for an answer >= 400. */
  async send(url: string, init: RequestInit = {}): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(url, { ...init, dispatcher: this.dispatcher, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    } catch (e) {
      throw new UnreachableError(new URL(url).origin, causeOf(e));
    }
    if (res.status >= 400) throw await errorOf(res);
    return res;
  }

  private authorization(): Record<string, string> {
    const token = this.connection.token;
    if (!token) throw usageError('no admin token: give --token or LAMASSU_TOKEN, or run next to the data directory (--data-dir, LAMASSU_DATA_DIR) holding admin-token');
    return { authorization: `Bearer ${token}` };
  }

  /** A JSON call to the admin API; `path` starts with the service prefix (/api/ca/v1/...). */
  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { ...this.authorization(), accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await this.send(`${this.connection.apiUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }

  /** A non-JSON admin read (PEM downloads). */
  async text(path: string, accept: string): Promise<string> {
    const res = await this.send(`${this.connection.apiUrl}${path}`, { headers: { ...this.authorization(), accept } });
    return res.text();
  }

  /** Every item of a bookmark-paged list, or the first `limit`. */
  async list<T>(path: string, query: Record<string, string | undefined>, limit?: number): Promise<T[]> {
    const out: T[] = [];
    let bookmark: string | null | undefined;
    do {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, v);
      const want = limit === undefined ? 1000 : Math.min(1000, limit - out.length);
      params.set('page_size', String(want));
      if (bookmark) params.set('bookmark', bookmark);
      const page = await this.json<Page<T>>('GET', `${path}?${params}`);
      out.push(...page.list);
      bookmark = page.next;
    } while (bookmark && (limit === undefined || out.length < limit));
    return out;
  }
}
