/**
 * What each job of the AWS IoT connector does in AWS. Steps already done are recorded on the job, so a job
 * retried after a failure half-way (AWS gone between two calls) carries on where it stopped instead of
 * repeating calls; every call is idempotent on AWS's side as well (an existing resource counts as made).
 */
import type { CloudResource, ConnectorJob, ConnectorRepository } from '../../domain/cloud/connector.ts';
import type { CloudLamassuGateway } from '../../domain/cloud/lamassu-gateway.ts';
import type { Clock } from '../../domain/ports/clock.ts';
import { AwsCallError, type AwsCertificateStatus, type AwsIotApi } from './aws-iot-api.ts';
import { caBinding, thingAttributes, validThingName, type CaBinding, type DmsBinding } from './bindings.ts';

export interface ActionDeps {
  connectorId: string;
  repo: ConnectorRepository;
  api: AwsIotApi;
  lamassu: CloudLamassuGateway;
  clock: Clock;
}

/** A job that can never succeed as it stands (not an AWS failure): it is failed, not retried. */
const giveUp = (action: string, message: string) => new AwsCallError('permanent', action, 'Lamassu', message);

/** The AWS status that mirrors ours, or undefined when AWS has nothing to follow (expiry is AWS's own check). */
export function awsStatusFor(status: string, reason: string | null): AwsCertificateStatus | undefined {
  if (status === 'REVOKED') return reason === 'CertificateHold' ? 'INACTIVE' : 'REVOKED';
  if (status === 'ACTIVE' || status === 'ABOUT_TO_EXPIRE') return 'ACTIVE';
  return undefined;
}

export class AwsIotActions {
  constructor(private readonly d: ActionDeps) {}

  run(job: ConnectorJob): Promise<void> {
    switch (job.kind) {
      case 'REGISTER_CA':
        return this.registerCa(job);
      case 'DEACTIVATE_CA':
        return this.deactivateCa(job.key);
      case 'ENROLL':
        return this.enroll(job);
      case 'CERT_STATUS':
        return this.certificateStatus(job.key, String(job.payload.status), (job.payload.revocation_reason as string | null) ?? null);
      case 'DECOMMISSION':
        return this.decommission(job);
      case 'SHADOW':
        return this.shadow(job);
      case 'SYNC':
        return this.synchronize();
    }
  }

  private async step(job: ConnectorJob, name: string, fn: () => Promise<void>): Promise<void> {
    if (job.progress.includes(name)) return;
    await fn();
    await this.d.repo.addProgress(job.id, name);
    job.progress.push(name);
  }

  private resource(kind: CloudResource['kind'], key: string) {
    return this.d.repo.getResource(this.d.connectorId, kind, key);
  }

  private async put(r: Omit<CloudResource, 'connectorId' | 'updatedAt'>): Promise<void> {
    await this.d.repo.putResource({ ...r, connectorId: this.d.connectorId, updatedAt: this.d.clock.now() });
  }

  private async registerCa(job: ConnectorJob): Promise<void> {
    const binding = job.payload.binding as CaBinding;
    await this.registerCaWith(job.key, binding);
  }

  private async registerCaWith(caId: string, binding: CaBinding): Promise<void> {
    if (await this.resource('CA', caId)) return;
    const ca = await this.d.lamassu.ca(caId);
    if (!ca) throw giveUp('RegisterCACertificate', `CA "${caId}" is gone`);
    let verificationCertificatePem: string | undefined;
    if (binding.mode === 'DEFAULT') {
      const code = await this.d.api.getRegistrationCode();
      verificationCertificatePem = await this.d.lamassu.verificationCertificate(caId, code);
    }
    const reg = await this.d.api.registerCaCertificate({
      caCertificatePem: ca.certificatePem,
      ...(verificationCertificatePem ? { verificationCertificatePem } : {}),
      allowAutoRegistration: binding.autoRegistration,
    });
    await this.put({ kind: 'CA', key: caId, deviceId: null, cloudId: reg.certificateId, arn: reg.certificateArn, thingName: null, status: 'ACTIVE', details: { mode: binding.mode, auto_registration: binding.autoRegistration } });
  }

  private async deactivateCa(caId: string): Promise<void> {
    const res = await this.resource('CA', caId);
    if (!res || res.status === 'INACTIVE') return;
    await this.d.api.updateCaCertificate({ certificateId: res.cloudId, newStatus: 'INACTIVE' });
    await this.put({ ...res, status: 'INACTIVE' });
  }

