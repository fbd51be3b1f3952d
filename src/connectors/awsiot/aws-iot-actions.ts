/**
 * What each job of the AWS IoT connector does in AWS. Steps already done are recorded on the job, so a job
 * retried after a failure half-way (AWS gone between two calls) carries on where it stopped instead of
 * repeating calls; every call is idempotent on AWS's side as well (an existing resource counts as made).
 * The SYNC job is handed to AwsIotSync (aws-iot-sync.ts), which repairs with the public steps here.
 */
import type { CloudResource, ConnectorJob } from '../../domain/cloud/connector.ts';
import { AwsCallError, type AwsCertificateStatus } from './aws-iot-api.ts';
import { AwsIotSync, type SyncDeps } from './aws-iot-sync.ts';
import { awsStatusFor, caDetails, documentSha256, provisioningProblem, recordedBinding, registrationConfigOf, sameCaConfig, sameJsonText, str, thingAttributes, validThingName, type CaBinding, type DmsBinding } from './bindings.ts';

export interface RotationSettings {
  /** How often the device of a superseded certificate is looked at (its shadow read). */
  checkMs: number;
  /** How long a superseded certificate stays active in AWS at most when its device is not seen using its successor. */
  graceMs: number;
}

export interface ActionDeps extends SyncDeps {
  rotation: RotationSettings;
}

/** A job that can never succeed as it stands (not an AWS failure): it is failed, not retried. */
const giveUp = (action: string, message: string) => new AwsCallError('permanent', action, 'Lamassu', message);

/** Serial numbers compared as AWS, devices and we may write them: hex, any case, colons and leading zeros aside. */
export const sameSerial = (a: string, b: string) => normalSerial(a) === normalSerial(b);
const normalSerial = (s: string) => s.replace(/[:\s]/g, '').toLowerCase().replace(/^0+(?=.)/, '');

type Resource = Omit<CloudResource, 'connectorId' | 'updatedAt' | 'recheckAt'> & { recheckAt?: Date | null };

export class AwsIotActions {
  private readonly sync: AwsIotSync;

  constructor(private readonly d: ActionDeps) {
    this.sync = new AwsIotSync(d, this);
  }

  run(job: ConnectorJob): Promise<void> {
    switch (job.kind) {
      case 'REGISTER_CA':
        return this.registerCa(job);
      case 'CA_CONFIG':
        return this.caConfig(job);
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
      case 'POLICY':
        return this.policy(job);
      case 'SYNC':
        return this.sync.run(job);
    }
  }

  private async step(job: ConnectorJob, name: string, fn: () => Promise<void>): Promise<void> {
    if (job.progress.includes(name)) return;
    await fn();
    await this.d.repo.addProgress(job.id, name);
    job.progress.push(name);
  }

  resource(kind: CloudResource['kind'], key: string) {
    return this.d.repo.getResource(this.d.connectorId, kind, key);
  }

  async put(r: Resource): Promise<void> {
    await this.d.repo.putResource({ ...r, recheckAt: r.recheckAt ?? null, connectorId: this.d.connectorId, updatedAt: this.d.clock.now() });
  }

  // ---- CAs ----

  private async registerCa(job: ConnectorJob): Promise<void> {
    const binding = job.payload.binding as CaBinding;
    await this.registerCaWith(job.key, binding);
  }

  /** Registers the CA (with its auto-registration and provisioning template) unless it is registered; answers whether it called AWS. */
  async registerCaWith(caId: string, binding: CaBinding, force = false): Promise<boolean> {
    if (!force && (await this.resource('CA', caId))) return false;
    const problem = provisioningProblem(binding.provisioning);
    if (problem) throw giveUp('RegisterCACertificate', `CA "${caId}": ${problem}`);
    const ca = await this.d.lamassu.ca(caId);
    if (!ca) throw giveUp('RegisterCACertificate', `CA "${caId}" is gone`);
    let verificationCertificatePem: string | undefined;
    if (binding.mode === 'DEFAULT') {
      const code = await this.d.api.getRegistrationCode();
      verificationCertificatePem = await this.d.lamassu.verificationCertificate(caId, code);
    }
    const registrationConfig = registrationConfigOf(binding);
    const reg = await this.d.api.registerCaCertificate({
      caCertificatePem: ca.certificatePem,
      ...(verificationCertificatePem ? { verificationCertificatePem } : {}),
      allowAutoRegistration: binding.autoRegistration,
      ...(registrationConfig ? { registrationConfig } : {}),
    });
    if (reg.existed) {
      // AWS had it already (registered by an attempt that did not get to record it, or by hand): what
      // RegisterCACertificate would have set is set now.
      await this.d.api.updateCaCertificate({
        certificateId: reg.certificateId,
        newStatus: 'ACTIVE',
        newAutoRegistrationStatus: binding.autoRegistration ? 'ENABLE' : 'DISABLE',
        ...(registrationConfig ? { registrationConfig } : {}),
      });
    }
    await this.put({ kind: 'CA', key: caId, deviceId: null, cloudId: reg.certificateId, arn: reg.certificateArn, thingName: null, status: 'ACTIVE', details: caDetails(binding) });
    return true;
  }

