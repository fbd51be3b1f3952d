/**
 * Bad input from outside gets a clear 4xx in our shape, never a 500, on SQLite and PostgreSQL alike
 * (issue 9 items 12-16): the real `lamassu serve`, real sockets.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { Agent, request } from 'undici';
import type { LamassuProcess } from '../support/lamassu-process.ts';
import { startLamassuOn } from '../support/lamassu-on-storage.ts';
import { needPostgres } from '../support/services.ts';
import { storageKinds } from '../support/storage.ts';

const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
const caBody = (extra: Record<string, unknown> = {}) => ({
  subject: { common_name: 'bad input' },
  key_metadata: { type: 'ECDSA', bits: 256 },
  ca_expiration: { type: 'Duration', duration: '1y' },
  ...extra,
});

/** Raw bytes in, everything the server answers until it closes (or `ms` pass). */
function exchange(socket: net.Socket, bytes: string | Buffer, ms = 5000): Promise<{ text: string; reset: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let reset = false;
    const done = () => resolve({ text: Buffer.concat(chunks).toString('latin1'), reset });
    const timer = setTimeout(() => { socket.destroy(); done(); }, ms);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', (e: NodeJS.ErrnoException) => { reset = e.code === 'ECONNRESET'; });
    socket.on('close', () => { clearTimeout(timer); done(); });
    socket.write(bytes);
  });
}

