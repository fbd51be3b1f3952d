import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DomainError } from '../errors.ts';
import { checkIssuanceSettings, checkKeyAllowed, DEFAULT_ISSUANCE_SETTINGS } from './issuance-profile.ts';
import { keyStrength } from './key-strength.ts';

const isCode = (code: string) => (e: unknown) => e instanceof DomainError && e.code === code;

test('crypto enforcement accepts only the listed key types and sizes', () => {
  const e = {
    enabled: true,
    allowRsaKeys: true,
    allowedRsaKeySizes: [3072, 4096],
    allowEcdsaKeys: true,
    allowedEcdsaKeySizes: [256],
    allowEd25519Keys: false,
  };
  checkKeyAllowed(e, 'RSA', 3072);
  checkKeyAllowed(e, 'ECDSA', 256);
  assert.throws(() => checkKeyAllowed(e, 'RSA', 2048), isCode('CSR_KEY_NOT_ALLOWED'));
  assert.throws(() => checkKeyAllowed(e, 'ECDSA', 384), isCode('CSR_KEY_NOT_ALLOWED'));
  assert.throws(() => checkKeyAllowed(e, 'ED25519', 256), isCode('CSR_KEY_NOT_ALLOWED'));
  checkKeyAllowed({ ...e, enabled: false }, 'ED25519', 256);
  checkKeyAllowed({ ...e, allowedRsaKeySizes: [] }, 'RSA', 2048);
});

test('profile settings are checked', () => {
  checkIssuanceSettings(DEFAULT_ISSUANCE_SETTINGS);
  assert.throws(() => checkIssuanceSettings({ ...DEFAULT_ISSUANCE_SETTINGS, pathLength: 0 }), isCode('PROFILE_INVALID'));
  checkIssuanceSettings({ ...DEFAULT_ISSUANCE_SETTINGS, signAsCa: true, pathLength: 0 });
  assert.throws(
    () => checkIssuanceSettings({ ...DEFAULT_ISSUANCE_SETTINGS, keyUsage: ['Bogus' as 'CertSign'] }),
    isCode('PROFILE_INVALID'),
  );
  assert.throws(
    () => checkIssuanceSettings({ ...DEFAULT_ISSUANCE_SETTINGS, validity: { type: 'Duration', duration: '1q' } }),
    isCode('DURATION_INVALID'),
  );
});

test('key strength follows Lamassu grading', () => {
  assert.equal(keyStrength('RSA', 1024), 'LOW');
  assert.equal(keyStrength('RSA', 2048), 'MEDIUM');
  assert.equal(keyStrength('RSA', 4096), 'HIGH');
  assert.equal(keyStrength('ECDSA', 256), 'HIGH');
  assert.equal(keyStrength('ED25519', 256), 'HIGH');
});
