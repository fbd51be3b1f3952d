/**
 * The Vault engine runs against FakeVaultServer: a FAKE Vault that follows Vault's documented
 * AppRole and KV v2 HTTP API, because no real Vault server can run on this machine (nor in CI
 * here). What the fake cannot prove, a run against a real Vault must.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isDomainError } from '../../../domain/errors.ts';
import { ManualClock } from '../../../domain/ports/clock.ts';
import { rejectsWithCode, runKeyEngineContract, verifiesWith } from '../../../../test/support/key-engine-contract.ts';
import { FakeVaultServer } from '../../../../test/support/fake-vault-server.ts';
import { VaultKeyEngine, type VaultKeyEngineOptions } from './vault-key-engine.ts';

const ROLE_ID = 'lamassu-role';
const SECRET_ID = 'approle-secret-id-7f3a9c';

runKeyEngineContract('vault (fake Vault server)', async () => {
  const clock = new ManualClock();
  const vault = await FakeVaultServer.start({ roleId: ROLE_ID, secretId: SECRET_ID, clock });
  const open = () =>
    VaultKeyEngine.open({ id: 'vault-1', address: vault.address, roleId: ROLE_ID, secretId: SECRET_ID, clock });
  return { engine: await open(), reopen: open, cleanup: () => vault.close() };
});

describe('VaultKeyEngine', () => {
  let clock: ManualClock;
  let vault: FakeVaultServer;
  const options = (extra: Partial<VaultKeyEngineOptions> = {}): VaultKeyEngineOptions => ({
    id: 'vault',
    address: vault.address,
    roleId: ROLE_ID,
    secretId: SECRET_ID,
    mount: 'kv',
    path: 'lamassu/dev/keys',
    clock,
    ...extra,
  });

  before(async () => {
    clock = new ManualClock();
    vault = await FakeVaultServer.start({
      roleId: ROLE_ID,
      secretId: SECRET_ID,
      clock,
      tokenTtlSeconds: 600,
      mounts: ['kv'],
    });
  });
  after(() => vault.close());

  it('stores each key as a KV v2 secret <mount>/<path>/<key id> holding PKCS#8 PEM and the label', async () => {
    const engine = await VaultKeyEngine.open(options());
    const key = await engine.createKey({ spec: { type: 'ECDSA', bits: 256 }, label: 'issuing CA' });
    const stored = vault.secret('kv', `lamassu/dev/keys/${key.id}`);
    assert.match(String(stored?.private_key), /^-----BEGIN PRIVATE KEY-----\n/);
    assert.equal(stored?.label, 'issuing CA');
    await engine.close();
  });

  it('reads keys written by another Vault client, and refuses a secret holding the wrong key', async () => {
    const writer = await VaultKeyEngine.open(options());
    const a = await writer.createKey({ spec: { type: 'ED25519', bits: 256 } });
    const b = await writer.createKey({ spec: { type: 'ED25519', bits: 256 } });
    await writer.close();
    vault.putSecret('kv', `lamassu/dev/keys/${a.id}`, vault.secret('kv', `lamassu/dev/keys/${b.id}`)!);
    vault.putSecret('kv', `lamassu/dev/keys/${'e'.repeat(64)}`, { something: 'else' });
    const reader = await VaultKeyEngine.open(options());
    const data = Buffer.from('from another client');
    assert.ok(verifiesWith(b.publicKeySpki, 'ED25519', data, await reader.sign({ keyId: b.id, data })));
    await rejectsWithCode(reader.getKey(a.id), 'KEY_STORE_CORRUPT', 'unavailable');
    await rejectsWithCode(reader.getKey('e'.repeat(64)), 'KEY_STORE_CORRUPT');
    await reader.deleteKey(a.id);
    await reader.deleteKey('e'.repeat(64));
    await reader.close();
  });

  it('logs in again when the token lease runs out, without the caller noticing', async () => {
    const engine = await VaultKeyEngine.open(options());
    await engine.listKeys();
    const logins = vault.logins;
    const denied = vault.denied;
    clock.advance(601 * 1000);
    const key = await engine.createKey({ spec: { type: 'ECDSA', bits: 256 } });
    assert.equal(vault.logins, logins + 1);
    assert.equal(vault.denied, denied, 'the engine should renew before Vault has to refuse');
    assert.ok((await engine.listKeys()).some((k) => k.id === key.id));
    await engine.close();
  });

  it('logs in again and retries when Vault answers 403 (token revoked or expired early)', async () => {
    const engine = await VaultKeyEngine.open(options());
    const key = await engine.createKey({ spec: { type: 'ECDSA', bits: 384 } });
    const logins = vault.logins;
    const denied = vault.denied;
    vault.revokeTokens();
    const listed = await engine.listKeys();
    assert.ok(listed.some((k) => k.id === key.id));
    assert.equal(vault.denied, denied + 1);
    assert.equal(vault.logins, logins + 1);
    await engine.close();
  });

  it('logs in once for many concurrent first requests', async () => {
    const engine = await VaultKeyEngine.open(options());
    const logins = vault.logins;
    await Promise.all(Array.from({ length: 10 }, () => engine.listKeys()));
    assert.equal(vault.logins, logins + 1);
    await engine.close();
  });

  it('refuses bad AppRole credentials with KEY_ENGINE_AUTH_FAILED, never echoing secrets', async () => {
    const engine = await VaultKeyEngine.open(options({ secretId: 'wrong-secret-id-123' }));
    for (const attempt of [() => engine.listKeys(), () => engine.createKey({ spec: { type: 'ED25519', bits: 256 } })]) {
      await assert.rejects(attempt(), (e: unknown) => {
        assert.ok(isDomainError(e));
        assert.equal(e.code, 'KEY_ENGINE_AUTH_FAILED');
        assert.equal(e.kind, 'unavailable');
        const shown = `${e.message} ${JSON.stringify(e.details)}`;
        assert.ok(!shown.includes('wrong-secret-id-123') && !shown.includes(SECRET_ID));
        return true;
      });
    }
    const health = await engine.health();
    assert.equal(health.ok, false);
    assert.ok(!health.detail?.includes('wrong-secret-id-123'));
    await engine.close();
  });

  it('reports an unreachable or sealed Vault as KEY_ENGINE_UNAVAILABLE and unhealthy', async () => {
    const gone = await FakeVaultServer.start({ roleId: ROLE_ID, secretId: SECRET_ID, clock });
    const address = gone.address;
    await gone.close();
    const engine = await VaultKeyEngine.open(options({ address }));
    await rejectsWithCode(engine.getKey('0'.repeat(64)), 'KEY_ENGINE_UNAVAILABLE', 'unavailable');
    assert.equal((await engine.health()).ok, false);
    await engine.close();

    const sealedEngine = await VaultKeyEngine.open(options());
    vault.sealed = true;
    try {
      assert.equal((await sealedEngine.health()).ok, false);
    } finally {
      vault.sealed = false;
    }
    assert.equal((await sealedEngine.health()).ok, true);
    await sealedEngine.close();
  });

  describe('over HTTPS with a private CA (VAULT_CA)', () => {
    let dir: string;
    let tlsVault: FakeVaultServer;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'lamassu-vault-tls-'));
      const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
      const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
      run('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/CN=Test Vault CA', '-days', '1');
      run('req', ...ec, '-keyout', 'vault.key', '-out', 'vault.csr', '-subj', '/CN=127.0.0.1');
      await writeFile(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
      const sign = ['-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-extfile', 'ext.cnf'];
      run('x509', '-req', '-in', 'vault.csr', ...sign, '-out', 'vault.pem', '-days', '1');
      tlsVault = await FakeVaultServer.start({
        roleId: ROLE_ID,
        secretId: SECRET_ID,
        clock,
        tls: {
          key: await readFile(join(dir, 'vault.key'), 'utf8'),
          cert: await readFile(join(dir, 'vault.pem'), 'utf8'),
        },
      });
    });
    after(async () => {
      await tlsVault?.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('trusts Vault through the configured CA file', async () => {
      const caFile = join(dir, 'ca.pem');
      const engine = await VaultKeyEngine.open(options({ address: tlsVault.address, mount: 'secret', caFile }));
      const key = await engine.createKey({ spec: { type: 'ECDSA', bits: 256 } });
      assert.equal((await engine.getKey(key.id)).id, key.id);
      assert.equal((await engine.health()).ok, true);
      await engine.close();
    });

    it('refuses Vault when its certificate is not trusted, and a missing CA file', async () => {
      const engine = await VaultKeyEngine.open(options({ address: tlsVault.address, mount: 'secret' }));
      await rejectsWithCode(engine.listKeys(), 'KEY_ENGINE_UNAVAILABLE');
      await engine.close();
      await rejectsWithCode(
        VaultKeyEngine.open(options({ address: tlsVault.address, caFile: join(dir, 'missing.pem') })),
        'KEY_ENGINE_UNAVAILABLE',
      );
    });
  });
});
