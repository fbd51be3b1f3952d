/**
 * `lamassu kms ...` as a subprocess against a real `lamassu serve`: tables for people, --json for scripts,
 * signatures written to files that openssl checks with the public key `kms show --pem` prints.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { lamassuCli, lamassuServer } from '../support/lamassu-process.ts';

const exec = promisify(execFile);

describe('lamassu kms (CLI subprocess, openssl)', { timeout: 120_000 }, () => {
  const e2e = lamassuServer('lamassu-e2e-cli-kms-', { LAMASSU_SERVICES: 'ca,kms' });
  const { dir } = e2e;
  const file = (name: string) => path.join(dir, name);
  const { lamassu } = lamassuCli(() => e2e.server, dir);

  it('creates, lists and shows keys; signs a file and a digest that openssl verifies', async () => {
    const created = await lamassu(['kms', 'create', '--key', 'ECDSA-384', '--name', 'cli-signer', '--json']);
    assert.equal(created.code, 0, created.stderr);
    const key = JSON.parse(created.stdout) as { key_id: string; algorithm: string; size: number };
    assert.deepEqual([key.algorithm, key.size], ['ECDSA', 384]);

    const table = await lamassu(['kms', 'list']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /ID\s*│\s*NAME\s*│\s*ENGINE\s*│\s*KEY/);
    assert.match(table.stdout, new RegExp(`${key.key_id}\\s*│\\s*cli-signer\\s*│\\s*\\S+\\s*│\\s*ECDSA 384`));
    const shown = await lamassu(['kms', 'show', 'cli-signer']);
    assert.match(shown.stdout, new RegExp(`id\\s*│\\s*${key.key_id}`));

    const pub = file('pub.pem');
    writeFileSync(pub, (await lamassu(['kms', 'show', key.key_id, '--pem'])).stdout);
    const message = file('firmware.bin');
    writeFileSync(message, 'firmware image 1.0');
    const signed = await lamassu(['kms', 'sign', 'cli-signer', '--algorithm', 'ECDSA_SHA_384', '--in', message, '--out', file('raw.sig')]);
    assert.equal(signed.code, 0, signed.stderr);
    assert.match((await exec('openssl', ['dgst', '-sha384', '-verify', pub, '-signature', file('raw.sig'), message])).stdout, /Verified OK/);

    const digest = file('firmware.sha512');
    writeFileSync(digest, createHash('sha512').update('firmware image 1.0').digest());
    const hashed = await lamassu(['kms', 'sign', key.key_id, '--algorithm', 'ECDSA_SHA_512', '--digest', '--in', digest]);
    assert.equal(hashed.code, 0, hashed.stderr);
    writeFileSync(file('hash.sig'), Buffer.from(hashed.stdout.trim(), 'base64'));
    assert.match((await exec('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', pub, '-in', digest, '-sigfile', file('hash.sig'), '-pkeyopt', 'digest:sha512'])).stdout, /Signature Verified Successfully/);
  });

  it('exits 1 with the server code for a refused request and 2 for bad usage', async () => {
    const refused = await lamassu(['kms', 'sign', 'cli-signer', '--algorithm', 'RSASSA_PSS_SHA_256', '--in', file('firmware.bin')]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /KMS_SIGN_ALGORITHM_INVALID/);
    const missing = await lamassu(['kms', 'show', 'no-such-key']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /KMS_KEY_NOT_FOUND/);
    const usage = await lamassu(['kms', 'create', '--key', 'DSA-1024']);
    assert.equal(usage.code, 2);
  });
});
