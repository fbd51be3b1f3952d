/**
 * The HTTPS listener's certificate is renewed while the server runs: a connection made after the renewal
 * gets the new certificate, one made before keeps going on the old one. Through startServer, on sockets.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { startServer, type RunningServer } from '../../app.ts';
import { loadConfig } from '../../config/load-config.ts';
import { ManualClock } from '../../domain/ports/clock.ts';
import { createTlsCa, issueTlsServerCertificate } from './tls-certificates.ts';

const HOUR = 3600_000;

/** A kept-alive TLS connection that sends GET requests one after the other. */
async function connect(server: RunningServer, ca?: string) {
  const url = new URL(server.httpsUrl);
  const socket = tls.connect({ host: url.hostname, port: Number(url.port), servername: 'localhost', ...(ca ? { ca } : { rejectUnauthorized: false }) });
  await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
  let buffered = '';
  socket.on('data', (d) => (buffered += d.toString('latin1')));
  return {
    fingerprint: () => socket.getPeerCertificate().fingerprint256,
    certificate: () => new X509Certificate(socket.getPeerCertificate().raw),
    /** Status code of a GET on this connection (`/api/v1/whoami` without a token: 401). */
    async get(pathname: string): Promise<number> {
      buffered = '';
      socket.write(`GET ${pathname} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
      const deadline = Date.now() + 5000;
      while (!/\r\n\r\n/.test(buffered) || !bodyComplete(buffered)) {
        assert.ok(Date.now() < deadline && !socket.destroyed, `no answer on the connection: ${JSON.stringify(buffered)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return Number(/^HTTP\/1\.1 (\d{3})/.exec(buffered)?.[1]);
    },
    close: () => socket.destroy(),
    get open() {
      return !socket.destroyed;
    },
  };
}

function bodyComplete(raw: string): boolean {
  const [head, body] = raw.split('\r\n\r\n');
  const length = /content-length: (\d+)/i.exec(head)?.[1];
  return length !== undefined && Buffer.byteLength(body, 'latin1') >= Number(length);
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    assert.ok(Date.now() < deadline, what);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('TLS certificate renewal while running', { timeout: 60_000 }, () => {
  const dirs: string[] = [];
  const servers: RunningServer[] = [];
  after(async () => {
    for (const s of servers) await s.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const configFor = (env: Record<string, string>) => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'lamassu-tls-renew-'));
    dirs.push(dataDir);
    return loadConfig({
      env: { LAMASSU_DATA_DIR: dataDir, LAMASSU_HTTPS_PORT: '0', LAMASSU_HTTP_PORT: '0', LAMASSU_LISTEN_ADDRESS: '127.0.0.1', LAMASSU_SERVICES: 'va', ...env },
    });
  };

  it('renews the generated certificate ahead of expiry; old connections stay up on the old one', async () => {
    const clock = new ManualClock(Date.now());
    // One hour of life, renewed when less than ten seconds are left (checked every second).
    const config = configFor({ LAMASSU_TLS_CERT_LIFETIME: '1h', LAMASSU_TLS_RENEW_BEFORE: '10s' });
    const server = await startServer(config, { clock, logger: pino({ level: 'silent' }) });
    servers.push(server);
    const caPem = readFileSync(path.join(config.dataDir, 'tls', 'ca.pem'), 'utf8');

    const before = await connect(server, caPem);
    const first = before.certificate();
    assert.equal(new Date(first.validTo).getTime() - new Date(first.validFrom).getTime(), HOUR);
    assert.equal(await before.get('/api/v1/whoami'), 401);

    // Not yet due: the next checks keep the certificate.
    clock.advance(HOUR - 120_000);
    await new Promise((r) => setTimeout(r, 1500));
    const early = await connect(server);
    assert.equal(early.fingerprint(), before.fingerprint());
    early.close();

    clock.advance(115_000); // five seconds left
    const renewed = await until('a new connection sees a new certificate', async () => {
      const c = await connect(server);
      const fp = c.fingerprint();
      const cert = c.certificate();
      c.close();
      return fp !== before.fingerprint() ? cert : undefined;
    });
    assert.ok(renewed.verify(new X509Certificate(caPem).publicKey), 'issued by the same internal TLS CA');
    assert.equal(new Date(renewed.validTo).getTime(), Math.floor(clock.now().getTime() / 1000) * 1000 - 60_000 + HOUR, 'valid for an hour from the renewal');
    assert.equal(readFileSync(path.join(config.dataDir, 'tls', 'server.pem'), 'utf8'), renewed.toString(), 'written to disk for the next start');

    assert.ok(before.open, 'the connection opened before the renewal is still up');
    assert.equal(await before.get('/api/v1/whoami'), 401);
    assert.equal(before.certificate().fingerprint256, first.fingerprint256);
    before.close();
  });

  it('picks up the operator\'s certificate files when they change', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lamassu-tls-own-'));
    dirs.push(dir);
    const ca = await createTlsCa(new Date());
    const one = await issueTlsServerCertificate(ca, ['localhost'], new Date());
    const certFile = path.join(dir, 'cert.pem');
    const keyFile = path.join(dir, 'key.pem');
    writeFileSync(certFile, one.certPem);
    writeFileSync(keyFile, one.keyPem, { mode: 0o600 });
    const config = configFor({ LAMASSU_TLS_CERT_FILE: certFile, LAMASSU_TLS_KEY_FILE: keyFile, LAMASSU_TLS_RENEW_BEFORE: '10s' });
    const server = await startServer(config, { logger: pino({ level: 'silent' }) });
    servers.push(server);
    const before = await connect(server, ca.certPem);
    assert.equal(before.certificate().toString(), new X509Certificate(one.certPem).toString());

    const two = await issueTlsServerCertificate(ca, ['localhost'], new Date());
    writeFileSync(keyFile, two.keyPem);
    writeFileSync(certFile, two.certPem);
    await until('a new connection sees the replaced certificate', async () => {
      const c = await connect(server, ca.certPem);
      const pem = c.certificate().toString();
      c.close();
      return pem === new X509Certificate(two.certPem).toString() ? true : undefined;
    });
    assert.equal(await before.get('/api/v1/whoami'), 401, 'the older connection still serves');
    before.close();
  });
});
