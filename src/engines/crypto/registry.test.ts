import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../domain/ports/clock.ts';
import type { KeyEngine } from '../../domain/ports/key-engine.ts';
import { rejectsWithCode } from '../../../test/support/key-engine-contract.ts';
import { MemoryKeyEngine } from './memory/memory-key-engine.ts';
import { createKeyEngine, KeyEngineSet, type KeyEngineConfig } from './registry.ts';
import { FakeVaultServer } from '../../../test/support/fake-vault-server.ts';

describe('key engine registry', () => {
  let root: string;
  let vault: FakeVaultServer;
  const clock = new ManualClock();
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'lamassu-registry-'));
    // A fake Vault: no real Vault server can run on this machine.
    vault = await FakeVaultServer.start({ roleId: 'r', secretId: 's', clock });
  });
  after(async () => {
    await vault.close();
    await rm(root, { recursive: true, force: true });
  });

  it('opens every engine type by config, gopem being the filesystem engine', async () => {
    const configs: KeyEngineConfig[] = [
      { type: 'memory', id: 'mem' },
      { type: 'filesystem', id: 'fs', directory: join(root, 'fs') },
      { type: 'gopem', id: 'gopem', directory: join(root, 'gopem') },
      { type: 'vault', id: 'vault', address: vault.address, roleId: 'r', secretId: 's', path: 'pki/keys' },
    ];
    const set = await KeyEngineSet.open(configs, { defaultId: 'fs', clock });
    assert.deepEqual(
      set.list().map((e) => [e.id, e.kind]),
      [['mem', 'memory'], ['fs', 'filesystem'], ['gopem', 'filesystem'], ['vault', 'vault']],
    );
    assert.equal(set.default().id, 'fs');
    const key = await set.get('gopem').createKey({ spec: { type: 'ED25519', bits: 256 } });
    assert.deepEqual(await readdir(join(root, 'gopem')), [`${key.id}.pem`]);
    const vaultKey = await set.get('vault').createKey({ spec: { type: 'ECDSA', bits: 256 } });
    assert.ok(vault.secret('secret', `pki/keys/${vaultKey.id}`));
    await set.closeAll();
  });

  it('throws KEY_ENGINE_NOT_FOUND for an unknown engine id; the first engine is the default', () => {
    const set = KeyEngineSet.of([new MemoryKeyEngine({ id: 'a' }), new MemoryKeyEngine({ id: 'b' })]);
    assert.equal(set.default().id, 'a');
    assert.throws(() => set.get('c'), { code: 'KEY_ENGINE_NOT_FOUND', kind: 'not_found' });
  });

  it('refuses unusable configurations with KEY_ENGINE_CONFIG_INVALID', async () => {
    const bad: unknown[] = [
      { type: 'hsm-9000', id: 'x' },
      { type: 'filesystem', id: 'x' },
      { type: 'filesystem', directory: root },
      { type: 'vault', id: 'x', address: 'vault:8200', roleId: 'r', secretId: 's' },
      { type: 'vault', id: 'x', address: vault.address, roleId: 'r' },
      { type: 'pkcs11', id: 'x', module: '', tokenLabel: 't', pin: '1234' },
    ];
    for (const config of bad) {
      await rejectsWithCode(createKeyEngine(config as KeyEngineConfig), 'KEY_ENGINE_CONFIG_INVALID', 'invalid');
    }
    const mem = (id: string): KeyEngineConfig => ({ type: 'memory', id });
    await rejectsWithCode(KeyEngineSet.open([]), 'KEY_ENGINE_CONFIG_INVALID');
    await rejectsWithCode(KeyEngineSet.open([mem('a'), mem('a')]), 'KEY_ENGINE_CONFIG_INVALID');
    await rejectsWithCode(KeyEngineSet.open([mem('a')], { defaultId: 'b' }), 'KEY_ENGINE_CONFIG_INVALID');
  });

  it('closes the engines already open when a later one fails to open', async () => {
    const closed: string[] = [];
    const original = MemoryKeyEngine.prototype.close;
    MemoryKeyEngine.prototype.close = async function (this: KeyEngine) {
      closed.push(this.id);
    };
    try {
      const configs: KeyEngineConfig[] = [
        { type: 'memory', id: 'first' },
        {
          type: 'vault',
          id: 'broken',
          address: vault.address,
          roleId: 'r',
          secretId: 's',
          caFile: join(root, 'no-ca.pem'),
        },
      ];
      await rejectsWithCode(KeyEngineSet.open(configs), 'KEY_ENGINE_UNAVAILABLE');
      assert.deepEqual(closed, ['first']);
    } finally {
      MemoryKeyEngine.prototype.close = original;
    }
  });
});