  /** A registered CA's metadata changed: its auto-registration status and provisioning template follow. */
  private async caConfig(job: ConnectorJob): Promise<void> {
    const binding = job.payload.binding as CaBinding;
    const res = await this.resource('CA', job.key);
    if (!res) {
      await this.registerCaWith(job.key, binding);
      return;
    }
    if (sameCaConfig(recordedBinding(res), binding)) return;
    const problem = provisioningProblem(binding.provisioning);
    if (problem) throw giveUp('UpdateCACertificate', `CA "${job.key}": ${problem}`);
    const registrationConfig = registrationConfigOf(binding);
    await this.d.api.updateCaCertificate({
      certificateId: res.cloudId,
      newAutoRegistrationStatus: binding.autoRegistration ? 'ENABLE' : 'DISABLE',
      ...(registrationConfig ? { registrationConfig } : {}),
    });
    await this.put({ ...res, details: { ...res.details, ...caDetails({ ...binding, mode: recordedBinding(res).mode }) } });
  }

  private async deactivateCa(caId: string): Promise<void> {
    const res = await this.resource('CA', caId);
    if (!res || res.status === 'INACTIVE') return;
    await this.d.api.updateCaCertificate({ certificateId: res.cloudId, newStatus: 'INACTIVE' });
    await this.put({ ...res, status: 'INACTIVE' });
  }

  // ---- policies ----

  /**
   * The policy in AWS has this document as its default version: created when missing, a new default version
   * when its document differs (AWS keeps 5 versions: the oldest one that is not the default goes first).
   * Answers what it did. Recorded as a POLICY resource, so enrollments do not ask AWS each time.
   */
  async ensurePolicy(name: string, document: string, opts: { trustRecord: boolean }): Promise<'unchanged' | 'created' | 'versioned'> {
    const digest = documentSha256(document);
    const recorded = await this.resource('POLICY', name);
    if (opts.trustRecord && recorded && recorded.details.document_sha256 === digest) return 'unchanged';
    const existing = await this.d.api.getPolicy(name);
    let outcome: 'unchanged' | 'created' | 'versioned' = 'unchanged';
    let versionId = existing?.defaultVersionId ?? '1';
    if (!existing) {
      await this.d.api.createPolicy({ policyName: name, policyDocument: document });
      outcome = 'created';
    } else if (!sameJsonText(existing.document, document)) {
      const versions = await this.d.api.listPolicyVersions(name);
      if (versions.length >= 5) {
        const oldest = versions
          .filter((v) => !v.isDefault)
          .sort((a, b) => (a.createdAt?.getTime() ?? 0) - (b.createdAt?.getTime() ?? 0) || Number(a.versionId) - Number(b.versionId))[0];
        if (oldest) await this.d.api.deletePolicyVersion({ policyName: name, versionId: oldest.versionId });
      }
      versionId = await this.d.api.createPolicyVersion({ policyName: name, policyDocument: document });
      outcome = 'versioned';
    }
    await this.put({ kind: 'POLICY', key: name, deviceId: null, cloudId: versionId, arn: null, thingName: null, status: 'ACTIVE', details: { document_sha256: digest, document } });
    return outcome;
  }

  private async policy(job: ConnectorJob): Promise<void> {
    const document = str(job.payload.policy_document);
    if (!document) return;
    await this.ensurePolicy(job.key, document, { trustRecord: true });
  }

  // ---- devices ----

