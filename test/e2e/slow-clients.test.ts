/**
 * A client that announces a body and stalls (a stuck upload, a slowloris) cannot hold a connection of the
 * real server forever: after LAMASSU_HTTP_REQUEST_TIMEOUT it gets 408 REQUEST_TIMEOUT in our error shape and
 * the connection is closed, on the plain-HTTP and the HTTPS listener alike. Bytes read off the socket.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { startLamassu, type LamassuProcess } from '../support/lamassu-process.ts';

/** Sends the head and part of the body, then waits; resolves with everything read until the server closes. */
function stall(socket: net.Socket, head: string, deadlineMs: number): Promise<{ text: string; closedAfterMs: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the stalled connection open for ${deadlineMs} ms; read so far: ${JSON.stringify(text)}`));
    }, deadlineMs);
    socket.setEncoding('utf8');
    socket.on('data', (d) => (text += d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closedAfterMs: Date.now() - started });
    });
    socket.write(`${head}Content-Length: 1000\r\n\r\n{"subject": `);
  });
}

describe('stalled uploads (LAMASSU_HTTP_REQUEST_TIMEOUT)', () => {
  let server: LamassuProcess;
  before(async () => {
    server = await startLamassu({ LAMASSU_HTTP_REQUEST_TIMEOUT: '1s' });
  });
  after(() => server?.stop());

  const expect408 = (r: { text: string; closedAfterMs: number }) => {
    assert.match(r.text, /^HTTP\/1\.1 408 /);
    assert.match(r.text, /\r\nConnection: close\r\n/i);
    const body = JSON.parse(r.text.slice(r.text.indexOf('\r\n\r\n') + 4)) as { code: string; message: string };
    assert.equal(body.code, 'REQUEST_TIMEOUT');
    assert.equal(typeof body.message, 'string');
    assert.ok(r.closedAfterMs >= 900, `closed after ${r.closedAfterMs} ms, before the limit`);
  };

  it('plain HTTP: 408 REQUEST_TIMEOUT and the connection closed', async () => {
    const socket = net.connect({ host: '127.0.0.1', port: server.httpPort });
    await new Promise((r) => socket.once('connect', r));
    expect408(await stall(socket, 'POST /api/va/ocsp HTTP/1.1\r\nHost: x\r\nContent-Type: application/ocsp-request\r\n', 10_000));
  });

  it('HTTPS: 408 REQUEST_TIMEOUT and the connection closed', async () => {
    const socket = tls.connect({ host: '127.0.0.1', port: server.httpsPort, rejectUnauthorized: false });
    await new Promise((r) => socket.once('secureConnect', r));
    const head = `POST /api/ca/v1/cas HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${server.token}\r\nContent-Type: application/json\r\n`;
    expect408(await stall(socket, head, 10_000));
  });
});
