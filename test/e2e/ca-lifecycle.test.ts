/**
 * Black-box CA lifecycle with the `lamassu` CLI as a subprocess against a real `lamassu serve`: reissue a
 * subordinate and a root (openssl verify: the new certificate against the old chain's parent, certificates
 * issued before against the new CA certificate), then retire a CA with its certificates revoked and its key
 * destroyed. Run `npm run build` first.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { lamassuCli, lamassuServer } from '../support/lamassu-process.ts';

const exec = promisify(execFile);

describe('lamassu ca reissue and ca delete (CLI, lamassu serve, openssl)', { timeout: 120_000 }, () => {
  const e2e = lamassuServer('lamassu-e2e-ca-life-');
  const { dir } = e2e;
  const { lamassu, ok, json } = lamassuCli(() => e2e.server, dir);

  const openssl = async (args: string[]) => (await exec('openssl', args, { cwd: dir })).stdout;
  const save = (name: string, text: string) => writeFileSync(path.join(dir, name), text);
  type Ca = { id: string; serial_number: string; key_id: string; certificate: { subject_key_id: string; valid_to: string; metadata: Record<string, string> } };

  it('reissues a subordinate: same key, new serial, verifies against the parent; earlier leaves verify with the new certificate', async () => {
    await ok(['ca', 'create', '--id', 'life-root', '--cn', 'Life Root', '--validity', '10y']);
    const sub = await json<Ca>(['ca', 'create', '--id', 'life-sub', '--parent', 'life-root', '--cn', 'Life Sub', '--validity', '1y']);
    save('root.pem', await ok(['ca', 'show', 'life-root', '--pem']));
    save('old-sub.pem', await ok(['ca', 'show', 'life-sub', '--pem']));
    await openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'leaf.key', '-subj', '/CN=life-leaf', '-out', 'leaf.csr']);
    save('leaf.pem', await ok(['cert', 'sign', '--ca', 'life-sub', '--csr', 'leaf.csr']));

    const reissued = await json<Ca>(['ca', 'reissue', 'life-sub', '--validity', '3y', '--reason', 'longer life']);
    assert.equal(reissued.id, 'life-sub');
    assert.notEqual(reissued.serial_number, sub.serial_number);
    assert.equal(reissued.key_id, sub.key_id);
    assert.equal(reissued.certificate.subject_key_id, sub.certificate.subject_key_id);
    assert.equal(reissued.certificate.metadata['lamassu.io/ca/reissued-from'], sub.serial_number);
    assert.ok(Date.parse(reissued.certificate.valid_to) > Date.parse(sub.certificate.valid_to) + 365 * 86_400_000);
    save('new-sub.pem', await ok(['ca', 'show', 'life-sub', '--pem']));
    assert.match(await openssl(['verify', '-CAfile', 'root.pem', 'new-sub.pem']), /new-sub\.pem: OK/);
    assert.match(await openssl(['verify', '-CAfile', 'root.pem', '-untrusted', 'new-sub.pem', 'leaf.pem']), /leaf\.pem: OK/);
    assert.match(await openssl(['verify', '-CAfile', 'root.pem', '-untrusted', 'old-sub.pem', 'leaf.pem']), /leaf\.pem: OK/);
    // The table output names the new serial.
    assert.match(await ok(['ca', 'show', 'life-sub']), new RegExp(reissued.serial_number));
  });

  it('reissues a root; the subordinate it signed before verifies against the new root', async () => {
    const root = await json<Ca>(['ca', 'reissue', 'life-root']);
    assert.equal(root.id, 'life-root');
    save('new-root.pem', await ok(['ca', 'show', 'life-root', '--pem']));
    assert.match(await openssl(['verify', '-CAfile', 'new-root.pem', 'new-sub.pem']), /new-sub\.pem: OK/);
    assert.match(await openssl(['verify', '-CAfile', 'new-root.pem', '-untrusted', 'new-sub.pem', 'leaf.pem']), /leaf\.pem: OK/);
    const refused = await lamassu(['ca', 'reissue', 'no-such-ca']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /CA_NOT_FOUND/);
  });

  it('retires a CA: refused while it has valid certificates, then revoked and deleted with its key', async () => {
    const refused = await lamassu(['ca', 'delete', 'life-sub']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /CA_DELETE_NOT_ALLOWED/);
    assert.match(await ok(['ca', 'delete', 'life-sub', '--revoke-certificates', '--destroy-key']), /CA life-sub deleted/);
    const gone = await lamassu(['ca', 'show', 'life-sub']);
    assert.match(gone.stderr, /CA_NOT_FOUND/);
    const serial = (await openssl(['x509', '-in', 'leaf.pem', '-noout', '-serial'])).trim().split('=')[1]!.toLowerCase();
    const leaf = await json<{ status: string; revocation_reason: string }>(['cert', 'show', serial]);
    assert.deepEqual([leaf.status, leaf.revocation_reason], ['REVOKED', 'CessationOfOperation']);
  });
});
