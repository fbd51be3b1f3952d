import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { isDomainError } from '../../domain/errors.ts';
import type { SignRequest } from '../../domain/ports/key-engine.ts';
import { generateSoftwareKey, importPkcs8, isKeyId, keyIdOf, signWithSoftwareKey } from './software-keys.ts';

const der = (k: ReturnType<typeof generateKeyPairSync>) =>
  k.privateKey.export({ format: 'der', type: 'pkcs8' }) as Buffer;

describe('software keys', () => {
  it('derives the key id as lowercase hex SHA-256 of the SPKI DER', () => {
    const spki = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');
    assert.equal(keyIdOf(spki), createHash('sha256').update(spki).digest('hex'));
    assert.ok(isKeyId(keyIdOf(spki)));
    assert.ok(!isKeyId(keyIdOf(spki).toUpperCase()));
    assert.ok(!isKeyId(`${keyIdOf(spki)}/../x`));
  });

  it('refuses keys outside the standard specs with KEY_TYPE_UNSUPPORTED', () => {
    const keys = [
      generateKeyPairSync('rsa', { modulusLength: 1024 }),
      generateKeyPairSync('rsa-pss', { modulusLength: 2048 }),
      generateKeyPairSync('ec', { namedCurve: 'secp224r1' }),
      generateKeyPairSync('ed448'),
      generateKeyPairSync('x25519'),
    ];
    for (const k of keys) {
      assert.throws(() => importPkcs8('e', der(k)), { code: 'KEY_TYPE_UNSUPPORTED', kind: 'unsupported' });
    }
  });

  it('refuses a PKCS#8 key whose embedded public key does not belong to it, without echoing it', () => {
    const a = der(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }));
    const b = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const bPoint = b.publicKey.export({ format: 'der', type: 'spki' }).subarray(-65);
    assert.equal(a[a.length - 65], 0x04, 'node puts the uncompressed public point last');
    const mixed = Buffer.concat([a.subarray(0, a.length - 65), bPoint]);
    assert.throws(
      () => importPkcs8('e', mixed),
      (e: unknown) => {
        assert.ok(isDomainError(e));
        assert.equal(e.code, 'KEY_INVALID');
        const shown = `${e.message} ${JSON.stringify(e.details)}`;
        assert.ok(!shown.includes(mixed.toString('hex').slice(0, 32)));
        assert.ok(!shown.includes(mixed.toString('base64').slice(0, 24)));
        return true;
      },
    );
  });

  it('refuses unknown hashes and paddings with SIGN_ALGORITHM_UNSUPPORTED', async () => {
    const rsa = await generateSoftwareKey('e', { type: 'RSA', bits: 2048 });
    const data = Buffer.from('x');
    const bad = [
      { keyId: rsa.info.id, data, hash: 'SHA-1' },
      { keyId: rsa.info.id, data, rsaPadding: 'oaep' },
      { keyId: rsa.info.id, data, hash: 'toString' },
    ] as unknown as SignRequest[];
    for (const req of bad) {
      await assert.rejects(signWithSoftwareKey('e', rsa, req), { code: 'SIGN_ALGORITHM_UNSUPPORTED' });
    }
  });
});
