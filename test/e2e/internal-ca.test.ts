/**
 * The internal CA end to end (issue 9 item 2), on the real `lamassu serve`, SQLite and PostgreSQL: revoking
 * LAMASSU-DMS-MANAGER is refused; rotating it makes a new CA issue DMS certificates while a DMS certificate
 * from before keeps enrolling over EST (curl with the client certificate); a restart after the rotation
 * comes up and carries on with the new CA. openssl checks who signed what.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { admin, pemOf } from './est-server.ts';
import { startLamassu, type LamassuProcess } from '../support/lamassu-process.ts';
import { needPostgres } from '../support/services.ts';
import { freshTestDatabase, storageKinds, type StorageKind } from '../support/storage.ts';

const exec = promisify(execFile);

/** What selects the database for `lamassu serve`: nothing for SQLite (its data directory), a URL and schema for PostgreSQL. */
function databaseEnv(kind: StorageKind): { env: Record<string, string>; drop(): Promise<void> } {
  if (kind === 'sqlite') return { env: {}, drop: async () => {} };
  const db = freshTestDatabase('postgres');
  const config = db.config as { url: string; schema: string };
  return { env: { DATABASE_URL: config.url, LAMASSU_POSTGRES_SCHEMA: config.schema }, drop: () => db.drop() };
}

