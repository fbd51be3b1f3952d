import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_ISSUANCE_SETTINGS, type CryptoEnforcement } from '../../domain/ca/issuance-profile.ts';
import { announcedKey } from './csr-attribute-rules.ts';

const enforce = (e: Partial<CryptoEnforcement>): CryptoEnforcement => ({ ...DEFAULT_ISSUANCE_SETTINGS.cryptoEnforcement, enabled: true, ...e });

test('announced key: the DMS preference when accepted, else the first accepted, else a listed size; none when nothing fits', () => {
  const off = DEFAULT_ISSUANCE_SETTINGS.cryptoEnforcement;
  assert.deepEqual(announcedKey(off), { type: 'ECDSA', bits: 256 });
  assert.deepEqual(announcedKey(off, { type: 'RSA', bits: 3072 }), { type: 'RSA', bits: 3072 });
  assert.deepEqual(announcedKey(enforce({ allowRsaKeys: false, allowedEcdsaKeySizes: [384, 521] }), { type: 'ECDSA', bits: 256 }), { type: 'ECDSA', bits: 384 });
  assert.deepEqual(announcedKey(enforce({ allowEcdsaKeys: false, allowedRsaKeySizes: [3072] })), { type: 'RSA', bits: 3072 });
  assert.deepEqual(announcedKey(enforce({ allowEcdsaKeys: false, allowEd25519Keys: false, allowedRsaKeySizes: [8192] })), { type: 'RSA', bits: 8192 });
  assert.deepEqual(announcedKey(enforce({ allowEcdsaKeys: false, allowRsaKeys: false })), { type: 'ED25519', bits: 256 });
  assert.equal(announcedKey(enforce({ allowEcdsaKeys: false, allowRsaKeys: false, allowEd25519Keys: false })), undefined);
  assert.equal(announcedKey(enforce({ allowEcdsaKeys: false, allowEd25519Keys: false, allowedRsaKeySizes: [1024] })), undefined, 'a size we never issue for');
});
