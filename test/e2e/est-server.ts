/**
 * Test support for EST black-box runs (test/e2e/est.test.ts, bench/est.bench.ts, bench/issuance.bench.ts):
 * an admin API client for a `lamassu serve` process started with startLamassu (bearer token from its data
 * directory). EST itself is driven by curl/openssl in the tests, by raw TLS in the benchmark.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { LamassuProcess } from '../support/lamassu-process.ts';



export interface AdminResponse {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

/** One admin API call with the server's bearer token; throws unless the status is `expect` (default 2xx). */
export function admin(server: LamassuProcess, method: string, urlPath: string, body?: unknown, expect?: number): Promise<AdminResponse> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        servername: 'localhost',
        port: server.httpsPort,
        method,
        path: urlPath,
        ca: readFileSync(server.tlsCaFile),
        headers: { authorization: `Bearer ${server.token}`, ...(payload ? { 'content-type': 'application/json' } : {}) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const ok = expect === undefined ? status >= 200 && status < 300 : status === expect;
          if (!ok) return reject(new Error(`${method} ${urlPath}: ${status} ${text}`));
          resolve({ status, json: text === '' ? undefined : JSON.parse(text) });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Lamassu's JSON carries PEMs as base64 of the PEM text. */
export const pemOf = (base64Pem: string) => Buffer.from(base64Pem, 'base64').toString('utf8');
