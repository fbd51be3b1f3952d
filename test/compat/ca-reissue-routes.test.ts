import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { toPem } from '../../src/x509/pem.ts';
import { compatApi, type CompatApi } from '../support/compat-api.ts';
import { opensslCsr } from '../support/csr-fixture.ts';
import { forEachStorage } from '../support/storage.ts';

const csrB64 = (cn: string) => Buffer.from(toPem(opensslCsr({ key: 'p256', subj: `/CN=${cn}` }), 'CERTIFICATE REQUEST')).toString('base64');
const pem = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');

forEachStorage('POST /api/ca/v1/cas/{id}/reissue', (ctx) => {
  let api: CompatApi;
  let dir: string;
  before(async () => {
    api = await compatApi(ctx.storage);
    dir = mkdtempSync(path.join(tmpdir(), 'lamassu-reissue-'));
  });
  after(async () => {
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const create = async (id: string, parent?: string, duration = '5y') => {
    const r = await api.call('POST', '/api/ca/v1/cas', { id, ...(parent ? { parent_id: parent } : {}), subject: { common_name: `${id} CA`, organization: 'Reissue Tests' }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body;
  };
  const file = (name: string, text: string) => {
    writeFileSync(path.join(dir, name), text);
    return path.join(dir, name);
  };
  /** openssl verify with `root` as the trust anchor and `chain` as untrusted intermediates; the output. */
  const verify = (root: string, leaf: string, chain: string[] = []) =>
    execFileSync('openssl', ['verify', '-CAfile', root, ...chain.flatMap((c) => ['-untrusted', c]), leaf], { encoding: 'utf8' }).trim();

  it('a subordinate gets a new certificate from its parent: same key and subject, old and new linked, every certificate still verifies', async () => {
    const root = await create('re-root', undefined, '10y');
    const sub = await create('re-sub', 're-root');
    const leaf = await api.call('POST', '/api/ca/v1/cas/re-sub/certificates/sign', { csr: csrB64('re-leaf') });
    assert.equal(leaf.status, 201);

    const r = await api.call('POST', '/api/ca/v1/cas/re-sub/reissue', { ca_expiration: { type: 'Duration', duration: '2y' }, reason: 'extend validity' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const next = r.body;
    assert.equal(next.id, 're-sub');
    assert.notEqual(next.serial_number, sub.serial_number);
    assert.equal(next.certificate.subject_key_id, sub.certificate.subject_key_id);
    assert.equal(next.key_id, sub.key_id);
    assert.equal(next.certificate.issuer_metadata.id, 're-root');
    assert.equal(next.certificate.status, 'ACTIVE');
    assert.equal(next.certificate.metadata['lamassu.io/ca/reissued-from'], sub.serial_number);
    assert.equal(next.certificate.metadata['lamassu.io/ca/reissued-reason'], 'extend validity');
    const years = (Date.parse(next.certificate.valid_to) - Date.parse(next.certificate.valid_from)) / (365 * 86_400_000);
    assert.ok(Math.abs(years - 2) < 0.01, String(years));

    // The CA now answers with the new certificate; the old one stays in the inventory, pointing at the new one.
    assert.equal((await api.call('GET', '/api/ca/v1/cas/re-sub')).body.serial_number, next.serial_number);
    const old = await api.call('GET', `/api/ca/v1/certificates/${sub.serial_number}`);
    assert.equal(old.status, 200);
    assert.equal(old.body.status, 'ACTIVE');
    assert.equal(old.body.metadata['lamassu.io/ca/reissued-as'], next.serial_number);
    assert.equal(old.body.metadata['lamassu.io/ca/reissued-at'], next.certificate.metadata['lamassu.io/ca/reissued-at']);

    const rootPem = file('root.pem', pem(root.certificate.certificate));
    const oldSub = file('old-sub.pem', pem(sub.certificate.certificate));
    const newSub = file('new-sub.pem', pem(next.certificate.certificate));
    const leafPem = file('leaf.pem', pem(leaf.body.certificate));
    assert.match(verify(rootPem, newSub), /: OK$/);
    assert.match(verify(rootPem, leafPem, [oldSub]), /: OK$/);
    assert.match(verify(rootPem, leafPem, [newSub]), /: OK$/, 'a certificate issued before verifies through the new CA certificate');
    const after = await api.call('POST', '/api/ca/v1/cas/re-sub/certificates/sign', { csr: csrB64('re-leaf-2') });
    assert.equal(after.status, 201);
    assert.match(verify(rootPem, file('leaf2.pem', pem(after.body.certificate)), [newSub]), /: OK$/);
    assert.match(verify(rootPem, file('leaf2-old.pem', pem(after.body.certificate)), [oldSub]), /: OK$/);
  });

  it('a root signs its new certificate itself; what it signed before verifies against the new root', async () => {
    const root = await create('re-root-2', undefined, '10y');
    const sub = await create('re-sub-2', 're-root-2');
    const r = await api.call('POST', '/api/ca/v1/cas/re-root-2/reissue', {});
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.certificate.issuer_metadata.id, 're-root-2');
    assert.equal(r.body.certificate.subject_key_id, root.certificate.subject_key_id);
    // Without ca_expiration: as long as before.
    const span = (c: { valid_from: string; valid_to: string }) => Date.parse(c.valid_to) - Date.parse(c.valid_from);
    assert.equal(span(r.body.certificate), span(root.certificate));
    const newRoot = file('new-root.pem', pem(r.body.certificate.certificate));
    assert.match(verify(newRoot, newRoot), /: OK$/);
    assert.match(verify(newRoot, file('sub2.pem', pem(sub.certificate.certificate))), /: OK$/);
  });

  it('a new default profile; refusals: unknown CA or profile, revoked, internal', async () => {
    const first = await create('re-root-3', undefined, '10y');
    const profile = await api.call('POST', '/api/ca/v1/profiles', { name: 'reissue-profile', validity: { type: 'Duration', duration: '30d' } });
    assert.equal(profile.status, 201, JSON.stringify(profile.body));
    const r = await api.call('POST', '/api/ca/v1/cas/re-root-3/reissue', { profile_id: profile.body.id });
    assert.deepEqual([r.status, r.body.profile_id], [200, profile.body.id]);

    assert.deepEqual([(await api.call('POST', '/api/ca/v1/cas/no-such-ca/reissue', {})).status], [404]);
    const badProfile = await api.call('POST', '/api/ca/v1/cas/re-root-3/reissue', { profile_id: 'no-such-profile' });
    assert.equal(badProfile.status, 404);
    const badValidity = await api.call('POST', '/api/ca/v1/cas/re-root-3/reissue', { ca_expiration: { type: 'Duration' } });
    assert.deepEqual([badValidity.status, badValidity.body.code], [400, 'VALIDITY_INVALID']);
    const internal = await api.call('POST', '/api/ca/v1/cas/LAMASSU-DMS-MANAGER/reissue', {});
    assert.deepEqual([internal.status, internal.body.code], [403, 'CA_INTERNAL']);
    assert.equal((await api.call('POST', '/api/ca/v1/cas/re-root-3/status', { status: 'REVOKED', revocation_reason: 'KeyCompromise' })).status, 200);
    // The certificate the reissue replaced has the same key: revoking the CA revokes it too.
    const earlier = await api.call('GET', `/api/ca/v1/certificates/${first.serial_number}`);
    assert.deepEqual([earlier.body.status, earlier.body.revocation_reason], ['REVOKED', 'CessationOfOperation']);
    const revoked = await api.call('POST', '/api/ca/v1/cas/re-root-3/reissue', {});
    assert.deepEqual([revoked.status, revoked.body.code], [409, 'CA_REISSUE_NOT_ALLOWED']);
  });
});
