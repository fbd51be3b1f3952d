import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError } from '../../config/load-config.ts';
import { ManualClock } from '../../domain/ports/clock.ts';
import { silentLogger } from '../../domain/ports/logger.ts';
import { serverTls, systemTlsCaCertificates } from './server-tls.ts';

const DAY = 24 * 3600 * 1000;
const openssl = (...args: string[]) => execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('serverTls', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'lamassu-tls-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));
  const tls = path.join(dataDir, 'tls');
  const read = (f: string) => readFileSync(path.join(tls, f), 'utf8');
  // Real time: openssl verify checks validity against the machine's clock.
  const clock = new ManualClock(Date.now());
  const hostnames = ['localhost', '127.0.0.1', 'pki.example.com', '::1'];

  it('creates a CA and a server certificate openssl accepts for every host name', async () => {
    const material = await serverTls({ dataDir, hostnames, clock, logger: silentLogger });
    assert.equal(material.cert, read('server.pem'));
    assert.equal(material.key, read('server-key.pem'));
    assert.equal(statSync(path.join(tls, 'server-key.pem')).mode & 0o777, 0o600);
    assert.equal(statSync(path.join(tls, 'ca-key.pem')).mode & 0o777, 0o600);

    const ca = path.join(tls, 'ca.pem');
    const server = path.join(tls, 'server.pem');
    assert.match(openssl('verify', '-CAfile', ca, server), /server\.pem: OK/);
    assert.match(openssl('verify', '-CAfile', ca, '-purpose', 'sslserver', '-verify_hostname', 'pki.example.com', server), /OK/);
    assert.match(openssl('verify', '-CAfile', ca, '-purpose', 'sslserver', '-verify_ip', '127.0.0.1', server), /OK/);
    assert.throws(() => openssl('verify', '-CAfile', ca, '-verify_hostname', 'other.example.com', server));

    const text = openssl('x509', '-in', server, '-noout', '-text');
    assert.match(text, /ASN1 OID: prime256v1/);
    assert.match(text, /TLS Web Server Authentication/);
    assert.match(text, /DNS:localhost, IP Address:127\.0\.0\.1, DNS:pki\.example\.com, IP Address:0:0:0:0:0:0:0:1/);
    assert.match(openssl('x509', '-in', ca, '-noout', '-text'), /CA:TRUE/);
  });

  it('reuses CA and server certificate on the next start', async () => {
    const before = [read('ca.pem'), read('server.pem'), read('server-key.pem')];
    await serverTls({ dataDir, hostnames: ['LOCALHOST', '::1', '127.0.0.1', 'pki.example.com'], clock, logger: silentLogger });
    assert.deepEqual([read('ca.pem'), read('server.pem'), read('server-key.pem')], before);
  });

  it('re-issues the server certificate, under the same CA, when the host names change', async () => {
    const [ca, server] = [read('ca.pem'), read('server.pem')];
    await serverTls({ dataDir, hostnames: ['localhost', 'new.example.com'], clock, logger: silentLogger });
    assert.equal(read('ca.pem'), ca);
    assert.notEqual(read('server.pem'), server);
    assert.match(openssl('verify', '-CAfile', path.join(tls, 'ca.pem'), '-verify_hostname', 'new.example.com', path.join(tls, 'server.pem')), /OK/);
  });

  it('re-issues the server certificate when it nears expiry, not before', async () => {
    const hosts = ['localhost', 'new.example.com'];
    const server = read('server.pem');
    const later = new ManualClock(clock.now().getTime() + 300 * DAY);
    await serverTls({ dataDir, hostnames: hosts, clock: later, logger: silentLogger });
    assert.equal(read('server.pem'), server);
    later.advance(40 * DAY);
    await serverTls({ dataDir, hostnames: hosts, clock: later, logger: silentLogger });
    assert.notEqual(read('server.pem'), server);
  });

  it('creates the tls directory 0700 and every file in it 0600', async () => {
    assert.equal(statSync(tls).mode & 0o777, 0o700);
    for (const f of ['ca.pem', 'ca-key.pem', 'server.pem', 'server-key.pem']) assert.equal(statSync(path.join(tls, f)).mode & 0o777, 0o600, f);
  });

  it('warns when the operator\'s key file can be read by other users', async () => {
    const cert = path.join(dataDir, 'own-open.pem');
    const key = path.join(dataDir, 'own-open-key.pem');
    writeFileSync(cert, 'CERT');
    writeFileSync(key, 'KEY', { mode: 0o644 });
    chmodSync(key, 0o644);
    const warnings: unknown[] = [];
    const logger = { ...silentLogger, warn: (obj: object | string, msg?: string) => void warnings.push([obj, msg]) };
    await serverTls({ dataDir, hostnames, certFile: cert, keyFile: key, clock, logger });
    assert.deepEqual(warnings, [[{ file: key, mode: '0644' }, 'LAMASSU_TLS_KEY_FILE is readable by other users: run chmod 600 on it']]);
    chmodSync(key, 0o600);
    warnings.length = 0;
    await serverTls({ dataDir, hostnames, certFile: cert, keyFile: key, clock, logger });
    assert.deepEqual(warnings, []);
  });

  it('uses the operator\'s files when configured, naming the setting when one is missing', async () => {
    const cert = path.join(dataDir, 'own.pem');
    const key = path.join(dataDir, 'own-key.pem');
    writeFileSync(cert, 'CERT');
    writeFileSync(key, 'KEY');
    assert.deepEqual(await serverTls({ dataDir, hostnames, certFile: cert, keyFile: key, clock, logger: silentLogger }), { cert: 'CERT', key: 'KEY' });
    await assert.rejects(
      serverTls({ dataDir, hostnames, certFile: cert, keyFile: path.join(dataDir, 'missing.pem'), clock, logger: silentLogger }),
      (e) => e instanceof ConfigError && /^LAMASSU_TLS_KEY_FILE: cannot read .*missing\.pem \(ENOENT\)$/.test(e.message),
    );
  });
});

describe("systemTlsCaCertificates (Lamassu's include_system_ca)", () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lamassu-system-ca-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const der = (pemFile: string) => new Uint8Array(execFileSync('openssl', ['x509', '-in', pemFile, '-outform', 'DER']));

  it("the internal TLS CA; with the operator's file, the certificates after the server's own; none when absent", async () => {
    assert.deepEqual(await systemTlsCaCertificates({ dataDir: dir }), []);
    await serverTls({ dataDir: dir, hostnames: ['localhost'], clock: new ManualClock(Date.now()), logger: silentLogger });
    const internal = await systemTlsCaCertificates({ dataDir: dir });
    assert.deepEqual(internal, [der(path.join(dir, 'tls', 'ca.pem'))]);

    const bundle = path.join(dir, 'bundle.pem');
    writeFileSync(bundle, readFileSync(path.join(dir, 'tls', 'server.pem'), 'utf8') + readFileSync(path.join(dir, 'tls', 'ca.pem'), 'utf8'));
    assert.deepEqual(await systemTlsCaCertificates({ dataDir: dir, certFile: bundle }), internal);
    assert.deepEqual(await systemTlsCaCertificates({ dataDir: dir, certFile: path.join(dir, 'tls', 'server.pem') }), [], 'the server certificate alone: no chain');
  });
});
