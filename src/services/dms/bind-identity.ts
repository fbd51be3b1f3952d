/**
 * Lamassu's POST /dms/bind-identity: a certificate the CA service holds becomes a device's identity
 * without an enrollment (manual assignment). As in Lamassu, the device must belong to a DMS, the binding
 * is written into the certificate's metadata (`lamassu.io/ra/attached-to`, as enrollment writes it), the
 * slot gets a new version and the device's timeline the bind mode (a first identity is PROVISIONED).
 * Unlike Lamassu, a certificate another device holds is refused (409 DEVICE_CERTIFICATE_BOUND).
 */
import type { Certificate } from '../../domain/ca/certificate.ts';
import type { Device } from '../../domain/devices/device.ts';
import { DEFAULT_SLOT, type Dms } from '../../domain/dms/dms.ts';
import { conflict, invalid, notFound } from '../../domain/errors.ts';
import type { DeviceService } from '../devices/device-service.ts';
import { dmsEvent, DmsCloudEvent, publishDmsEvents, type DmsServiceDeps } from './dms-service-deps.ts';

export const BIND_MODES = ['PROVISIONED', 'RE-PROVISIONED', 'RENEWED'] as const;
export type BindMode = (typeof BIND_MODES)[number];

export interface BindIdentityInput {
  deviceId: string;
  certificateSerialNumber: string;
  /** The timeline entry of a replaced identity; absent: RE-PROVISIONED. */
  bindMode?: string;
  actor: string;
}

export interface BindIdentityResult {
  certificate: Certificate;
  dms: Dms;
  device: Device;
}

export class IdentityBinding {
  constructor(
    private readonly deps: DmsServiceDeps,
    private readonly devices: DeviceService,
  ) {}

  async bind(input: BindIdentityInput): Promise<BindIdentityResult> {
    const mode = input.bindMode === undefined || input.bindMode === '' ? 'RE-PROVISIONED' : input.bindMode.toUpperCase();
    if (!(BIND_MODES as readonly string[]).includes(mode)) {
      throw invalid('BIND_MODE_INVALID', `bind_mode must be one of ${BIND_MODES.join(', ')}`, { bind_mode: String(input.bindMode).slice(0, 32) });
    }
    const device = await this.devices.get(input.deviceId);
    if (device.dmsId === null) throw conflict('DEVICE_WITHOUT_DMS', `device "${device.id}" belongs to no DMS; bind-identity binds through the device's DMS`, { id: device.id });
    const dms = await this.deps.storage.dms.get(device.dmsId);
    if (!dms) throw notFound('DMS_NOT_FOUND', `no DMS with id "${device.dmsId}"`, { id: device.dmsId });
    const { device: bound, certificate } = await this.devices.bindExisting({
      deviceId: device.id,
      serialNumber: input.certificateSerialNumber,
      kind: mode as BindMode,
      actor: input.actor,
    });
    const attached = await this.deps.ca.updateCertificateMetadata({
      serialNumber: certificate.serialNumber,
      ...(certificate.issuerCaId ? { issuerCaId: certificate.issuerCaId } : {}),
      change: { merge: { 'lamassu.io/ra/attached-to': { dms_id: dms.id, device_id: device.id, slot: DEFAULT_SLOT } } },
      actor: input.actor,
    });
    await publishDmsEvents(this.deps, [
      dmsEvent(
        this.deps,
        DmsCloudEvent.bindIdentity,
        dms.id,
        { dms_id: dms.id, device_id: device.id, slot: DEFAULT_SLOT, serial_number: certificate.serialNumber, bind_mode: mode },
        input.actor,
      ),
    ]);
    return { certificate: attached, dms, device: bound };
  }
}
