/**
 * Where the server is and how to talk to it: flags first, then LAMASSU_* variables, then what a local
 * `lamassu serve` left in its data directory (admin-token, tls/ca.pem) and the default ports.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { usageError } from './errors.ts';

/** The options every command takes (defined once on the program). */
export interface GlobalOptions {
  url?: string;
  httpUrl?: string;
  token?: string;
  cacert?: string;
  dataDir?: string;
  json?: boolean;
}

export interface Connection {
  /** HTTPS base of the admin APIs and EST, e.g. https://127.0.0.1:8443 */
  apiUrl: string;
  /** Plain-HTTP base of OCSP and CRLs, e.g. http://127.0.0.1:8080 */
  httpUrl: string;
  /** Undefined when none was given or found; admin calls then refuse with a usage error. */
  token: string | undefined;
  /** PEM of the CA(s) to trust for HTTPS, in addition to none: the server's own TLS CA by default. */
  ca: string | undefined;
}

const DEFAULT_HTTPS_PORT = '8443';
const DEFAULT_HTTP_PORT = '8080';

function readOptional(file: string): string | undefined {
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
}

function readRequired(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw usageError(`cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function baseUrl(text: string, what: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usageError(`${what} "${text}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw usageError(`${what} "${text}" must be http(s)://`);
  return url.href.replace(/\/+$/, '');
}

export function resolveConnection(opts: GlobalOptions, env: NodeJS.ProcessEnv = process.env): Connection {
  const dataDir = path.resolve(opts.dataDir ?? env.LAMASSU_DATA_DIR ?? './lamassu-data');
  const apiUrl = baseUrl(opts.url ?? env.LAMASSU_URL ?? `https://127.0.0.1:${env.LAMASSU_HTTPS_PORT ?? DEFAULT_HTTPS_PORT}`, '--url');
  const host = new URL(apiUrl).host.replace(/:\d+$/, '');
  const httpUrl = baseUrl(opts.httpUrl ?? env.LAMASSU_HTTP_URL ?? `http://${host}:${env.LAMASSU_HTTP_PORT ?? DEFAULT_HTTP_PORT}`, '--http-url');
  const tokenFile = path.join(dataDir, 'admin-token');
  const token = (opts.token ?? env.LAMASSU_TOKEN ?? readOptional(tokenFile))?.trim() || undefined;
  const caFile = opts.cacert ?? env.LAMASSU_CACERT;
  const ca = caFile !== undefined ? readRequired(caFile, '--cacert') : readOptional(path.join(dataDir, 'tls', 'ca.pem'));
  return { apiUrl, httpUrl, token, ca };
}
