import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { X509Certificate } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { ManualClock } from '../domain/ports/clock.ts';
import { silentLogger } from '../domain/ports/logger.ts';
import { buildHttpsApp } from './build-https-app.ts';
import { clientCertificateChain } from './client-certificate.ts';
import { HttpMetrics } from './metrics.ts';
import { serverTls } from './tls/server-tls.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'lamassu-client-cert-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const f = (name: string) => path.join(dir, name);
const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe', cwd: dir });

describe('clientCertificateChain over the real HTTPS listener', () => {
  let app: FastifyInstance;
  let url: string;

  before(async () => {
    // A client CA and a device certificate under it, made by openssl.
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-subj', '/CN=Client CA', '-days', '2');
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('dev.key'), '-out', f('dev.csr'), '-subj', '/CN=device-1');
    openssl('x509', '-req', '-in', f('dev.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-out', f('dev.pem'), '-days', '1', '-set_serial', '7');
    writeFileSync(f('dev-chain.pem'), readFileSync(f('dev.pem'), 'utf8') + readFileSync(f('ca.pem'), 'utf8'));

    const tls = await serverTls({ dataDir: dir, hostnames: ['localhost'], clock: new ManualClock(Date.now()), logger: silentLogger });
    app = await buildHttpsApp({
      tls,
      logger: pino({ level: 'silent' }),
      metrics: new HttpMetrics(),
      auth: { adminTokens: { insert: async () => {}, findByHash: async () => undefined, count: async () => 0 } },
      services: [
        {
          name: 'dms',
          https: async (s) =>
            void s.get('/peer', async (request) =>
              clientCertificateChain(request).map((der) => new X509Certificate(der).subject.trim()),
            ),
        },
      ],
      version: 'test',
    });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  after(() => app.close());

  const get = (opts: https.RequestOptions): Promise<string[]> =>
    new Promise((resolve, reject) => {
      const req = https.request(`${url}/peer`, { ca: readFileSync(path.join(dir, 'tls', 'ca.pem')), servername: 'localhost', ...opts }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve(JSON.parse(body)));
      });
      req.on('error', reject);
      req.end();
    });

  it('gives the leaf and the chain the client sent, unverified, on TLS 1.2 and 1.3', async () => {
    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      const chain = await get({ key: readFileSync(f('dev.key')), cert: readFileSync(f('dev-chain.pem')), minVersion: version, maxVersion: version, agent: false });
      assert.deepEqual(chain, ['CN=device-1', 'CN=Client CA'], version);
    }
  });

  it('is empty when the client sends no certificate', async () => {
    assert.deepEqual(await get({ agent: false }), []);
  });
});
