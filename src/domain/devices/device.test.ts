import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DomainError } from '../errors.ts';
import { checkDeviceId, checkSlotName, deviceStatusOf } from './device.ts';

test('device status from the active slot certificates: warnings outrank requires-action; decommissioned is terminal', () => {
  const cases: [Parameters<typeof deviceStatusOf>[0], Parameters<typeof deviceStatusOf>[1], string][] = [
    ['FULLY_PROVISIONED', [], 'PENDING_PROVISIONING'],
    ['PENDING_PROVISIONING', ['ACTIVE'], 'FULLY_PROVISIONED'],
    ['PENDING_PROVISIONING', ['ACTIVE', 'ACTIVE'], 'FULLY_PROVISIONED'],
    ['FULLY_PROVISIONED', ['ACTIVE', 'ABOUT_TO_EXPIRE'], 'REQUIRES_ACTION'],
    ['REQUIRES_ACTION', ['ABOUT_TO_EXPIRE', 'EXPIRED'], 'PROVISIONED_WITH_WARNINGS'],
    ['FULLY_PROVISIONED', ['REVOKED', 'ACTIVE'], 'PROVISIONED_WITH_WARNINGS'],
    ['DECOMMISSIONED', ['ACTIVE'], 'DECOMMISSIONED'],
    ['DECOMMISSIONED', [], 'DECOMMISSIONED'],
  ];
  for (const [current, statuses, want] of cases) assert.equal(deviceStatusOf(current, statuses), want, `${current} ${statuses.join(',')}`);
});

test('device ids and slot names', () => {
  for (const ok of ['dev-1', 'SN.0042', 'urn:dev@plant_1', 'a'.repeat(128)]) checkDeviceId(ok);
  for (const bad of ['', '-x', 'a/b', 'a b', 'a'.repeat(129), 'a\u0000b', 'ä']) {
    assert.throws(() => checkDeviceId(bad), (e: unknown) => e instanceof DomainError && e.code === 'DEVICE_ID_INVALID', bad);
  }
  checkSlotName('default');
  for (const bad of ['', 'Default', 'a b', 'x'.repeat(65)]) assert.throws(() => checkSlotName(bad), /slot/, bad);
});