for (const kind of storageKinds) {
  describe(`bad input on the real server [${kind}]`, { timeout: 120_000 }, async () => {
    if (kind === 'postgres' && !(await needPostgres())) {
      it('runs on PostgreSQL', { skip: 'SERVICE MISSING: PostgreSQL' }, () => {});
      return;
    }
    let server: LamassuProcess;
    let agent: Agent;
    let https: string;
    let http: string;
    before(async () => {
      server = await startLamassuOn(kind);
      agent = new Agent({ connect: { ca: readFileSync(server.tlsCaFile) } });
      https = `https://127.0.0.1:${server.httpsPort}`;
      http = `http://127.0.0.1:${server.httpPort}`;
    });
    after(async () => {
      await agent?.close();
      await server?.stop();
    });

    const call = async (method: string, url: string, body?: string, headers: Record<string, string> = {}) => {
      const r = await request(url, {
        method: method as 'GET',
        dispatcher: agent,
        headers: { authorization: `Bearer ${server.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        ...(body === undefined ? {} : { body }),
      });
      const text = await r.body.text();
      return { status: r.statusCode, text, json: () => JSON.parse(text) as { code: string; message: string } };
    };
    const errorLines = () => server.output().split('\n').filter((l) => /"level":(50|60)/.test(l));

    it('refuses NUL in path ids, queries and JSON strings with 400 NUL_CHARACTER, also where no login is needed', async () => {
      for (const url of [`${http}/api/va/crl/%00`, `${http}/api/va/crl/a%00b/delta`, `${http}/api/ca/v1/cas/%00/certificate`, `${https}/api/ca/v1/cas/%00`, `${https}/api/ca/v1/cas?parent_id=%00`, `${https}/api/devmanager/v1/devices/x%00`]) {
        const r = await call('GET', url);
        assert.equal(r.status, 400, `${url}: ${r.text}`);
        assert.deepEqual(Object.keys(r.json()).sort(), ['code', 'message']);
        assert.equal(r.json().code, 'NUL_CHARACTER', url);
      }
      const est = await call('GET', `${https}/.well-known/est/%00/cacerts`);
      assert.equal(est.status, 400, est.text);
      assert.match(est.text, /^NUL_CHARACTER: /);
      for (const body of [caBody({ metadata: { a: 'b\u0000' } }), caBody({ subject: { common_name: 'x\u0000y' } }), caBody({ metadata: { 'k\u0000': 1 } })]) {
        const r = await call('POST', `${https}/api/ca/v1/cas`, JSON.stringify(body));
        assert.equal(r.status, 400, r.text);
        assert.equal(r.json().code, 'NUL_CHARACTER');
      }
      // A NUL inside a CSR's subject never reaches the database either.
      const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
      (x509.cryptoProvider as { set(crypto: unknown): void }).set(webcrypto);
      const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
      const name = new x509.Name([{ '2.5.4.3': [{ utf8String: 'dev\u0000ice' }] }] as unknown as x509.JsonName);
      const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name, keys: keys as Parameters<typeof x509.Pkcs10CertificateRequestGenerator.create>[0]['keys'], signingAlgorithm: alg });
      const root = await call('POST', `${https}/api/ca/v1/cas`, JSON.stringify(caBody({ id: 'nul-root' })));
      assert.equal(root.status, 201, root.text);
      const signedByRoot = await call('POST', `${https}/api/ca/v1/cas/nul-root/certificates/sign`, JSON.stringify({ csr: Buffer.from(csr.rawData).toString('base64') }));
      assert.equal(signedByRoot.status, 400, signedByRoot.text);
      assert.equal(signedByRoot.json().code, 'CSR_MALFORMED');
      // An escaped backslash before "u0000" is not a NUL.
      const ok = await call('POST', `${https}/api/ca/v1/cas`, JSON.stringify(caBody({ metadata: { path: 'C:\\u0000' } })));
      assert.equal(ok.status, 201, ok.text);
      assert.deepEqual(errorLines(), []);
    });

    it('refuses JSON nested deeper than 32 levels with 400 JSON_TOO_DEEP on CA, DMS, device and sign bodies', async () => {
      const deep = nested(5000);
      const bodies: [string, string][] = [
        [`${https}/api/ca/v1/cas`, JSON.stringify(caBody({ metadata: '@' })).replace('"@"', deep)],
        [`${https}/api/dmsmanager/v1/dms`, `{"id":"deep","name":"deep","metadata":${deep}}`],
        [`${https}/api/devmanager/v1/devices`, `{"id":"deep","dms_id":"deep","metadata":${deep}}`],
        [`${https}/api/ca/v1/cas/LAMASSU-DMS-MANAGER/certificates/sign`, `{"csr":"x","metadata":${deep}}`],
      ];
      for (const [url, body] of bodies) {
        const r = await call('POST', url, body);
        assert.equal(r.status, 400, `${url}: ${r.text}`);
        assert.equal(r.json().code, 'JSON_TOO_DEEP', url);
      }
      const fine = await call('POST', `${https}/api/ca/v1/cas`, JSON.stringify(caBody({ metadata: '@' })).replace('"@"', nested(30)));
      assert.equal(fine.status, 201, fine.text);
      assert.deepEqual(errorLines(), []);
    });

    it('addresses an id of the longest length everywhere, including the CRL and caIssuers URLs in its certificates, and refuses longer ids at creation', async () => {
      const id = `L${'x'.repeat(127)}`;
      const created = await call('POST', `${https}/api/ca/v1/cas`, JSON.stringify(caBody({ id })));
      assert.equal(created.status, 201, created.text);
      assert.equal((await call('GET', `${https}/api/ca/v1/cas/${id}`)).status, 200);
      assert.equal((await call('GET', `${http}/api/va/crl/${id}`)).status, 200);
      assert.equal((await call('GET', `${http}/api/ca/v1/cas/${id}/certificate`)).status, 200);
      const longer = `${id}y`;
      const refused: [string, string, RegExp][] = [
        [`${https}/api/ca/v1/cas`, JSON.stringify(caBody({ id: longer })), /^(VALIDATION_FAILED|CA_ID_INVALID)$/],
        [`${https}/api/ca/v1/profiles`, JSON.stringify({ id: longer, name: 'p' }), /^(VALIDATION_FAILED|PROFILE_ID_INVALID)$/],
        // A profile id must be one path segment, like every other id.
        [`${https}/api/ca/v1/profiles`, JSON.stringify({ id: 'a/b', name: 'p' }), /^PROFILE_ID_INVALID$/],
        [`${https}/api/dmsmanager/v1/dms`, JSON.stringify({ id: longer, name: 'd' }), /^(VALIDATION_FAILED|DMS_ID_INVALID)$/],
        [`${https}/api/devmanager/v1/devices`, JSON.stringify({ id: longer }), /^(VALIDATION_FAILED|DEVICE_ID_INVALID)$/],
      ];
      for (const [url, body, code] of refused) {
        const r = await call('POST', url, body);
        assert.equal(r.status, 400, `${url}: ${r.text}`);
        assert.match(r.json().code, code, url);
      }
      const tooLong = await call('GET', `${http}/api/va/crl/${longer}`);
      assert.equal(tooLong.status, 414, tooLong.text);
      assert.equal(tooLong.json().code, 'PATH_SEGMENT_TOO_LONG');
    });

    it('answers malformed URLs and unsupported content types in our shape', async () => {
      const bad = await call('GET', `${https}/api/ca/v1/cas/%zz`);
      assert.equal(bad.status, 400, bad.text);
      assert.deepEqual(bad.json(), { code: 'MALFORMED_URL', message: bad.json().message });
      const text = await call('POST', `${https}/api/ca/v1/cas`, 'hello', { 'content-type': 'text/plain' });
      assert.equal(text.status, 415, text.text);
      assert.equal(text.json().code, 'UNSUPPORTED_MEDIA_TYPE');
      const estBad = await call('GET', `${https}/.well-known/est/%zz/cacerts`);
      assert.equal(estBad.status, 400);
      assert.match(estBad.text, /^MALFORMED_URL: /);
    });

    for (const listener of ['http', 'https'] as const) {
      it(`answers oversized headers with 431, our JSON and Connection: close, then closes cleanly; a kept-alive client goes on [${listener}]`, async () => {
        const port = listener === 'http' ? server.httpPort : server.httpsPort;
        const socket =
          listener === 'http'
            ? net.connect(port, '127.0.0.1')
            : tls.connect({ port, host: '127.0.0.1', ca: readFileSync(server.tlsCaFile), servername: 'localhost' });
        await new Promise((r) => socket.once(listener === 'http' ? 'connect' : 'secureConnect', r));
        const { text, reset } = await exchange(socket, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`);
        assert.equal(reset, false, 'the connection was reset');
        assert.match(text, /^HTTP\/1\.1 431 /);
        assert.match(text, /\r\nConnection: close\r\n/i);
        const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { code: string };
        assert.equal(body.code, 'HEADERS_TOO_LARGE');

        const page = listener === 'http' ? `${http}/health` : `${https}/api/docs/json`;
        const keepAlive = new Agent({ connections: 1, connect: { ca: readFileSync(server.tlsCaFile) } });
        try {
          const first = await request(page, { dispatcher: keepAlive, headers: { 'x-big': 'a'.repeat(20_000) } });
          assert.equal(first.statusCode, 431);
          await first.body.text();
          const second = await request(page, { dispatcher: keepAlive });
          assert.equal(second.statusCode, 200);
          await second.body.text();
        } finally {
          await keepAlive.close();
        }
      });
    }

    it('logs a client that aborts an EST upload below error level', async () => {
      const before = errorLines().length;
      const socket = tls.connect({ port: server.httpsPort, host: '127.0.0.1', ca: readFileSync(server.tlsCaFile), servername: 'localhost' });
      await new Promise((r) => socket.once('secureConnect', r));
      socket.write('POST /.well-known/est/some-dms/simpleenroll HTTP/1.1\r\nHost: x\r\nContent-Type: application/pkcs10\r\nContent-Length: 10000\r\n\r\nMIIB');
      await new Promise((r) => setTimeout(r, 300));
      socket.destroy();
      await new Promise((r) => setTimeout(r, 500));
      assert.deepEqual(errorLines().slice(before), []);
    });
  });
}
