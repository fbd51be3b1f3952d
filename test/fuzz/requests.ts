/** One fuzz request from its generator: which listener, method, path, headers and body, and how to judge the answer. */
import { brokenJson, contentTypes, derLike, enc, multipart, oddStrings, pathId, type Samples } from './inputs.ts';
import { fillPath, instance, queryString, type Route } from './openapi.ts';
import type { Rng } from './prng.ts';

/** The shape error answers must have: our JSON, EST's plain text, or an OCSP response. */
export type Protocol = 'json' | 'est' | 'ocsp';

export interface HttpCase {
  kind: 'http';
  listener: 'http' | 'https';
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer | string;
  protocol: Protocol;
}

/** Bytes written as they are on a fresh connection: what no well-behaved client library would send. */
export interface RawCase {
  kind: 'raw';
  listener: 'http' | 'https';
  bytes: Buffer;
  protocol: Protocol;
  /** The bytes end mid-request: the client then closes its side, and a close without an answer is fine. */
  truncated?: boolean;
}

export type FuzzCase = HttpCase | RawCase;

export const EST_PREFIXES = ['/.well-known/est', '/api/dmsmanager/.well-known/est'];
const EST_OPS = ['cacerts', 'simpleenroll', 'simplereenroll', 'serverkeygen', 'csrattrs', 'fullcmc', 'nope', ''];
/** Routes that also (or only) live on the plain-HTTP listener. */
const PUBLIC = [/^\/api\/va\/ocsp/, /^\/api\/va\/crl\//, /^\/api\/ca\/v1\/cas\/\{id\}\/certificate$/];

function authorization(r: Rng, token: string): Record<string, string> {
  if (r.chance(0.8)) return { authorization: `Bearer ${token}` };
  return {
    authorization: r.pick([
      'Bearer',
      'Bearer ',
      `Bearer ${token}x`,
      'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
      'Bearer eyJhbGciOiJIUzI1NiJ9.e30.x',
      `Bearer ${'a'.repeat(8000)}`,
      'Basic Zm9vOmJhcg==',
      'Basic !!!',
      'Digest x',
      '',
    ]),
  };
}

/** Headers a client library will send but the server may not expect. */
const oddHeader = (r: Rng): Record<string, string> =>
  r.pick<Record<string, string>>([
    { 'accept-version': r.pick(['1.0.0', 'x', '*']) },
    { 'content-encoding': r.pick(['gzip', 'br', 'deflate', 'x']) },
    { 'accept-encoding': 'gzip, br, *' },
    { 'x-forwarded-for': '1.2.3.4, ::1, x' },
    { 'x-request-id': oddStrings(r).slice(0, 200).replace(/[^\x20-\x7e]/g, '') },
    { 'if-none-match': '*' },
    { range: 'bytes=0-1' },
    { cookie: 'a=b; c' },
    { origin: 'https://evil.example' },
    { 'content-type': 'application/json', 'content-transfer-encoding': 'base64' },
    { authorization: `Bearer ${'x'.repeat(r.int(15_000))}` },
    { 'x-many': Array.from({ length: 50 }, (_, i) => `v${i}`).join(',') },
  ]);

function apiCase(r: Rng, route: Route, samples: Samples, token: string): HttpCase {
  const isPublic = PUBLIC.some((p) => p.test(route.path));
  const listener = isPublic && r.chance(0.6) ? 'http' : 'https';
  const path = fillPath(r, route.path, samples) + queryString(r, route, samples);
  const headers: Record<string, string> = { ...authorization(r, token) };
  let body: Buffer | string | undefined;
  if (route.body || r.chance(0.1)) {
    const valid = JSON.stringify(instance(r, route.body ?? {}, samples, r.pick([0, 0.03, 0.1, 0.3]))) ?? 'null';
    const roll = r.next();
    if (roll < 0.55) {
      headers['content-type'] = 'application/json';
      body = valid;
    } else if (roll < 0.8) {
      headers['content-type'] = r.pick(['application/json', 'application/json; charset=utf-8']);
      body = brokenJson(r, valid);
    } else {
      const ct = r.pick(contentTypes);
      if (ct) headers['content-type'] = ct;
      body = r.chance(0.5) ? derLike(r, r.pick(samples.csrs), 'CERTIFICATE REQUEST') : multipart(r, derLike(r, samples.certDer, 'CERTIFICATE'));
    }
  }
  if (r.chance(0.1)) headers.accept = r.pick(['application/x-pem-file', 'application/pkix-cert', '*/*', 'text/html', ';;', 'application/json']);
  if (r.chance(0.15)) Object.assign(headers, oddHeader(r));
  const protocol = route.path.startsWith('/api/va/ocsp') ? 'ocsp' : EST_PREFIXES.some((p) => route.path.startsWith(p)) ? 'est' : 'json';
  return { kind: 'http', listener, method: route.method, path, headers, ...(body === undefined ? {} : { body }), protocol };
}

function estCase(r: Rng, samples: Samples): HttpCase {
  const prefix = r.pick(EST_PREFIXES);
  const label = r.chance(0.7) ? `/${pathId(r, [...samples.dmsIds, ...samples.dmsIds, ...samples.caIds])}` : '';
  const op = r.pick(EST_OPS);
  const method = r.chance(0.8) ? (['cacerts', 'csrattrs'].includes(op) ? 'GET' : 'POST') : r.pick(['GET', 'POST', 'PUT', 'DELETE', 'HEAD']);
  const headers: Record<string, string> = {};
  if (r.chance(0.7)) headers['content-type'] = r.chance(0.6) ? r.pick(['application/pkcs10', 'Application/PKCS10; name=x.p10', 'application/x-pkcs10']) : r.pick(contentTypes);
  if (r.chance(0.3)) headers['content-transfer-encoding'] = r.pick(['base64', 'binary', '7bit', 'x']);
  if (r.chance(0.3)) headers.authorization = r.pick(['Basic Zm9vOmJhcg==', 'Basic !!', 'Basic ', `Basic ${Buffer.from(`\u0000:${oddStrings(r).slice(0, 50)}`).toString('base64')}`, 'Bearer x']);
  let body: Buffer | undefined;
  if (method !== 'GET' && method !== 'HEAD') {
    body = r.chance(0.15) ? multipart(r, derLike(r, r.pick(samples.csrs), 'CERTIFICATE REQUEST')) : derLike(r, r.pick(samples.csrs), 'CERTIFICATE REQUEST');
    if (r.chance(0.1)) body = Buffer.concat([body, Buffer.alloc(70_000, 0x41)]);
  }
  return { kind: 'http', listener: 'https', method, path: `${prefix}${label}/${op}`, headers, ...(body ? { body } : {}), protocol: 'est' };
}

function ocspCase(r: Rng, samples: Samples): HttpCase {
  const listener = r.chance(0.7) ? 'http' : 'https';
  if (r.chance(0.5)) {
    const headers: Record<string, string> = {};
    if (r.chance(0.8)) headers['content-type'] = r.chance(0.7) ? 'application/ocsp-request' : r.pick(contentTypes);
    const body = r.chance(0.8) ? derLike(r, samples.ocspRequestDer, 'OCSP REQUEST') : r.bytes(70_000);
    return { kind: 'http', listener, method: 'POST', path: '/api/va/ocsp', headers, body, protocol: 'ocsp' };
  }
  const der = derLike(r, samples.ocspRequestDer, 'OCSP REQUEST');
  const tail = r.pick([
    () => enc(der.toString('base64')),
    () => der.toString('base64'),
    () => der.toString('base64url'),
    () => `${r.pick(['%00', '%zz', '//', '%2F', '=='])}${der.toString('base64').slice(0, r.int(100))}`,
    () => 'A'.repeat(r.int(6000)),
  ])();
  return { kind: 'http', listener, method: r.pick(['GET', 'GET', 'HEAD']), path: `/api/va/ocsp/${tail}`, headers: {}, protocol: 'ocsp' };
}

function crlCase(r: Rng, samples: Samples): HttpCase {
  const headers: Record<string, string> = {};
  if (r.chance(0.4)) headers.accept = r.pick(['application/x-pem-file', 'application/pkix-crl', '*/*', 'x']);
  if (r.chance(0.2)) headers['if-none-match'] = r.pick(['*', '"x"', '', 'W/"1"']);
  const path = `/api/va/crl/${pathId(r, samples.caIds)}${r.pick(['', '', '/delta', '/x', '/delta/'])}${r.chance(0.1) ? '?a=%00' : ''}`;
  return { kind: 'http', listener: r.chance(0.8) ? 'http' : 'https', method: r.pick(['GET', 'GET', 'GET', 'HEAD', 'POST']), path, headers, protocol: 'json' };
}

function rawCase(r: Rng, samples: Samples, token: string): RawCase {
  const path = r.pick(['/health', '/api/ca/v1/cas', `/api/va/crl/${samples.caIds[0] ?? 'x'}`, '/.well-known/est/cacerts', '/api/va/ocsp']);
  const auth = `Authorization: Bearer ${token}\r\n`;
  const bytes = r.pick([
    () => `GET ${path} HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17_000 + r.int(60_000))}\r\n\r\n`,
    () => `GET ${path} HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 300 + r.int(3000) }, (_, i) => `X-H${i}: ${'v'.repeat(50)}\r\n`).join('')}\r\n`,
    () => `GET ${path} HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0000b\r\n\r\n`,
    () => `GET ${path} HTTP/1.1\r\nHost: x\r\nBad Header: x\r\n\r\n`,
    () => `GET ${path}%00 HTTP/1.1\r\nHost: x\r\n${auth}\r\n`,
    () => `GET /api/ca/v1/cas/\u0000 HTTP/1.1\r\nHost: x\r\n\r\n`,
    () => `GET ${path} HTTP/9.9\r\nHost: x\r\n\r\n`,
    () => `${r.pick(['FOO', 'G ET', 'get', ''])} ${path} HTTP/1.1\r\nHost: x\r\n\r\n`,
    () => `GET  HTTP/1.1\r\n\r\n`,
    () => `POST /api/ca/v1/cas HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n{}`,
    () => `POST /api/ca/v1/cas HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n2\r\n{}\r\n0\r\n\r\n`,
    () => `POST /api/ca/v1/cas HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
    () => `POST /api/ca/v1/cas HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: -1\r\n\r\n`,
    () => `GET http://evil.example${path} HTTP/1.1\r\nHost: x\r\n\r\n`,
    () => `GET ${path} HTTP/1.0\r\n\r\n`,
    () => `GET ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`,
    () => r.bytes(r.int(400)).toString('latin1'),
  ])();
  const listener = r.chance(0.5) ? 'http' : 'https';
  const protocol = EST_PREFIXES.some((p) => path.startsWith(p)) ? 'est' : 'json';
  if (r.chance(0.05)) {
    // A body shorter than announced, then the client goes away (an aborted upload).
    const head = `POST ${r.pick(['/api/ca/v1/cas', '/.well-known/est/fuzz-dms/simpleenroll'])} HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: ${r.pick(['application/json', 'application/pkcs10'])}\r\nContent-Length: 100\r\n\r\n{}`;
    return { kind: 'raw', listener, bytes: Buffer.from(head, 'latin1'), protocol, truncated: true };
  }
  return { kind: 'raw', listener, bytes: Buffer.from(bytes, 'latin1'), protocol };
}

export function fuzzCase(r: Rng, routes: Route[], samples: Samples, token: string): FuzzCase {
  const roll = r.next();
  if (roll < 0.6) return apiCase(r, r.pick(routes), samples, token);
  if (roll < 0.75) return estCase(r, samples);
  if (roll < 0.83) return ocspCase(r, samples);
  if (roll < 0.88) return crlCase(r, samples);
  if (roll < 0.93) {
    const route = r.pick(routes);
    return { ...apiCase(r, route, samples, token), method: r.pick(['PATCH', 'OPTIONS', 'TRACE', 'PUT', 'DELETE', 'POST']) };
  }
  return rawCase(r, samples, token);
}
