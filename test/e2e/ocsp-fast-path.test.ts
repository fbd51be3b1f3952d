/**
 * The plain-HTTP listener answers plain OCSP GETs and POSTs before fastify (src/http/va/ocsp-fast-path.ts);
 * the HTTPS listener serves the same routes through fastify only. The same request to both must get the same
 * status, body and OCSP headers, and whatever the fast path does not take (HEAD, a query, another content
 * type, an oversized body) must still get the framework's full answer. Real server, real sockets. (ocspAnswer
 * names an unsuccessful response by its status number: 1 malformedRequest, 6 unauthorized.)
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startLamassu, type LamassuProcess } from '../support/lamassu-process.ts';
import { makeTestPki, ocspAnswer, ocspRequestsFor } from '../support/ocsp-test-pki.ts';
import { fromPem } from '../../src/x509/pem.ts';
import { admin, pemOf } from './est-server.ts';

interface Exchange {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

const OCSP_HEADERS = ['content-type', 'cache-control', 'expires', 'last-modified', 'etag'];

describe('OCSP fast path on the plain-HTTP listener', () => {
  let server: LamassuProcess;
  let request: (serial: string) => Uint8Array;
  let serial: string;

  const exchange = (listener: 'http' | 'https', method: string, path: string, headers: Record<string, string> = {}, body?: Uint8Array) =>
    new Promise<Exchange>((resolve, reject) => {
      const options = { host: '127.0.0.1', method, path, headers: { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) } };
      const onResponse = (res: http.IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      };
      const req =
        listener === 'http'
          ? http.request({ ...options, port: server.httpPort }, onResponse)
          : https.request({ ...options, port: server.httpsPort, servername: 'localhost', ca: readFileSync(server.tlsCaFile) }, onResponse);
      req.on('error', reject);
      req.end(body);
    });

  /**
   * Same request on both listeners: the same status, body and OCSP headers. Both serve one cached signed
   * answer, but a status or role event arriving between the two requests makes the second one sign afresh
   * (ECDSA signatures differ each time), so the pair is taken again until an answer was not re-signed in
   * between: fast, framework, fast again with identical bodies. A listener that answers differently never
   * settles and fails.
   */
  const same = async (method: string, path: string, headers: Record<string, string> = {}, body?: Uint8Array) => {
    let fast: Exchange | undefined;
    let framework: Exchange | undefined;
    for (let attempt = 0; attempt < 5; attempt++) {
      [fast, framework] = [await exchange('http', method, path, headers, body), await exchange('https', method, path, headers, body)];
      const again = await exchange('http', method, path, headers, body);
      if (fast.body.equals(again.body) && fast.headers.etag === again.headers.etag) break;
    }
    assert.equal(fast!.status, framework!.status, `${method} ${path}`);
    assert.deepEqual(fast!.body, framework!.body, `${method} ${path}: bodies differ`);
    for (const h of OCSP_HEADERS) assert.equal(fast!.headers[h], framework!.headers[h], `${method} ${path}: header ${h}`);
    return fast!;
  };
  const getPath = (der: Uint8Array) => `/api/va/ocsp/${encodeURIComponent(Buffer.from(der).toString('base64'))}`;

  before(async () => {
    server = await startLamassu({ LAMASSU_SERVICES: 'ca,va' });
    const ca = (await admin(server, 'POST', '/api/ca/v1/cas', { id: 'fast-ca', subject: { common_name: 'Fast Path CA' }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration: '1y' } })).json;
    request = ocspRequestsFor(fromPem(pemOf(ca.certificate.certificate), 'CERTIFICATE')!);
    const leaf = (await admin(server, 'POST', '/api/ca/v1/certificates', { ca_id: 'fast-ca', key_spec: { type: 'ECDSA', bits: 256 }, subject: { common_name: 'fast-leaf' } })).json;
    serial = leaf.serial_number;
  });
  after(() => server?.stop());

  it('GET and POST: the same answer as through the framework, good then revoked', async () => {
    const der = request(serial);
    const get = await same('GET', getPath(der));
    assert.equal(get.status, 200);
    assert.equal(ocspAnswer(get.body), 'good');
    assert.match(String(get.headers['cache-control']), /^max-age=\d+, public, no-transform, must-revalidate$/);
    const post = await same('POST', '/api/va/ocsp', { 'content-type': 'application/ocsp-request' }, der);
    assert.equal(ocspAnswer(post.body), 'good');
    // Media type parameters and case do not matter.
    assert.equal(ocspAnswer((await same('POST', '/api/va/ocsp', { 'content-type': 'Application/OCSP-Request; x=1' }, der)).body), 'good');

    await admin(server, 'PUT', `/api/ca/v1/certificates/${serial}/status`, { status: 'REVOKED', revocation_reason: 'KeyCompromise' });
    assert.equal(ocspAnswer((await same('GET', getPath(der))).body), 'revoked');
    assert.equal(ocspAnswer((await same('POST', '/api/va/ocsp', { 'content-type': 'application/ocsp-request' }, der)).body), 'revoked');
  });

  it('304 for a matching ETag, malformedRequest for a bad path or body, unauthorized for another CA', async () => {
    const der = request(serial);
    // The ETag of the answer cached now (re-taken if an event made the server sign afresh in between).
    let notModified: Exchange | undefined;
    for (let attempt = 0; attempt < 5 && notModified?.status !== 304; attempt++) {
      const etag = String((await same('GET', getPath(der))).headers.etag);
      notModified = await same('GET', getPath(der), { 'if-none-match': etag });
    }
    assert.ok(notModified);
    assert.equal(notModified.status, 304);
    assert.equal(notModified.body.length, 0);
    assert.equal((await same('GET', '/api/va/ocsp/%%%notbase64')).status, 400);
    assert.equal(ocspAnswer((await same('GET', '/api/va/ocsp/bm90IERFUg==')).body), 'error 1');
    assert.equal(ocspAnswer((await same('POST', '/api/va/ocsp', { 'content-type': 'application/ocsp-request' }, Buffer.from('not DER'))).body), 'error 1');
    // A CA this server does not have.
    const pki = makeTestPki(0);
    const stranger = ocspRequestsFor(pki.root.der)('01');
    pki.cleanup();
    assert.equal(ocspAnswer((await same('GET', getPath(stranger))).body), 'error 6');
  });

  it('what the fast path leaves to the framework still gets the framework answer', async () => {
    const der = request(serial);
    // A query string, HEAD, another content type, a body over the limit.
    assert.equal((await same('GET', `${getPath(der)}?x=1`)).status, 200);
    const head = await exchange('http', 'HEAD', getPath(der));
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-type'], 'application/ocsp-response');
    const wrongType = await same('POST', '/api/va/ocsp', { 'content-type': 'application/json' }, Buffer.from('{}'));
    assert.equal(ocspAnswer(wrongType.body), 'error 1');
    const big = await same('POST', '/api/va/ocsp', { 'content-type': 'application/ocsp-request' }, Buffer.alloc(64 * 1024 + 1, 0x30));
    assert.equal(big.status, 413);
  });

  it('counts fast-path answers in /metrics under the route label', async () => {
    const metrics = (await exchange('http', 'GET', '/metrics')).body.toString('utf8');
    const count = (route: string, method: string) =>
      Number(new RegExp(`lamassu_http_requests_total\\{listener="http",method="${method}",route="${route.replace(/[/*]/g, '\\$&')}",status="200"\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
    assert.ok(count('/api/va/ocsp/*', 'GET') >= 3, metrics.split('\n').filter((l) => l.includes('ocsp')).join('\n'));
    assert.ok(count('/api/va/ocsp', 'POST') >= 3);
  });
});
