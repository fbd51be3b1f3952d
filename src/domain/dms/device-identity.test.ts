import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deviceIdentityOf } from './device-identity.ts';

test('a CSR names the slot before the first colon of the device-naming attribute; no colon: the default slot', () => {
  assert.deepEqual(deviceIdentityOf('dev-1'), { slot: 'default', deviceId: 'dev-1' });
  assert.deepEqual(deviceIdentityOf('tls:dev-1'), { slot: 'tls', deviceId: 'dev-1' });
  assert.deepEqual(deviceIdentityOf('default:urn:dev-1'), { slot: 'default', deviceId: 'urn:dev-1' });
  assert.deepEqual(deviceIdentityOf('urn:dev-1'), { slot: 'urn', deviceId: 'dev-1' });
  assert.deepEqual(deviceIdentityOf(':dev-1'), { slot: '', deviceId: 'dev-1' });
  assert.deepEqual(deviceIdentityOf('tls:'), { slot: 'tls', deviceId: '' });
});
