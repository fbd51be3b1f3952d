/**
 * The AWS IoT connector's synchronization (the SYNC job): AWS compared with what should be there, and what
 * differs repaired with the steps the other jobs take (AwsIotActions lends them), so a repair does what the
 * job would have done.
 */
import type { CloudResource, ConnectorJob, ConnectorRepository } from '../../domain/cloud/connector.ts';
import type { CloudLamassuGateway } from '../../domain/cloud/lamassu-gateway.ts';
import type { Clock } from '../../domain/ports/clock.ts';
import { AwsCallError, type AwsCertificateStatus, type AwsIotApi } from './aws-iot-api.ts';
import { awsStatusFor, caBinding, caDetails, provisioningProblem, recordedBinding, registrationConfigOf, sameCaConfig, sameProvisioning, str, thingAttributes, type CaBinding } from './bindings.ts';

/** What the synchronization reads and calls (AwsIotActions's ActionDeps are these and its rotation settings). */
export interface SyncDeps {
  connectorId: string;
  repo: ConnectorRepository;
  api: AwsIotApi;
  lamassu: CloudLamassuGateway;
  clock: Clock;
}

/** The steps of the other jobs that a repair takes; AwsIotActions provides them. */
export interface RepairSteps {
  resource(kind: CloudResource['kind'], key: string): Promise<CloudResource | undefined>;
  put(r: CloudResource): Promise<void>;
  registerCaWith(caId: string, binding: CaBinding, force?: boolean): Promise<boolean>;
  registeredCaPem(caId: string): Promise<string | undefined>;
  ensurePolicy(name: string, document: string, opts: { trustRecord: boolean }): Promise<'unchanged' | 'created' | 'versioned'>;
  checkRotation(res: CloudResource): Promise<boolean>;
}

/** What a synchronization found and repaired (the SYNC job's result). */
export interface SyncCounts {
  cas_checked: number;
  cas_registered: number;
  cas_updated: number;
  certificates_checked: number;
  certificates_registered: number;
  certificates_updated: number;
  /** AWS has the certificate REVOKED while it is valid here: AWS cannot take a revocation back. */
  certificates_unrepairable: number;
  things_created: number;
  principals_attached: number;
  principals_detached: number;
  policies_checked: number;
  policies_updated: number;
  rotations_completed: number;
  /** Items AWS refused for good (or that cannot be repaired as they stand): skipped, the others still done. */
  failed: number;
  /** The first reasons of those refusals. */
  errors: string[];
}

const emptyCounts = (): SyncCounts => ({
  cas_checked: 0,
  cas_registered: 0,
  cas_updated: 0,
  certificates_checked: 0,
  certificates_registered: 0,
  certificates_updated: 0,
  certificates_unrepairable: 0,
  things_created: 0,
  principals_attached: 0,
  principals_detached: 0,
  policies_checked: 0,
  policies_updated: 0,
  rotations_completed: 0,
  failed: 0,
  errors: [],
});

export class AwsIotSync {
  constructor(
    private readonly d: SyncDeps,
    private readonly steps: RepairSteps,
  ) {}

  /**
   * Compares AWS with what should be there and repairs what differs: CAs (registration, status,
   * auto-registration and template), then each certificate the connector registered (registration, status,
   * its thing and its attachment), the policies it made, and pending rotations. Counts go to the job's result
   * as they happen, so a retried synchronization carries on counting.
   */
  async run(job: ConnectorJob): Promise<void> {
    const saved = (job.result ?? {}) as Partial<SyncCounts>;
    const n: SyncCounts = { ...emptyCounts(), ...saved, cas_checked: 0, certificates_checked: 0, policies_checked: 0, failed: 0, errors: [] };
    const save = () => this.d.repo.setJobResult(job.id, { ...n });
    // One item AWS refuses for good does not stop the others; a failure that may pass retries the whole job.
    const each = async (what: string, fn: () => Promise<boolean>) => {
      try {
        if (await fn()) await save();
      } catch (err) {
        if (!(err instanceof AwsCallError) || err.kind !== 'permanent') throw err;
        n.failed++;
        if (n.errors.length < 10) n.errors.push(`${what}: ${err.message}`);
        await save();
      }
    };
    for (const ca of await this.d.lamassu.cas()) {
      await each(`CA ${ca.id}`, () => this.syncCa(ca.id, ca.status, caBinding(ca.metadata, this.d.connectorId), n));
    }
    const things = new Map<string, { exists: boolean; principals: Set<string> }>();
    for (const res of await this.d.repo.listResources(this.d.connectorId, 'CERTIFICATE')) {
      await each(`certificate ${res.key}`, () => this.syncCertificate(res, things, n));
    }
    for (const res of await this.d.repo.listResources(this.d.connectorId, 'POLICY')) {
      n.policies_checked++;
      const document = str(res.details.document);
      await each(`policy ${res.key}`, async () => {
        if (!document || (await this.steps.ensurePolicy(res.key, document, { trustRecord: false })) === 'unchanged') return false;
        n.policies_updated++;
        return true;
      });
    }
    for (const res of await this.d.repo.resourcesToRecheck(this.d.connectorId, new Date(8.64e15), 10_000)) {
      await each(`rotation ${res.key}`, async () => {
        if (!(await this.steps.checkRotation(res))) return false;
        n.rotations_completed++;
        return true;
      });
    }
    await save();
    await this.d.repo.setLastSync(this.d.connectorId, this.d.clock.now());
  }

