/**
 * Clients that half-close once their request is sent (shutdown(SHUT_WR): some embedded HTTP stacks do, and
 * `socket.end(request)` in Node) still get their whole answer: the server finishes every request it has read
 * before it closes its side. Node's HTTP server otherwise aborts a request whose body is still being read
 * when the FIN arrives (seen as ~1% failed OCSP POSTs under load). Bytes read off the socket.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { randomBytes } from 'node:crypto';
import { startLamassu, type LamassuProcess } from '../support/lamassu-process.ts';
import { ocspRequestsFor } from '../support/ocsp-test-pki.ts';
import { fromPem } from '../../src/x509/pem.ts';
import { admin, pemOf } from './est-server.ts';

/** Connects, sends `request` with FIN, resolves with everything the server sent before it closed. */
function halfClosed(connect: () => net.Socket, connectEvent: string, request: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect();
    const chunks: Buffer[] = [];
    socket.once(connectEvent, () => socket.end(request));
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
  });
}

/** `n` half-closed requests, `parallel` at a time; the status line of each answer ('' when none came). */
async function statusLines(n: number, parallel: number, one: () => Promise<string>): Promise<string[]> {
  const out: string[] = [];
  const worker = async () => {
    while (out.length < n) {
      const slot = out.push('') - 1;
      out[slot] = (await one()).split('\r\n', 1)[0]!;
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return out;
}

describe('clients that half-close after sending', () => {
  let server: LamassuProcess;
  let ocspRequest: (serial: string) => Uint8Array;
  before(async () => {
    server = await startLamassu();
    const ca = (await admin(server, 'POST', '/api/ca/v1/cas', { id: 'half-close-ca', subject: { common_name: 'Half-close CA' }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration: '1y' } })).json;
    ocspRequest = ocspRequestsFor(fromPem(pemOf(ca.certificate.certificate), 'CERTIFICATE')!);
  });
  after(() => server?.stop());

  it('plain HTTP: every OCSP POST gets its answer', async () => {
    // Serials the CA never issued: the responder looks each up before it answers "unknown".
    const post = () => {
      const body = ocspRequest(randomBytes(16).toString('hex'));
      return Buffer.concat([
        Buffer.from(`POST /api/va/ocsp HTTP/1.1\r\nHost: x\r\nContent-Type: application/ocsp-request\r\nContent-Length: ${body.length}\r\n\r\n`, 'latin1'),
        body,
      ]);
    };
    const lines = await statusLines(3000, 64, () => halfClosed(() => net.connect(server.httpPort, '127.0.0.1'), 'connect', post()));
    const missing = lines.filter((l) => !/^HTTP\/1\.1 [2-4]\d\d /.test(l));
    assert.deepEqual(missing, [], `${missing.length} of ${lines.length} half-closed requests got no answer`);
  });

  it('HTTPS: a JSON POST gets its answer', async () => {
    const body = Buffer.from(JSON.stringify({ id: 'half-close', subject: { common_name: 'x' }, key_metadata: { type: 'NOPE', bits: 1 } }));
    const request = Buffer.concat([
      Buffer.from(
        `POST /api/ca/v1/cas HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${server.token}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
        'latin1',
      ),
      body,
    ]);
    const connect = () => tls.connect({ host: '127.0.0.1', port: server.httpsPort, rejectUnauthorized: false });
    const lines = await statusLines(100, 16, () => halfClosed(connect, 'secureConnect', request));
    const missing = lines.filter((l) => !/^HTTP\/1\.1 4\d\d /.test(l));
    assert.deepEqual(missing, [], `${missing.length} of ${lines.length} half-closed requests got no answer`);
  });
});
