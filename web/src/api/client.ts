/**
 * The API client, typed from the server's OpenAPI document (schema.d.ts is generated from web/openapi.json,
 * which scripts/openapi-document.ts writes from the running app; a root test checks both are current).
 * The bearer token is added here from memory, never put in a URL.
 */
import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './schema';

let bearer: string | undefined;
export const setBearer = (token: string | undefined) => {
  bearer = token;
};

const auth: Middleware = {
  onRequest({ request }) {
    if (bearer) request.headers.set('Authorization', `Bearer ${bearer}`);
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: '' });
api.use(auth);

/** A refusal from the server, with its stable code and its message in words. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** `{data}` or throws the server's `{code, message}` as an ApiError. */
export async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let result;
  try {
    result = await call;
  } catch (err) {
    throw new ApiError(0, 'NETWORK', `the server could not be reached (${(err as Error).message})`);
  }
  const { data, error, response } = result;
  if (response.ok) return data as T;
  const body = (error ?? {}) as { code?: unknown; message?: unknown };
  throw new ApiError(
    response.status,
    typeof body.code === 'string' ? body.code : `HTTP_${response.status}`,
    typeof body.message === 'string' ? body.message : response.statusText || 'request failed',
  );
}

/** For the few routes the OpenAPI document gives no response schema (devices, alerts) or that answer non-JSON (CRLs). */
export async function getJson<T>(url: string): Promise<T> {
  return sendJson<T>('GET', url);
}

/** As getJson, with a method and an optional JSON body. */
export async function sendJson<T>(method: string, url: string, body?: unknown): Promise<T> {
  return unwrap<T>(
    (async () => {
      const headers: Record<string, string> = bearer ? { Authorization: `Bearer ${bearer}` } : {};
      if (body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(url, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      const answer = response.headers.get('content-type')?.includes('json') ? await response.json() : undefined;
      return response.ok ? { data: answer as T, response } : { error: answer, response };
    })(),
  );
}

/** Lamassu's JSON carries PEMs as base64 of the PEM text. */
export const pemOf = (base64Pem: string) => atob(base64Pem);

export type Schemas = import('./schema').components extends { schemas: infer S } ? S : never;
