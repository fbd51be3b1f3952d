/**
 * Which device and which of its identity slots a CSR asks for, Lamassu's way: the subject attribute that
 * names the device (the common name, or serialNumber when the DMS says so) reads `<slot>:<device id>`;
 * without a colon the slot is `default` and the whole value is the device id. The value is split at its
 * first colon, so a device id may hold colons of its own: `default:urn:dev-1` is device `urn:dev-1`.
 */
import { DEFAULT_SLOT } from './dms.ts';

export interface DeviceIdentity {
  deviceId: string;
  slot: string;
}

export function deviceIdentityOf(named: string): DeviceIdentity {
  const colon = named.indexOf(':');
  if (colon < 0) return { deviceId: named, slot: DEFAULT_SLOT };
  return { slot: named.slice(0, colon), deviceId: named.slice(colon + 1) };
}