  private async enroll(job: ConnectorJob): Promise<void> {
    const p = job.payload as { dms_id: string; device_id: string; serial_number: string; ca_id: string; reenroll?: boolean; binding: DmsBinding };
    const thingName = p.device_id;
    if (!validThingName(thingName)) throw giveUp('CreateThing', `device id "${thingName}" is not a valid AWS thing name ([a-zA-Z0-9:_-], at most 128)`);
    await this.step(job, 'thing', async () => {
      const device = await this.d.lamassu.device(p.device_id);
      await this.d.api.createThing({ thingName, attributes: thingAttributes(device?.metadata ?? {}, { lamassu_dms: p.dms_id.replace(/[^a-zA-Z0-9_.,@/:#=-]/g, '_').slice(0, 800) }) });
    });
    await this.step(job, 'certificate', async () => {
      const cert = await this.d.lamassu.certificate(p.serial_number, p.ca_id);
      if (!cert) throw giveUp('RegisterCertificate', `certificate ${p.serial_number} is gone`);
      const caRes = await this.resource('CA', p.ca_id);
      const caPem = caRes?.details.mode === 'DEFAULT' && caRes.status === 'ACTIVE' ? (await this.d.lamassu.ca(p.ca_id))?.certificatePem : undefined;
      const reg = await this.d.api.registerCertificate({ certificatePem: cert.pem, ...(caPem ? { caCertificatePem: caPem } : {}), status: 'ACTIVE' });
      await this.put({
        kind: 'CERTIFICATE',
        key: p.serial_number,
        deviceId: p.device_id,
        cloudId: reg.certificateId,
        arn: reg.certificateArn,
        thingName,
        status: 'ACTIVE',
        details: { ca_id: p.ca_id, dms_id: p.dms_id, policies: p.binding.policies.map((x) => x.name), groups: p.binding.groups, shadow_name: p.binding.shadowName },
      });
    });
    const res = await this.resource('CERTIFICATE', p.serial_number);
    if (!res?.arn) throw giveUp('AttachPolicy', `certificate ${p.serial_number} has no AWS ARN`);
    for (const policy of p.binding.policies) {
      await this.step(job, `policy:${policy.name}`, async () => {
        if (policy.document) await this.d.api.createPolicy({ policyName: policy.name, policyDocument: policy.document });
        await this.d.api.attachPolicy({ policyName: policy.name, target: res.arn! });
      });
    }
    await this.step(job, 'principal', () => this.d.api.attachThingPrincipal({ thingName, principal: res.arn! }));
    for (const group of p.binding.groups) {
      await this.step(job, `group:${group}`, async () => {
        await this.d.api.createThingGroup({ thingGroupName: group });
        await this.d.api.addThingToThingGroup({ thingGroupName: group, thingName });
      });
    }
    if (p.reenroll) {
      // The device has its new certificate: the ones it held before stop working in AWS (they stay valid here until they expire).
      for (const old of await this.d.repo.resourcesOfDevice(this.d.connectorId, p.device_id)) {
        if (old.kind !== 'CERTIFICATE' || old.key === p.serial_number || old.status !== 'ACTIVE') continue;
        await this.step(job, `supersede:${old.key}`, async () => {
          await this.d.api.updateCertificate({ certificateId: old.cloudId, newStatus: 'INACTIVE' });
          if (old.thingName && old.arn) await this.d.api.detachThingPrincipal({ thingName: old.thingName, principal: old.arn });
          await this.put({ ...old, status: 'INACTIVE' });
        });
      }
    }
  }

  private async certificateStatus(serial: string, status: string, reason: string | null): Promise<void> {
    const res = await this.resource('CERTIFICATE', serial);
    if (!res) return;
    const target = awsStatusFor(status, reason);
    // AWS cannot bring a REVOKED certificate back; nor can we (only hold is released).
    if (!target || res.status === target || res.status === 'REVOKED') return;
    await this.d.api.updateCertificate({ certificateId: res.cloudId, newStatus: target });
    await this.put({ ...res, status: target });
  }

  private async decommission(job: ConnectorJob): Promise<void> {
    for (const res of await this.d.repo.resourcesOfDevice(this.d.connectorId, job.key)) {
      if (res.kind !== 'CERTIFICATE') continue;
      await this.step(job, `revoke:${res.key}`, async () => {
        if (res.status !== 'REVOKED') await this.d.api.updateCertificate({ certificateId: res.cloudId, newStatus: 'REVOKED' });
        await this.put({ ...res, status: 'REVOKED' });
      });
      await this.step(job, `detach:${res.key}`, async () => {
        if (res.thingName && res.arn) await this.d.api.detachThingPrincipal({ thingName: res.thingName, principal: res.arn });
        await this.put({ ...res, status: 'REVOKED', details: { ...res.details, detached: true } });
      });
    }
  }

  private async shadow(job: ConnectorJob): Promise<void> {
    const resources = (await this.d.repo.resourcesOfDevice(this.d.connectorId, job.key)).filter((r) => r.kind === 'CERTIFICATE' && r.thingName);
    const current = resources.find((r) => r.status === 'ACTIVE') ?? resources[0];
    if (!current) throw giveUp('UpdateThingShadow', `device "${job.key}" has no thing in AWS`);
    const shadowName = (typeof current.details.shadow_name === 'string' && current.details.shadow_name) || String(job.payload.shadow_name ?? 'lamassu');
    const action = String(job.payload.action ?? 'UPDATE_CERTIFICATE');
    await this.d.api.updateThingShadow({
      thingName: current.thingName!,
      shadowName,
      payload: { state: { desired: { identity_actions: { [action]: Math.floor(job.createdAt.getTime() / 1000) } } } },
    });
  }

  /** CAs first (registration asked for, deactivation of CAs no longer valid), then device certificates' statuses. */
  private async synchronize(): Promise<void> {
    for (const ca of await this.d.lamassu.cas()) {
      const binding = caBinding(ca.metadata, this.d.connectorId);
      const res = await this.resource('CA', ca.id);
      if (binding && !res && (ca.status === 'ACTIVE' || ca.status === 'ABOUT_TO_EXPIRE')) await this.registerCaWith(ca.id, binding);
      else if (res && res.status === 'ACTIVE' && (ca.status === 'REVOKED' || ca.status === 'EXPIRED')) await this.deactivateCa(ca.id);
    }
    for (const res of await this.d.repo.listResources(this.d.connectorId, 'CERTIFICATE')) {
      const cert = await this.d.lamassu.certificate(res.key, typeof res.details.ca_id === 'string' ? res.details.ca_id : null);
      if (cert) await this.certificateStatus(res.key, cert.status, cert.revocationReason);
    }
    await this.d.repo.setLastSync(this.d.connectorId, this.d.clock.now());
  }
}