  /** One CA: answers whether something was repaired. */
  private async syncCa(caId: string, status: string, binding: CaBinding | undefined, n: SyncCounts): Promise<boolean> {
    const valid = status === 'ACTIVE' || status === 'ABOUT_TO_EXPIRE';
    const res = await this.steps.resource('CA', caId);
    if (!res) {
      if (!binding || !valid) return false;
      await this.steps.registerCaWith(caId, binding);
      n.cas_registered++;
      return true;
    }
    n.cas_checked++;
    const want = valid && res.status === 'ACTIVE' ? 'ACTIVE' : 'INACTIVE';
    const there = await this.d.api.describeCaCertificate(res.cloudId);
    if (!there) {
      if (want !== 'ACTIVE') return false;
      await this.steps.registerCaWith(caId, binding ?? recordedBinding(res), true);
      n.cas_registered++;
      return true;
    }
    const recorded = recordedBinding(res);
    const config = { ...(binding ?? recorded), mode: recorded.mode };
    const wantAuto = config.autoRegistration ? 'ENABLE' : 'DISABLE';
    const registrationConfig = registrationConfigOf(config);
    const update = {
      ...(there.status !== want ? { newStatus: want as 'ACTIVE' | 'INACTIVE' } : {}),
      ...((there.autoRegistrationStatus ?? 'DISABLE') !== wantAuto ? { newAutoRegistrationStatus: wantAuto as 'ENABLE' | 'DISABLE' } : {}),
      ...(registrationConfig && !sameProvisioning(there.registrationConfig, registrationConfig) && !provisioningProblem(registrationConfig) ? { registrationConfig } : {}),
    };
    const repair = Object.keys(update).length > 0;
    if (repair) await this.d.api.updateCaCertificate({ certificateId: res.cloudId, ...update });
    if (res.status !== want || !sameCaConfig(recorded, config)) await this.steps.put({ ...res, status: want, details: { ...res.details, ...caDetails(config) } });
    if (repair) n.cas_updated++;
    return repair;
  }

  /** The status a certificate should have in AWS, or undefined when AWS has nothing to follow. */
  private async wantedStatus(res: CloudResource): Promise<AwsCertificateStatus | undefined> {
    if (res.details.decommissioned) return 'REVOKED';
    const here = await this.d.lamassu.certificate(res.key, str(res.details.ca_id) ?? null);
    if (!here) return undefined;
    const mirrored = awsStatusFor(here.status, here.revocationReason);
    if (res.details.rotation) return mirrored === 'REVOKED' ? 'REVOKED' : 'INACTIVE';
    // Superseded here, waiting for its device to use the new one: still ACTIVE there.
    if (here.status === 'REVOKED' && here.revocationReason === 'Superseded' && typeof res.details.deactivate_after === 'number') return 'ACTIVE';
    return mirrored;
  }

  /** One certificate and its thing: answers whether something was repaired. */
  private async syncCertificate(res: CloudResource, things: Map<string, { exists: boolean; principals: Set<string> }>, n: SyncCounts): Promise<boolean> {
    n.certificates_checked++;
    let repaired = false;
    const want = await this.wantedStatus(res);
    let current = res;
    const there = await this.d.api.describeCertificate(res.cloudId);
    if (!there) {
      if (want === 'ACTIVE' || want === 'INACTIVE') {
        const cert = await this.d.lamassu.certificate(res.key, str(res.details.ca_id) ?? null);
        if (cert) {
          const caPem = await this.steps.registeredCaPem(str(res.details.ca_id) ?? '');
          const reg = await this.d.api.registerCertificate({ certificatePem: cert.pem, ...(caPem ? { caCertificatePem: caPem } : {}), status: want });
          for (const policy of Array.isArray(res.details.policies) ? (res.details.policies as string[]) : []) await this.d.api.attachPolicy({ policyName: policy, target: reg.certificateArn });
          current = { ...res, cloudId: reg.certificateId, arn: reg.certificateArn, status: want };
          await this.steps.put(current);
          n.certificates_registered++;
          repaired = true;
        }
      }
    } else if (want && there.status !== want) {
      if (there.status === 'REVOKED') {
        n.certificates_unrepairable++;
        if (res.status !== 'REVOKED') await this.steps.put((current = { ...res, status: 'REVOKED' }));
      } else {
        await this.d.api.updateCertificate({ certificateId: res.cloudId, newStatus: want });
        await this.steps.put((current = { ...res, status: want }));
        n.certificates_updated++;
        repaired = true;
      }
    } else if (want && res.status !== want) {
      await this.steps.put((current = { ...res, status: want }));
    }
    if (!current.thingName || !current.arn) return repaired;
    const attached = current.status === 'ACTIVE' && !current.details.detached;
    let thing = things.get(current.thingName);
    if (!thing) {
      const exists = (await this.d.api.describeThing(current.thingName)) !== undefined;
      thing = { exists, principals: new Set(exists ? await this.d.api.listThingPrincipals(current.thingName) : []) };
      things.set(current.thingName, thing);
    }
    if (attached && !thing.exists) {
      const device = current.deviceId ? await this.d.lamassu.device(current.deviceId) : undefined;
      await this.d.api.createThing({ thingName: current.thingName, attributes: thingAttributes(device?.metadata ?? {}, { lamassu_dms: String(current.details.dms_id ?? '').replace(/[^a-zA-Z0-9_.,@/:#=-]/g, '_').slice(0, 800) }) });
      thing.exists = true;
      n.things_created++;
      repaired = true;
    }
    if (attached && !thing.principals.has(current.arn)) {
      await this.d.api.attachThingPrincipal({ thingName: current.thingName, principal: current.arn });
      thing.principals.add(current.arn);
      n.principals_attached++;
      repaired = true;
    } else if (!attached && current.details.detached && thing.principals.has(current.arn)) {
      await this.d.api.detachThingPrincipal({ thingName: current.thingName, principal: current.arn });
      thing.principals.delete(current.arn);
      n.principals_detached++;
      repaired = true;
    }
    return repaired;
  }
}