  private async enroll(job: ConnectorJob): Promise<void> {
    const p = job.payload as { dms_id: string; device_id: string; serial_number: string; ca_id: string; slot?: string; reenroll?: boolean; binding: DmsBinding };
    const thingName = p.device_id;
    if (!validThingName(thingName)) throw giveUp('CreateThing', `device id "${thingName}" is not a valid AWS thing name ([a-zA-Z0-9:_-], at most 128)`);
    await this.step(job, 'thing', async () => {
      const device = await this.d.lamassu.device(p.device_id);
      await this.d.api.createThing({ thingName, attributes: thingAttributes(device?.metadata ?? {}, { lamassu_dms: p.dms_id.replace(/[^a-zA-Z0-9_.,@/:#=-]/g, '_').slice(0, 800) }) });
    });
    await this.step(job, 'certificate', async () => {
      const cert = await this.d.lamassu.certificate(p.serial_number, p.ca_id);
      if (!cert) throw giveUp('RegisterCertificate', `certificate ${p.serial_number} is gone`);
      const caPem = await this.registeredCaPem(p.ca_id);
      const reg = await this.d.api.registerCertificate({ certificatePem: cert.pem, ...(caPem ? { caCertificatePem: caPem } : {}), status: 'ACTIVE' });
      await this.put({
        kind: 'CERTIFICATE',
        key: p.serial_number,
        deviceId: p.device_id,
        cloudId: reg.certificateId,
        arn: reg.certificateArn,
        thingName,
        status: 'ACTIVE',
        details: { ca_id: p.ca_id, dms_id: p.dms_id, slot: p.slot ?? null, policies: p.binding.policies.map((x) => x.name), groups: p.binding.groups, shadow_name: p.binding.shadowName, shadow_enabled: p.binding.shadowEnabled },
      });
    });
    const res = await this.resource('CERTIFICATE', p.serial_number);
    if (!res?.arn) throw giveUp('AttachPolicy', `certificate ${p.serial_number} has no AWS ARN`);
    for (const policy of p.binding.policies) {
      await this.step(job, `policy:${policy.name}`, async () => {
        if (policy.document) await this.ensurePolicy(policy.name, policy.document, { trustRecord: true });
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
      // The device has a new certificate; the ones it held before (in the same slot) keep working in AWS until
      // it is seen using the new one, or the grace period ends (see checkRotation).
      for (const old of await this.d.repo.resourcesOfDevice(this.d.connectorId, p.device_id)) {
        if (old.kind !== 'CERTIFICATE' || sameSerial(old.key, p.serial_number) || old.status !== 'ACTIVE' || old.details.rotation) continue;
        if (p.slot && old.details.slot && old.details.slot !== p.slot) continue;
        await this.step(job, `supersede:${old.key}`, () => this.markSuperseded(old, p.serial_number));
      }
    }
  }

  /** The CA's PEM when it is registered in DEFAULT mode and active (device certificates then register with it). */
  async registeredCaPem(caId: string): Promise<string | undefined> {
    const caRes = await this.resource('CA', caId);
    return caRes?.details.mode === 'DEFAULT' && caRes.status === 'ACTIVE' ? (await this.d.lamassu.ca(caId))?.certificatePem : undefined;
  }

  /** The certificate waits for its device to use its successor: looked at again after the check interval. */
  private async markSuperseded(res: CloudResource, by: string | null): Promise<void> {
    const now = this.d.clock.now().getTime();
    const pending = typeof res.details.deactivate_after === 'number';
    const deadline = pending ? (res.details.deactivate_after as number) : now + this.d.rotation.graceMs;
    await this.put({
      ...res,
      recheckAt: new Date(Math.min(now + this.d.rotation.checkMs, deadline)),
      details: { ...res.details, superseded_by: by ?? res.details.superseded_by ?? null, superseded_at: pending ? res.details.superseded_at : now, deactivate_after: deadline },
    });
  }

  private async certificateStatus(serial: string, status: string, reason: string | null): Promise<void> {
    const res = await this.resource('CERTIFICATE', serial);
    if (!res) return;
    if (status === 'REVOKED' && reason === 'Superseded' && res.status === 'ACTIVE' && !res.details.rotation) {
      // Replaced by a re-enrollment: it stays usable in AWS until the device uses its new certificate.
      if (typeof res.details.deactivate_after !== 'number') await this.markSuperseded(res, null);
      return;
    }
    const target = awsStatusFor(status, reason);
    // AWS cannot bring a REVOKED certificate back; nor can we (only hold is released). A certificate retired
    // by a rotation stays retired.
    if (!target || res.status === target || res.status === 'REVOKED' || (target === 'ACTIVE' && res.details.rotation)) return;
    await this.d.api.updateCertificate({ certificateId: res.cloudId, newStatus: target });
    // A pending rotation of a certificate that is no longer active ends at its next check (detached then).
    await this.put({ ...res, status: target, ...(res.recheckAt && target !== 'ACTIVE' ? { recheckAt: this.d.clock.now() } : {}) });
  }

  /**
   * A superseded certificate: deactivated (REVOKED when it is revoked here, INACTIVE otherwise) and detached
   * from its thing once the device reports in its shadow that it connects with another of its certificates, or
   * once the grace period is over; looked at again later otherwise. Answers whether the rotation is over.
   */
  async checkRotation(res: CloudResource): Promise<boolean> {
    const now = this.d.clock.now().getTime();
    const after = res.details.deactivate_after;
    const deadline = typeof after === 'number' ? after : now;
    if (res.status !== 'ACTIVE') {
      await this.completeRotation(res, 'not_active', null);
      return true;
    }
    const reported = await this.reportedSerial(res);
    if (reported && !sameSerial(reported, res.key)) {
      const successors = (await this.d.repo.resourcesOfDevice(this.d.connectorId, res.deviceId ?? '')).filter((r) => r.kind === 'CERTIFICATE' && r.status === 'ACTIVE' && !sameSerial(r.key, res.key));
      if (successors.some((r) => sameSerial(r.key, reported))) {
        await this.completeRotation(res, 'in_use', reported);
        return true;
      }
    }
    if (now >= deadline) {
      await this.completeRotation(res, 'grace_expired', reported ?? null);
      return true;
    }
    await this.put({ ...res, recheckAt: new Date(Math.min(now + this.d.rotation.checkMs, deadline)) });
    return false;
  }

  /** The serial number the device says it connects with (`state.reported.identity.serial_number` of its shadow). */
  private async reportedSerial(res: CloudResource): Promise<string | undefined> {
    const shadowName = str(res.details.shadow_name);
    if (!shadowName || !res.thingName || res.details.shadow_enabled === false) return undefined;
    const shadow = await this.d.api.getThingShadow({ thingName: res.thingName, shadowName });
    const reported = (shadow?.state as { reported?: { identity?: { serial_number?: unknown } } } | undefined)?.reported;
    return str(reported?.identity?.serial_number);
  }

  private async completeRotation(res: CloudResource, because: 'in_use' | 'grace_expired' | 'not_active', reported: string | null): Promise<void> {
    let status = res.status;
    if (status === 'ACTIVE') {
      const here = await this.d.lamassu.certificate(res.key, str(res.details.ca_id) ?? null);
      status = here && awsStatusFor(here.status, here.revocationReason) === 'REVOKED' ? 'REVOKED' : 'INACTIVE';
      try {
        await this.d.api.updateCertificate({ certificateId: res.cloudId, newStatus: status as AwsCertificateStatus });
      } catch (err) {
        // Deleted in AWS meanwhile: nothing left to deactivate.
        if (!(err instanceof AwsCallError) || err.awsCode !== 'ResourceNotFoundException') throw err;
      }
    }
    if (res.thingName && res.arn && !res.details.detached) await this.d.api.detachThingPrincipal({ thingName: res.thingName, principal: res.arn });
    await this.put({
      ...res,
      status,
      recheckAt: null,
      details: { ...res.details, detached: true, rotation: { completed_at: this.d.clock.now().getTime(), because, reported_serial: reported } },
    });
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
        await this.put({ ...res, status: 'REVOKED', recheckAt: null, details: { ...res.details, detached: true, decommissioned: true } });
      });
    }
  }

  private async shadow(job: ConnectorJob): Promise<void> {
    const resources = (await this.d.repo.resourcesOfDevice(this.d.connectorId, job.key)).filter((r) => r.kind === 'CERTIFICATE' && r.thingName);
    const current = resources.find((r) => r.status === 'ACTIVE' && !r.recheckAt) ?? resources.find((r) => r.status === 'ACTIVE') ?? resources[0];
    if (!current) throw giveUp('UpdateThingShadow', `device "${job.key}" has no thing in AWS`);
    const shadowName = (typeof current.details.shadow_name === 'string' && current.details.shadow_name) || String(job.payload.shadow_name ?? 'lamassu');
    const action = String(job.payload.action ?? 'UPDATE_CERTIFICATE');
    await this.d.api.updateThingShadow({
      thingName: current.thingName!,
      shadowName,
      payload: { state: { desired: { identity_actions: { [action]: Math.floor(job.createdAt.getTime() / 1000) } } } },
    });
  }
}
