/**
 * The OCSP fast path over a real socket: what it takes (plain GET and POST) it answers itself with the
 * responder's answer and names the route for /metrics; everything else reaches the framework behind it.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../domain/ports/clock.ts';
import type { OcspAnswer } from '../../services/va/ocsp-responder.ts';
import { ocspFastPath } from './ocsp-fast-path.ts';

const FRAMEWORK = 599;

describe('ocspFastPath', () => {
  const asked: Buffer[] = [];
  const routes: (string | undefined)[] = [];
  const answer: OcspAnswer = { kind: 'error', status: 'unauthorized', body: new Uint8Array([0x30, 0x03, 0x0a, 0x01, 0x06]) };
  const fast = ocspFastPath({ respond: async (der) => (asked.push(Buffer.from(der)), answer) }, new ManualClock(Date.UTC(2026, 0, 1)));
  let server: http.Server;
  let port: number;

  before(async () => {
    server = http.createServer((req, res) => {
      const route = fast(req, res);
      routes.push(route);
      if (route !== undefined) return;
      req.resume();
      res.writeHead(FRAMEWORK).end('framework');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const call = (method: string, path: string, headers: Record<string, string> = {}, body?: Buffer) =>
    new Promise<{ status: number; type: string | undefined; body: Buffer }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
      req.end(body);
    });

  const der = Buffer.from([0x30, 0x02, 0x05, 0x00]);

  it('answers a plain GET and a plain POST itself, with the responder answer for exactly the request sent', async () => {
    const get = await call('GET', `/api/va/ocsp/${encodeURIComponent(der.toString('base64'))}`);
    assert.deepEqual([get.status, get.type, [...get.body]], [200, 'application/ocsp-response', [...answer.body]]);
    assert.equal(routes.at(-1), '/api/va/ocsp/*');
    const post = await call('POST', '/api/va/ocsp', { 'content-type': 'application/ocsp-request', 'content-length': String(der.length) }, der);
    assert.deepEqual([post.status, [...post.body]], [200, [...answer.body]]);
    assert.equal(routes.at(-1), '/api/va/ocsp');
    assert.deepEqual(asked.slice(-2), [der, der]);
  });

  it('leaves everything else to the framework', async () => {
    const b64 = encodeURIComponent(der.toString('base64'));
    const left = [
      await call('HEAD', `/api/va/ocsp/${b64}`),
      await call('GET', `/api/va/ocsp/${b64}?x=1`),
      await call('GET', '/api/va/ocsp/%%%'),
      await call('GET', '/api/va/crl/x'),
      await call('POST', '/api/va/ocsp', { 'content-type': 'application/json', 'content-length': '2' }, Buffer.from('{}')),
      await call('POST', '/api/va/ocsp', { 'content-type': 'application/ocsp-request', 'transfer-encoding': 'chunked' }, der),
      await call('POST', '/api/va/ocsp', { 'content-type': 'application/ocsp-request', 'content-length': String(64 * 1024 + 1) }, Buffer.alloc(64 * 1024 + 1)),
    ];
    assert.deepEqual(left.map((r) => r.status), left.map(() => FRAMEWORK));
  });
});
