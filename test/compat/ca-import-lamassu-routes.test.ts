/**
 * Lamassu's CA import body: `ca_chain` (the CA's issuers, direct issuer first) and `ca_type` (IMPORTED,
 * MANAGED, EXTERNAL, any case). Certificates made with openssl. On SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { compatApi, type CompatApi } from '../support/compat-api.ts';
import { forEachStorage } from '../support/storage.ts';

let dir: string;
const f = (name: string) => path.join(dir, name);
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
const b64 = (name: string) => Buffer.from(readFileSync(f(name), 'utf8')).toString('base64');

/** `<name>.pem` and `<name>.key`: a CA certificate signed by `issuer` (self-signed without). */
function caCert(name: string, issuer?: string) {
  openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', f(`${name}.key`));
  if (!issuer) {
    openssl('req', '-x509', '-new', '-key', f(`${name}.key`), '-subj', `/CN=${name}`, '-days', '365', '-out', f(`${name}.pem`));
    return;
  }
  openssl('req', '-new', '-key', f(`${name}.key`), '-subj', `/CN=${name}`, '-out', f(`${name}.csr`));
  openssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f(`${issuer}.pem`), '-CAkey', f(`${issuer}.key`), '-set_serial', `0x${Buffer.from(name).toString('hex').slice(0, 30)}`,
    '-days', '300', '-extfile', f('ca.ext'), '-extensions', 'v3_ca', '-out', f(`${name}.pem`));
}

before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'lamassu-ca-import-'));
  writeFileSync(f('ca.ext'), '[v3_ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
  caCert('chain-root');
  caCert('chain-mid', 'chain-root');
  caCert('chain-issuing', 'chain-mid');
  caCert('chain-issuing-2', 'chain-mid');
  caCert('other-root');
  caCert('other-mid', 'other-root');
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

forEachStorage("Lamassu's CA import: ca_chain and ca_type", (ctx) => {
  let api: CompatApi;
  before(async () => {
    api = await compatApi(ctx.storage);
  });
  after(async () => api?.close());

  it('ca_chain: issuers not held are imported first (without key), the CA lands under its direct issuer; a second CA reuses them', async () => {
    const r = await api.call('POST', '/api/ca/v1/cas/import', { id: 'chain-issuing', ca: b64('chain-issuing.pem'), private_key: b64('chain-issuing.key'), ca_chain: [b64('chain-mid.pem'), b64('chain-root.pem')], ca_type: 'imported' });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.level, 2);
    assert.equal(r.body.type, 'IMPORTED_WITH_KEY');
    const mid = await api.call('GET', `/api/ca/v1/cas/${r.body.issuer_metadata?.id ?? r.body.parent_id}`);
    assert.equal(mid.status, 200, JSON.stringify(r.body));
    assert.equal(mid.body.certificate.subject.common_name, 'chain-mid');
    assert.equal(mid.body.type, 'IMPORTED_WITHOUT_KEY');
    assert.equal(mid.body.level, 1);
    const roots = (await api.call('GET', `/api/ca/v1/cas/cn/chain-root`)).body.list;
    assert.equal(roots.length, 1);
    assert.equal(roots[0].level, 0);

    // Root first, as Lamassu's Go input sorts it, is taken too.
    const second = await api.call('POST', '/api/ca/v1/cas/import', { id: 'chain-issuing-2', ca: b64('chain-issuing-2.pem'), ca_chain: [b64('chain-root.pem'), b64('chain-mid.pem')], ca_type: 'EXTERNAL' });
    assert.equal(second.status, 201, JSON.stringify(second.body));
    assert.equal(second.body.type, 'IMPORTED_WITHOUT_KEY');
    assert.equal(second.body.level, 2);
    assert.equal((await api.call('GET', `/api/ca/v1/cas/cn/chain-mid`)).body.list.length, 1, 'the held issuer is not imported twice');
  });

  it('ca_chain that is not a path, or that contradicts parent_id, is 400 CA_CHAIN_INVALID and stores nothing', async () => {
    const before = (await api.call('GET', '/api/ca/v1/cas?page_size=100')).body.list.length;
    const wrongOrder = await api.call('POST', '/api/ca/v1/cas/import', { id: 'bad-chain-1', ca: b64('chain-issuing.pem'), ca_chain: [b64('chain-root.pem'), b64('other-root.pem'), b64('chain-mid.pem'), b64('other-root.pem')] });
    assert.deepEqual([wrongOrder.status, wrongOrder.body.code], [400, 'CA_CHAIN_INVALID']);
    const foreign = await api.call('POST', '/api/ca/v1/cas/import', { id: 'bad-chain-2', ca: b64('chain-issuing.pem'), ca_chain: [b64('other-mid.pem'), b64('other-root.pem')] });
    assert.deepEqual([foreign.status, foreign.body.code], [400, 'CA_CHAIN_INVALID']);
    const other = await api.call('POST', '/api/ca/v1/cas/import', { id: 'other-mid', ca: b64('other-mid.pem'), ca_chain: [b64('other-root.pem')], ca_type: 'EXTERNAL' });
    assert.equal(other.status, 201, JSON.stringify(other.body));
    const contradicts = await api.call('POST', '/api/ca/v1/cas/import', { id: 'bad-chain-3', ca: b64('other-mid.pem'), parent_id: 'chain-issuing', ca_chain: [b64('other-root.pem')] });
    assert.deepEqual([contradicts.status, contradicts.body.code], [400, 'CA_CHAIN_INVALID']);
    // A wrong key is refused before any issuer of the chain is stored.
    caCert('fresh-root');
    caCert('fresh-mid', 'fresh-root');
    const wrongKey = await api.call('POST', '/api/ca/v1/cas/import', { id: 'bad-chain-4', ca: b64('fresh-mid.pem'), private_key: b64('other-root.key'), ca_chain: [b64('fresh-root.pem')] });
    assert.deepEqual([wrongKey.status, wrongKey.body.code], [400, 'CA_KEY_MISMATCH']);
    assert.equal((await api.call('GET', '/api/ca/v1/cas?page_size=100')).body.list.length, before + 2, 'only other-mid and its root were added');
  });

  it('ca_type: IMPORTED/MANAGED need private_key, EXTERNAL refuses it, unknown is 400', async () => {
    caCert('typed-a');
    const noKey = await api.call('POST', '/api/ca/v1/cas/import', { id: 'typed-a', ca: b64('typed-a.pem'), ca_type: 'MANAGED' });
    assert.deepEqual([noKey.status, noKey.body.code], [400, 'CA_TYPE_MISMATCH']);
    const withKey = await api.call('POST', '/api/ca/v1/cas/import', { id: 'typed-a', ca: b64('typed-a.pem'), private_key: b64('typed-a.key'), ca_type: 'EXTERNAL' });
    assert.deepEqual([withKey.status, withKey.body.code], [400, 'CA_TYPE_MISMATCH']);
    const unknown = await api.call('POST', '/api/ca/v1/cas/import', { id: 'typed-a', ca: b64('typed-a.pem'), ca_type: 'WHATEVER' });
    assert.deepEqual([unknown.status, unknown.body.code], [400, 'CA_TYPE_INVALID']);
    const managed = await api.call('POST', '/api/ca/v1/cas/import', { id: 'typed-a', ca: b64('typed-a.pem'), private_key: b64('typed-a.key'), ca_type: 'MANAGED' });
    assert.equal(managed.status, 201, JSON.stringify(managed.body));
    assert.equal(managed.body.type, 'IMPORTED_WITH_KEY');
  });
});
