/** Where the CLI looks for the server: flags over LAMASSU_* variables over the local data directory's files. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { resolveConnection } from './connection.ts';

const dataDir = mkdtempSync(path.join(tmpdir(), 'lamassu-cli-conn-'));
mkdirSync(path.join(dataDir, 'tls'));
writeFileSync(path.join(dataDir, 'admin-token'), 'from-file\n');
writeFileSync(path.join(dataDir, 'tls', 'ca.pem'), 'CA FROM DATA DIR');
after(() => rmSync(dataDir, { recursive: true, force: true }));

test('defaults: the data directory gives token and TLS CA, the server port settings give the URLs', () => {
  const c = resolveConnection({}, { LAMASSU_DATA_DIR: dataDir, LAMASSU_HTTPS_PORT: '9443', LAMASSU_HTTP_PORT: '9080' });
  assert.deepEqual(c, { apiUrl: 'https://127.0.0.1:9443', httpUrl: 'http://127.0.0.1:9080', token: 'from-file', ca: 'CA FROM DATA DIR' });
  const bare = resolveConnection({ dataDir: path.join(dataDir, 'nothing-here') }, {});
  assert.deepEqual(bare, { apiUrl: 'https://127.0.0.1:8443', httpUrl: 'http://127.0.0.1:8080', token: undefined, ca: undefined });
});

test('variables override the data directory, flags override variables; the OCSP/CRL host follows --url', () => {
  const env = { LAMASSU_DATA_DIR: dataDir, LAMASSU_URL: 'https://pki.example:443/', LAMASSU_TOKEN: 'from-env' };
  const fromEnv = resolveConnection({}, env);
  assert.deepEqual([fromEnv.apiUrl, fromEnv.httpUrl, fromEnv.token], ['https://pki.example', 'http://pki.example:8080', 'from-env']);
  const fromFlags = resolveConnection({ url: 'https://other:8443', httpUrl: 'http://va.other', token: 'from-flag' }, env);
  assert.deepEqual([fromFlags.apiUrl, fromFlags.httpUrl, fromFlags.token], ['https://other:8443', 'http://va.other', 'from-flag']);
});

test('a --cacert that cannot be read or a URL that is not http(s) is a usage error (exit 2)', () => {
  assert.throws(() => resolveConnection({ cacert: path.join(dataDir, 'missing.pem') }, {}), (e: Error & { exitCode?: number }) => e.exitCode === 2 && /cannot read --cacert/.test(e.message));
  assert.throws(() => resolveConnection({ url: 'ftp://x' }, {}), (e: Error & { exitCode?: number }) => e.exitCode === 2);
  assert.throws(() => resolveConnection({ url: 'not a url' }, {}), (e: Error & { exitCode?: number }) => e.exitCode === 2);
});