for (const kind of storageKinds) {
  describe(`internal CA over a running server [${kind}]`, { timeout: 120_000 }, () => {
    test('revocation refused (403); rotation; an old DMS certificate still enrolls; new ones come from the new CA; restart', async (t) => {
      if (kind === 'postgres' && !(await needPostgres(t))) return;
      const database = databaseEnv(kind);
      const dataDir = mkdtempSync(path.join(tmpdir(), 'lamassu-e2e-internal-'));
      const work = mkdtempSync(path.join(tmpdir(), 'lamassu-e2e-internal-work-'));
      const f = (name: string) => path.join(work, name);
      const openssl = async (...args: string[]) => (await exec('openssl', args, { cwd: work })).stdout;
      let server: LamassuProcess | undefined;
      try {
        server = await startLamassu(database.env, { dataDir });
        const api = (method: string, url: string, body?: unknown, expect?: number) => admin(server!, method, url, body, expect);

        /** The DMS certificate with a server-made key, as <dms>.pem / <dms>.key. */
        const dmsCertificate = async (dms: string) => {
          const res = (await api('POST', `/api/dmsmanager/v1/dms/${dms}/certificate`, { key: { type: 'ECDSA', bits: 256 } })).json;
          writeFileSync(f(`${dms}.pem`), pemOf(res.certificate));
          writeFileSync(f(`${dms}.key`), pemOf(res.private_key), { mode: 0o600 });
          return (await openssl('x509', '-in', f(`${dms}.pem`), '-noout', '-issuer')).trim();
        };
        /** EST simpleenroll of a new device with a DMS certificate as TLS client certificate; the HTTP status. */
        const enroll = async (dms: string, device: string) => {
          await openssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f(`${device}.key`), '-subj', `/CN=${device}`, '-outform', 'DER', '-out', f(`${device}.der`));
          writeFileSync(f(`${device}.b64`), readFileSync(f(`${device}.der`)).toString('base64'));
          const host = `localhost:${server!.httpsPort}`;
          const { stdout } = await exec('curl', [
            '-sS', '--cacert', server!.tlsCaFile, '--resolve', `${host}:127.0.0.1`, '-o', f(`${device}.p7`), '-w', '%{http_code}',
            '--cert', f(`${dms}.pem`), '--key', f(`${dms}.key`),
            '-H', 'Content-Type: application/pkcs10', '--data-binary', `@${f(`${device}.b64`)}`,
            `https://${host}/.well-known/est/${dms}/simpleenroll`,
          ]);
          return Number(stdout);
        };
        const caFile = async (id: string) => {
          const pem = pemOf((await api('GET', `/api/ca/v1/cas/${id}`)).json.certificate.certificate);
          writeFileSync(f(`${id}.ca.pem`), pem);
          return f(`${id}.ca.pem`);
        };
        const verifies = (caPem: string, certPem: string) => exec('openssl', ['verify', '-x509_strict', '-CAfile', caPem, certPem], { cwd: work }).then(() => true, () => false);
        const internalIds = async () => (await api('GET', '/api/ca/v1/cas?internal=true')).json.list.map((c: { id: string }) => c.id).sort();

        // The defect: this was 200, after which no DMS certificate could ever be issued.
        const revoke = await api('POST', '/api/ca/v1/cas/LAMASSU-DMS-MANAGER/status', { status: 'REVOKED' }, 403);
        assert.equal(revoke.json.code, 'CA_INTERNAL');
        assert.equal((await api('GET', '/api/ca/v1/cas/LAMASSU-DMS-MANAGER')).json.certificate.status, 'ACTIVE');

        await api('POST', '/api/ca/v1/cas', { id: 'factory-ca', subject: { common_name: 'Factory CA' }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration: '10y' } });
        for (const dms of ['line-1', 'line-2', 'line-3']) {
          await api('POST', '/api/dmsmanager/v1/dms', {
            id: dms,
            name: dms,
            authorized_cas: ['factory-ca'],
            settings: { enrollment_settings: { enrollment_ca: 'factory-ca', est_rfc7030_settings: { auth_mode: 'DMS_CERTIFICATE' } } },
          });
        }
        assert.match(await dmsCertificate('line-1'), /CN\s*=\s*LAMASSU-DMS-MANAGER$/);
        assert.equal(await enroll('line-1', 'dev-1'), 200);

        const rotated = await api('POST', '/api/ca/v1/cas/LAMASSU-DMS-MANAGER/rotate', undefined, 201);
        assert.equal(rotated.json.id, 'LAMASSU-DMS-MANAGER-2');
        assert.equal((await api('POST', '/api/ca/v1/cas/LAMASSU-DMS-MANAGER/rotate', undefined, 409)).json.code, 'CA_INTERNAL_SUPERSEDED');

        // Issued before the rotation, line-1's certificate still authenticates EST.
        assert.equal(await enroll('line-1', 'dev-2'), 200);
        assert.match(await dmsCertificate('line-2'), /CN\s*=\s*LAMASSU-DMS-MANAGER-2$/);
        const [oldCa, newCa] = [await caFile('LAMASSU-DMS-MANAGER'), await caFile('LAMASSU-DMS-MANAGER-2')];
        assert.ok(await verifies(newCa, f('line-2.pem')), 'the new DMS certificate verifies against the new internal CA');
        assert.equal(await verifies(oldCa, f('line-2.pem')), false);
        assert.ok(await verifies(oldCa, f('line-1.pem')));
        assert.equal(await enroll('line-2', 'dev-3'), 200);

        // A restart on the same data (and database) comes up, creates no internal CA, and issues with the new one.
        await server.stop();
        server = await startLamassu(database.env, { dataDir });
        assert.deepEqual(await internalIds(), ['LAMASSU-DMS-MANAGER', 'LAMASSU-DMS-MANAGER-2']);
        assert.match(await dmsCertificate('line-3'), /CN\s*=\s*LAMASSU-DMS-MANAGER-2$/);
        assert.ok(await verifies(newCa, f('line-3.pem')));
        assert.equal(await enroll('line-3', 'dev-4'), 200);
        assert.equal(await enroll('line-1', 'dev-5'), 200);
        assert.equal(await enroll('line-2', 'dev-6'), 200);
      } finally {
        await server?.stop();
        rmSync(dataDir, { recursive: true, force: true });
        rmSync(work, { recursive: true, force: true });
        await database.drop();
      }
    });
  });
}
