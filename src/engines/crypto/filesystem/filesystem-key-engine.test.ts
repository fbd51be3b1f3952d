import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isDomainError } from '../../../domain/errors.ts';
import { rejectsWithCode, runKeyEngineContract, verifiesWith } from '../../../../test/support/key-engine-contract.ts';
import { FilesystemKeyEngine } from './filesystem-key-engine.ts';

const tempDir = () => mkdtemp(join(tmpdir(), 'lamassu-fs-keys-'));

for (const passphrase of [undefined, 'correct horse battery staple']) {
  runKeyEngineContract(`filesystem${passphrase ? ' (encrypted)' : ''}`, async () => {
    const root = await tempDir();
    const directory = join(root, 'keys');
    const open = () => FilesystemKeyEngine.open({ id: 'fs-1', directory, passphrase });
    return {
      engine: await open(),
      reopen: open,
      cleanup: () => rm(root, { recursive: true, force: true }),
    };
  });
}

describe('FilesystemKeyEngine', () => {
  let root: string;
  before(async () => {
    root = await tempDir();
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('stores one 0600 PKCS#8 PEM per key, named <id>.pem, in a 0700 directory, readable by openssl', async () => {
    const directory = join(root, 'plain');
    const engine = await FilesystemKeyEngine.open({ id: 'fs', directory });
    const key = await engine.createKey({ spec: { type: 'ECDSA', bits: 256 } });
    assert.equal((await stat(directory)).mode & 0o777, 0o700);
    assert.deepEqual(await readdir(directory), [`${key.id}.pem`]);
    const file = join(directory, `${key.id}.pem`);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.match(await readFile(file, 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/);
    const spki = execFileSync('openssl', ['pkey', '-in', file, '-pubout', '-outform', 'DER']);
    assert.deepEqual(spki, Buffer.from(key.publicKeySpki));
    await engine.close();
  });

  it('says, when a key is missing, which directory it looked in and that replicas need a shared key store', async () => {
    // Two replicas, each with its own key directory: what one creates, the other cannot find.
    const one = await FilesystemKeyEngine.open({ id: 'files', directory: join(root, 'replica-1') });
    const two = await FilesystemKeyEngine.open({ id: 'files', directory: join(root, 'replica-2') });
    const key = await one.createKey({ spec: { type: 'ECDSA', bits: 256 } });
    // One at a time: a rejection started before its assert.rejects is an unhandled rejection (a failed test).
    for (const attempt of [() => two.sign({ keyId: key.id, data: Buffer.from('x') }), () => two.getKey(key.id), () => two.deleteKey(key.id)]) {
      await assert.rejects(attempt(), (e: unknown) => {
        assert.ok(isDomainError(e));
        assert.equal(e.code, 'KEY_NOT_FOUND');
        assert.equal(e.kind, 'not_found');
        assert.ok(e.message.includes(key.id), e.message);
        assert.match(e.message, /key engine files \(filesystem\)/);
        assert.ok(e.message.includes(`no file ${key.id}.pem in key directory ${join(root, 'replica-2')}`), e.message);
        assert.match(e.message, /Replicas of lamassu serve must share one key store: the same key directory on every replica \(a shared volume\), or a PKCS#11 or Vault key engine/);
        assert.deepEqual(e.details, { engineId: 'files', keyId: key.id, directory: join(root, 'replica-2') });
        return true;
      });
    }
    await Promise.all([one.close(), two.close()]);
  });

  it('encrypts keys with the passphrase (openssl opens them with it)', async () => {
    const directory = join(root, 'encrypted');
    const engine = await FilesystemKeyEngine.open({ id: 'fs', directory, passphrase: 's3cret-pass' });
    const key = await engine.createKey({ spec: { type: 'ED25519', bits: 256 } });
    const file = join(directory, `${key.id}.pem`);
    assert.match(await readFile(file, 'utf8'), /^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
    assert.throws(() => execFileSync('openssl', ['pkey', '-in', file, '-passin', 'pass:wrong'], { stdio: 'pipe' }));
    const args = ['pkey', '-in', file, '-passin', 'pass:s3cret-pass', '-pubout', '-outform', 'DER'];
    const spki = execFileSync('openssl', args);
    assert.deepEqual(spki, Buffer.from(key.publicKeySpki));
    await engine.close();
  });

  it('refuses a wrong or missing passphrase with KEY_PASSPHRASE_INVALID, never echoing a passphrase', async () => {
    const directory = join(root, 'wrong-pass');
    const good = await FilesystemKeyEngine.open({ id: 'fs', directory, passphrase: 'the-right-one' });
    const key = await good.createKey({ spec: { type: 'ECDSA', bits: 256 } });
    await good.close();
    for (const passphrase of ['the-wrong-one', undefined]) {
      const engine = await FilesystemKeyEngine.open({ id: 'fs', directory, passphrase });
      const attempts = [
        () => engine.getKey(key.id),
        () => engine.sign({ keyId: key.id, data: Buffer.from('x') }),
        () => engine.listKeys(),
      ];
      for (const attempt of attempts) {
        await assert.rejects(attempt(), (e: unknown) => {
          assert.ok(isDomainError(e));
          assert.equal(e.code, 'KEY_PASSPHRASE_INVALID');
          assert.equal(e.kind, 'unavailable');
          const shown = `${e.message} ${JSON.stringify(e.details)}`;
          assert.ok(!shown.includes('the-right-one') && !shown.includes('the-wrong-one'));
          return true;
        });
      }
      const health = await engine.health();
      assert.equal(health.ok, false);
      assert.ok(!health.detail?.includes('the-wrong-one'));
      await engine.close();
    }
  });

  it('reports a corrupt or misnamed key file as KEY_STORE_CORRUPT without showing its content', async () => {
    const directory = join(root, 'corrupt');
    const engine = await FilesystemKeyEngine.open({ id: 'fs', directory });
    const a = await engine.createKey({ spec: { type: 'ECDSA', bits: 256 } });
    const b = await engine.createKey({ spec: { type: 'ECDSA', bits: 256 } });
    const pemB = await readFile(join(directory, `${b.id}.pem`), 'utf8');
    await engine.close();

    const garbageId = 'a'.repeat(64);
    await writeFile(join(directory, `${garbageId}.pem`), 'SECRETGARBAGE-not-a-pem', { mode: 0o600 });
    await writeFile(join(directory, `${a.id}.pem`), pemB, { mode: 0o600 }); // b's key under a's name
    const reopened = await FilesystemKeyEngine.open({ id: 'fs', directory });
    for (const id of [garbageId, a.id]) {
      await assert.rejects(reopened.getKey(id), (e: unknown) => {
        assert.ok(isDomainError(e));
        assert.equal(e.code, 'KEY_STORE_CORRUPT');
        assert.ok(!e.message.includes('SECRETGARBAGE'));
        assert.ok(!e.message.includes(pemB.split('\n')[1].slice(0, 20)));
        return true;
      });
    }
    await mkdir(join(directory, `${'b'.repeat(64)}.pem`)); // unreadable as a file
    await rejectsWithCode(reopened.getKey('b'.repeat(64)), 'KEY_STORE_CORRUPT', 'unavailable');
    await reopened.close();
  });

  it('signs from memory once a key is loaded (the hot path never re-reads the file)', async () => {
    const directory = join(root, 'cache');
    const engine = await FilesystemKeyEngine.open({ id: 'fs', directory });
    const key = await engine.createKey({ spec: { type: 'ECDSA', bits: 256 } });
    await rm(join(directory, `${key.id}.pem`));
    const data = Buffer.from('cached');
    assert.ok(verifiesWith(key.publicKeySpki, 'ECDSA', data, await engine.sign({ keyId: key.id, data })));
    await engine.close();
  });

  it('leaves no temp file after writes, ignores a crashed write, and removes it once stale', async () => {
    const directory = join(root, 'atomic');
    const engine = await FilesystemKeyEngine.open({ id: 'fs', directory });
    const key = await engine.createKey({ spec: { type: 'ECDSA', bits: 256 } });
    assert.deepEqual(await readdir(directory), [`${key.id}.pem`]);

    // What a crash between write and rename leaves behind: a partial temp file.
    const partial = join(directory, `.${'c'.repeat(64)}.pem.0123456789abcdef.tmp`);
    await writeFile(partial, '-----BEGIN PRIVATE KEY-----\nMIG', { mode: 0o600 });
    assert.deepEqual((await engine.listKeys()).map((k) => k.id), [key.id]);
    await engine.close();

    const soon = await FilesystemKeyEngine.open({ id: 'fs', directory });
    assert.ok((await readdir(directory)).includes(partial.split('/').pop()!), 'a fresh temp file may be in use');
    await soon.close();

    const old = new Date(Date.now() - 60 * 60 * 1000);
    await utimes(partial, old, old);
    const later = await FilesystemKeyEngine.open({ id: 'fs', directory });
    assert.deepEqual(await readdir(directory), [`${key.id}.pem`]);
    await later.close();
  });

  it('fails cleanly with KEY_ENGINE_UNAVAILABLE when the directory cannot be created', async () => {
    const file = join(root, 'a-file');
    await writeFile(file, 'x');
    const opening = FilesystemKeyEngine.open({ id: 'fs', directory: join(file, 'keys') });
    await rejectsWithCode(opening, 'KEY_ENGINE_UNAVAILABLE');
  });
});
