/**
 * Enrollment as the EST front-end uses it (RFC 7030 framing lives in src/http/est): who may enroll, for
 * which CA and device, then issue through the CA service and bind to the device's slot. Every check runs
 * before anything is issued, generated or stored, so a refusal leaves no trace but its error.
 */
import type { CertificateAuthority } from '../../domain/ca/ca.ts';
import type { Certificate } from '../../domain/ca/certificate.ts';
import { serverKeyAllowed } from '../../domain/dms/dms-rules.ts';
import { deviceIdentityOf } from '../../domain/dms/device-identity.ts';
import type { Dms } from '../../domain/dms/dms.ts';
import type { Device, SlotCertificate } from '../../domain/devices/device.ts';
import type { CertificateFacts } from '../../domain/dms/certificate-inspector.ts';
import { checkDeviceId, checkSlotName } from '../../domain/devices/device.ts';
import { conflict, forbidden, invalid, notFound, unauthenticated } from '../../domain/errors.ts';
import type { KeySpec } from '../../domain/ports/key-engine.ts';
import { parseCsr, parseCsrTemplate, verifyCsrSignature, type CsrTemplate, type ParsedCsr } from '../../x509/csr.ts';
import { toPem } from '../../x509/pem.ts';
import type { DeviceService } from '../devices/device-service.ts';
import { caPath, describeFault, faultDetails, firstFault, storedPathCertificate } from './certificate-path.ts';
import { announcedKey } from './csr-attribute-rules.ts';
import { IssuanceGate } from './issuance-gate.ts';
import { DmsCloudEvent, dmsEvent, publishDmsEvents, type DmsServiceDeps } from './dms-service-deps.ts';
import {
  authenticateBasic,
  authenticateClientCertificate,
  authenticateDmsCertificate,
  leafOf,
  REENROLL_CERTIFICATE_FAULTS,
  sameBytes,
  webhookRefused,
  type EnrollmentCredentials,
} from './enrollment-auth.ts';

export type { EnrollmentCredentials } from './enrollment-auth.ts';

export interface EnrollRequest {
  /** The EST label: a DMS id or a CA id; undefined uses the default DMS. */
  label?: string;
  /** PKCS#10 DER. */
  csrDer: Uint8Array;
  credentials: EnrollmentCredentials;
}

export interface ServerKeygenRequest extends EnrollRequest {
  /** Key to generate; the DMS's default key when absent. */
  keySpec?: KeySpec;
}

export interface EnrollResult {
  certificate: Certificate;
  /** The issuing CA's certificate and its issuers up to the root, DER. */
  chain: Uint8Array[];
  deviceId: string;
  dmsId: string;
}

export interface ServerKeygenResult extends EnrollResult {
  /** PKCS#8 DER of the generated key: returned once, never stored. */
  privateKeyPkcs8: Uint8Array;
}

export interface CsrAttributes {
  /** Attribute OIDs the CSR should carry (RFC 7030 4.5): challengePassword, serialNumber; may be empty. */
  oids: string[];
  /** One key the issuance profile accepts, for the CSR to hold (RFC 9908 3.2); its signature follows from it. */
  key?: KeySpec;
}

export interface EnrollmentOptions {
  /** DMS used by the label-less EST paths. */
  defaultDmsId?: string;
  /** How long concurrent enrollments may wait for each other to issue together (see IssuanceGate); 0: never. */
  issuanceWindowMs?: number;
}

/** A label names a DMS (enroll under its enrollment CA) or a CA (the seed's flow: authenticate with a DMS certificate). */
type Target = { kind: 'dms'; dms: Dms } | { kind: 'ca'; ca: CertificateAuthority };

/** The decision of the checks: everything needed to issue, nothing issued yet. */
interface Plan {
  dms: Dms;
  caId: string;
  deviceId: string;
  slot: string;
  device: Device | undefined;
  replaces: boolean;
  actor: string;
}

const SERIAL_NUMBER_OID = '2.5.4.5';
const CHALLENGE_PASSWORD_OID = '1.2.840.113549.1.9.7';

/** How long a CA chain is reused; a CA's certificates never change under its id, so this only bounds memory of deleted CAs. */
const CHAIN_TTL_MS = 1000;

export class EnrollmentService {
  private readonly chains = new Map<string, { chain: Uint8Array[]; loadedAt: number }>();
  private readonly gate: IssuanceGate;

  constructor(
    private readonly deps: DmsServiceDeps,
    private readonly devices: DeviceService,
    private readonly options: EnrollmentOptions = {},
  ) {
    this.gate = new IssuanceGate(options.issuanceWindowMs ?? 0);
  }

  /** RFC 7030 4.2.1 simpleenroll. */
  enroll(req: EnrollRequest): Promise<EnrollResult> {
    return this.gate.track(() => this.enrollNow(req));
  }

  /** RFC 7030 4.4 serverkeygen: the client's CSR gives the subject and extensions, nothing else; the key is made here. */
  serverKeygen(req: ServerKeygenRequest): Promise<ServerKeygenResult> {
    return this.gate.track(() => this.serverKeygenNow(req));
  }

  /**
   * RFC 7030 4.2.2 simplereenroll: authenticated by the device's current certificate; the CSR keeps its
   * subject and subjectAltName; allowed inside the DMS's window before expiry; the new certificate replaces
   * the old one in its slot, which is revoked (Superseded) when the DMS says so.
   */
  reenroll(req: EnrollRequest): Promise<EnrollResult> {
    return this.gate.track(() => this.reenrollNow(req));
  }

  private async enrollNow(req: EnrollRequest): Promise<EnrollResult> {
    const csr = parseCsr(req.csrDer);
    const plan = await this.planEnrollment(req, csr, 'enroll');
    const verified = plan.dms.settings.enrollment.verifyCsrSignature;
    if (verified) await requireCsrSignature(this.deps, csr);
    return this.issueAndBind(plan, req.csrDer, undefined, verified);
  }

  private async serverKeygenNow(req: ServerKeygenRequest): Promise<ServerKeygenResult> {
    // RFC 7030 4.4.1: the CSR's key and signature are ignored (clients send throwaway ones): its request only.
    const csr = parseCsrTemplate(req.csrDer);
    const plan = await this.planEnrollment(req, csr, 'serverkeygen');
    const keygen = plan.dms.settings.serverKeygen;
    if (!keygen.enabled) throw forbidden('SERVER_KEYGEN_DISABLED', `DMS "${plan.dms.id}" does not generate keys`);
    const spec = req.keySpec ?? keygen.defaultKey;
    if (!serverKeyAllowed(plan.dms.settings, spec)) {
      throw invalid('SERVER_KEYGEN_KEY_NOT_ALLOWED', `DMS "${plan.dms.id}" does not generate ${spec.type} ${spec.bits} keys`, { ...spec });
    }
    const generated = await this.deps.keyGenerator.generate(spec, csr.subjectName, csr.extensionRequest);
    // Our own key signed this CSR: nothing to prove.
    const result = await this.issueAndBind(plan, generated.csrDer, undefined, true);
    return { ...result, privateKeyPkcs8: generated.pkcs8 };
  }

  private async reenrollNow(req: EnrollRequest): Promise<EnrollResult> {
    const csr = parseCsr(req.csrDer);
    const target = await this.resolve(req.label);
    const { leaf } = leafOf(this.deps, req.credentials, "the device's current certificate as TLS client certificate");
    const current = await this.currentSlotCertificate(leaf);
    const device = await this.devices.get(current.slot.deviceId);
    if (device.status === 'DECOMMISSIONED') throw conflict('DEVICE_DECOMMISSIONED', `device "${device.id}" is decommissioned`);
    const dms = device.dmsId ? await this.deps.storage.dms.get(device.dmsId) : undefined;
    if (!dms) throw forbidden('ENROLL_DMS_NOT_FOUND', `device "${device.id}" belongs to no DMS that exists`);
    let caId: string;
    if (target.kind === 'dms') {
      if (target.dms.id !== dms.id) throw forbidden('ENROLL_DEVICE_OWNED_BY_OTHER_DMS', `device "${device.id}" belongs to another DMS`);
      caId = dms.settings.enrollment.enrollmentCaId;
    } else {
      caId = target.ca.id;
      if (!dms.authorizedCaIds.includes(caId)) throw forbidden('ENROLL_CA_NOT_AUTHORIZED', `DMS "${dms.id}" is not authorized for CA "${caId}"`);
    }
    const r = dms.settings.reenrollment;
    const accepted = [dms.settings.enrollment.enrollmentCaId, ...r.additionalValidationCaIds, caId];
    if (!accepted.includes(current.slot.issuerCaId)) {
      throw forbidden('REENROLL_CA_NOT_ACCEPTED', `certificates of CA "${current.slot.issuerCaId}" cannot re-enroll with DMS "${dms.id}"`);
    }
    const stored = current.stored;
    const now = this.deps.clock.now();
    // The device's certificate, then the CA that issued it and that CA's issuers, leaf first.
    const fault = firstFault([storedPathCertificate(stored), ...(await caPath(this.deps.ca, current.slot.issuerCaId))], now, r.allowExpired);
    if (fault) throw forbidden(REENROLL_CERTIFICATE_FAULTS[fault.fault], `re-enrollment refused: ${describeFault(fault)}`, faultDetails(fault));
    const expired = stored.status === 'EXPIRED' || now > stored.notAfter;
    const opens = new Date(stored.notAfter.getTime() - r.windowMs);
    if (now < opens) {
      throw conflict('REENROLL_OUTSIDE_WINDOW', `re-enrollment opens at ${opens.toISOString()}`, { opensAt: opens.toISOString() });
    }
    if (!this.deps.inspector.sameName(csr.subjectName, leaf.subjectName)) {
      throw invalid('REENROLL_SUBJECT_MISMATCH', 'the CSR subject differs from the current certificate (RFC 7030 4.2.2)');
    }
    if (!this.deps.inspector.sameAltNames(csr.extensions.subjectAltName, leaf.subjectAltName)) {
      throw invalid('REENROLL_SUBJECT_MISMATCH', 'the CSR subjectAltName differs from the current certificate (RFC 7030 4.2.2)');
    }
    const verified = dms.settings.enrollment.verifyCsrSignature;
    if (verified) await requireCsrSignature(this.deps, csr);
    const plan: Plan = {
      dms,
      caId,
      deviceId: device.id,
      slot: current.slot.slot,
      device,
      replaces: true,
      actor: `device:${device.id}`,
    };
    const result = await this.issueAndBind(plan, req.csrDer, 'RENEWED', verified);
    if (r.revokeSuperseded && !expired) await this.revokeSuperseded(stored, plan.actor);
    return result;
  }

  /**
   * The slot certificate the client authenticates with: byte for byte the certificate its CA issued under
   * that serial number, and still the slot's active one. A certificate that only shares the serial number
   * (forged, or another certificate altogether) proves nothing: 401, whatever the slot holds.
   */
  private async currentSlotCertificate(leaf: CertificateFacts): Promise<{ slot: SlotCertificate; stored: Certificate }> {
    const refuse = (code: string, why: string) => unauthenticated(code, `re-enrollment refused: ${why}`, { serialNumber: leaf.serialNumber });
    const slots = await this.deps.storage.devices.findSlotCertificates(leaf.serialNumber);
    let superseded = false;
    for (const slot of slots) {
      const stored = await this.deps.ca.getCertificate(slot.serialNumber, slot.issuerCaId);
      if (!stored || !sameBytes(stored.der, leaf.der)) continue;
      if (slot.supersededAt === null) return { slot, stored };
      superseded = true;
    }
    if (superseded) throw conflict('REENROLL_CERTIFICATE_SUPERSEDED', 're-enrollment refused: the certificate has already been replaced');
    if (slots.length > 0) throw refuse('REENROLL_CERTIFICATE_MISMATCH', 'the client certificate is not the certificate issued under its serial number');
    throw refuse('REENROLL_CERTIFICATE_UNKNOWN', 'the client certificate is not the active certificate of any device');
  }

  /** RFC 7030 4.1 cacerts: the DMS's CA distribution, or the CA's chain for a CA label. */
  async cacerts(label?: string): Promise<Uint8Array[]> {
    const target = await this.resolve(label);
    if (target.kind === 'ca') return this.deps.ca.caChain(target.ca.id);
    const d = target.dms.settings.caDistribution;
    const out: Uint8Array[] = [];
    const add = (der: Uint8Array) => {
      if (!out.some((o) => sameBytes(o, der))) out.push(der);
    };
    // Lamassu's order: the system (HTTPS listener's) CA, the enrollment CA, the managed CAs.
    if (d.includeSystemCa && this.deps.systemCaCertificates) for (const der of await this.deps.systemCaCertificates()) add(der);
    if (d.includeEnrollmentCa) {
      const chain = await this.deps.ca.caChain(target.dms.settings.enrollment.enrollmentCaId);
      for (const der of d.includeChain ? chain : chain.slice(0, 1)) add(der);
    }
    for (const caId of d.managedCaIds) {
      const ca = await this.deps.ca.getCa(caId);
      if (ca) add(ca.certificate.der);
    }
    return out;
  }

  /**
   * RFC 7030 4.5 csrattrs: a challengePassword for a DMS whose external webhook judges the CSR, serialNumber
   * when the DMS names devices by it, and a key that the issuance profile accepts (the DMS's own key choice
   * when it does). A CA label has no DMS yet: its CA's own profile.
   */
  async csrattrs(label?: string): Promise<CsrAttributes> {
    const target = await this.resolve(label);
    if (target.kind === 'ca') return withKey({ oids: [] }, announcedKey(await this.deps.ca.cryptoEnforcement(target.ca.id)));
    const { enrollment, serverKeygen, issuanceProfileId } = target.dms.settings;
    const oids = [
      ...(enrollment.authMode === 'EXTERNAL_WEBHOOK' ? [CHALLENGE_PASSWORD_OID] : []),
      ...(enrollment.deviceIdSource === 'serial_number' ? [SERIAL_NUMBER_OID] : []),
    ];
    const enforcement = await this.deps.ca.cryptoEnforcement(enrollment.enrollmentCaId, issuanceProfileId ?? undefined);
    return withKey({ oids }, announcedKey(enforcement, serverKeygen.defaultKey));
  }

  private async resolve(label: string | undefined): Promise<Target> {
    const id = label ?? this.options.defaultDmsId;
    if (id === undefined) throw notFound('ENROLL_LABEL_NOT_FOUND', 'no label given and no default DMS configured');
    const dms = await this.deps.storage.dms.get(id);
    if (dms) return { kind: 'dms', dms };
    const ca = await this.deps.ca.getCa(id);
    if (ca && !ca.internal) return { kind: 'ca', ca };
    throw notFound('ENROLL_LABEL_NOT_FOUND', `"${id}" names neither a DMS nor a CA`, { label: id });
  }

  /** Authentication, authorization and the device rules of a first enrollment. */
  private async planEnrollment(req: EnrollRequest, csr: CsrTemplate, operation: 'enroll' | 'serverkeygen'): Promise<Plan> {
    const target = await this.resolve(req.label);
    let dms: Dms;
    let caId: string;
    let actor: string;
    if (target.kind === 'ca') {
      // The seed's flow: only a DMS certificate authenticates a CA label; bootstrap certificates do not.
      const { leaf } = leafOf(this.deps, req.credentials, 'a DMS certificate as TLS client certificate');
      const owner = await this.deps.storage.dms.findByCertificateSerial(leaf.serialNumber);
      if (!owner) throw unauthenticated('ENROLL_DMS_CERTIFICATE_INVALID', 'a CA label needs a DMS certificate as client certificate');
      await authenticateDmsCertificate(this.deps, owner, leaf);
      if (!owner.authorizedCaIds.includes(target.ca.id)) {
        throw forbidden('ENROLL_CA_NOT_AUTHORIZED', `DMS "${owner.id}" is not authorized for CA "${target.ca.id}"`, { dmsId: owner.id, caId: target.ca.id });
      }
      dms = owner;
      caId = target.ca.id;
      actor = `dms:${owner.id}`;
    } else {
      dms = target.dms;
      caId = dms.settings.enrollment.enrollmentCaId;
      actor = await this.authenticate(dms, req.credentials, csr, operation);
      if (!dms.authorizedCaIds.includes(caId)) throw forbidden('ENROLL_CA_NOT_AUTHORIZED', `DMS "${dms.id}" is not authorized for CA "${caId}"`);
    }
    const e = dms.settings.enrollment;
    const named = namingValue(dms, csr);
    if (!named) throw invalid('ENROLL_DEVICE_ID_MISSING', `the CSR subject has no ${e.deviceIdSource} to name the device`);
    const { deviceId, slot } = deviceIdentityOf(named);
    checkSlotName(slot);
    checkDeviceId(deviceId);
    const device = await this.devices.find(deviceId);
    let replaces = false;
    if (!device) {
      if (e.registrationMode === 'PRE_REGISTRATION') {
        throw forbidden('ENROLL_DEVICE_NOT_REGISTERED', `device "${deviceId}" is not registered and DMS "${dms.id}" does not create devices`, { deviceId });
      }
    } else {
      if (device.dmsId !== null && device.dmsId !== dms.id) {
        throw forbidden('ENROLL_DEVICE_OWNED_BY_OTHER_DMS', `device "${deviceId}" belongs to another DMS`, { deviceId });
      }
      if (device.status === 'DECOMMISSIONED') throw conflict('DEVICE_DECOMMISSIONED', `device "${deviceId}" is decommissioned`, { deviceId });
      replaces = device.slots.some((s) => s.name === slot);
      if (replaces && !e.allowReplacement) {
        throw conflict('ENROLL_DEVICE_ALREADY_ENROLLED', `device "${deviceId}" already has an identity in slot "${slot}"; re-enroll instead`, { deviceId, slot });
      }
    }
    return { dms, caId, deviceId, slot, device, replaces, actor };
  }

  /** The DMS's authentication mode; returns the actor recorded in events. */
  private async authenticate(dms: Dms, credentials: EnrollmentCredentials, csr: CsrTemplate, operation: 'enroll' | 'serverkeygen'): Promise<string> {
    const e = dms.settings.enrollment;
    switch (e.authMode) {
      case 'DMS_CERTIFICATE': {
        const presented = credentials.clientCertificateChain?.[0];
        if (presented && this.deps.verifiedDmsCertificates?.holds(dms, presented)) return `dms:${dms.id}`;
        const { leaf } = leafOf(this.deps, credentials, 'the DMS certificate as TLS client certificate');
        await authenticateDmsCertificate(this.deps, dms, leaf);
        return `dms:${dms.id}`;
      }
      case 'CLIENT_CERTIFICATE': {
        const { chain } = leafOf(this.deps, credentials, 'a bootstrap certificate as TLS client certificate');
        const leaf = await authenticateClientCertificate(this.deps, e.clientCertificate.validationCaIds, e.clientCertificate.allowExpired, chain, e.clientCertificate.chainLevelValidation);
        return `certificate:${leaf.commonName ?? leaf.serialNumber}`;
      }
      case 'HTTP_BASIC':
        await authenticateBasic(this.deps, dms, credentials);
        return `dms:${dms.id}`;
      case 'EXTERNAL_WEBHOOK': {
        const named = namingValue(dms, csr);
        const facts = {
          dmsId: dms.id,
          ...(named ? deviceIdentityOf(named) : { deviceId: '', slot: '' }),
          operation,
          csr: toPem(csr.der, 'CERTIFICATE REQUEST'),
          clientCertificates: (credentials.clientCertificateChain ?? []).map((der) => toPem(der, 'CERTIFICATE')),
        };
        if (!(await this.deps.webhook.authorize(e.webhook!.url, e.webhook!.timeoutMs, facts))) throw webhookRefused(dms.id);
        return `dms:${dms.id}`;
      }
      case 'NO_AUTH':
        return `dms:${dms.id}`;
    }
  }

  /** `csrVerified`: the CSR's signature was checked here, so the CA service need not check it again. */
  private async issueAndBind(plan: Plan, csrDer: Uint8Array, kind?: 'RENEWED', csrVerified = false): Promise<EnrollResult> {
    const e = plan.dms.settings.enrollment;
    await this.gate.pass();
    const certificate = await this.deps.ca.issue({
      caId: plan.caId,
      csrDer,
      ...(csrVerified ? { csrSignatureVerified: true } : {}),
      ...(plan.dms.settings.issuanceProfileId ? { profileId: plan.dms.settings.issuanceProfileId } : {}),
      metadata: { 'lamassu.io/ra/attached-to': { dms_id: plan.dms.id, device_id: plan.deviceId, slot: plan.slot } },
      dms: { id: plan.dms.id, expiryDeltas: plan.dms.settings.expiryDeltas ?? null },
      actor: plan.actor,
    });
    let bound: Awaited<ReturnType<DeviceService['bindCertificate']>>;
    try {
      bound = await this.devices.bindCertificate({
        deviceId: plan.deviceId,
        slot: plan.slot,
        certificate,
        kind: kind ?? (plan.replaces ? 'RE-PROVISIONED' : 'PROVISIONED'),
        actor: plan.actor,
        // Only a device the checks did not find may be created (JITP); the others exist for good.
        ...(plan.device ? {} : { createIfMissing: { dmsId: plan.dms.id, tags: e.deviceProfile.tags, metadata: e.deviceProfile.metadata, icon: e.deviceProfile.icon ?? '', iconColor: e.deviceProfile.iconColor ?? '' } }),
      });
    } catch (err) {
      // The device changed between the checks and the binding (decommissioned, created by a racing JITP
      // enrollment): a certificate no slot holds must not stay valid.
      await this.deps.ca.revoke({ serialNumber: certificate.serialNumber, issuerCaId: plan.caId, reason: 'CessationOfOperation', actor: plan.actor });
      throw err;
    }
    // A replaced identity (new enrollment over an existing slot) is always superseded for good.
    if (!kind && bound.superseded) {
      const old = await this.deps.ca.getCertificate(bound.superseded.serialNumber, bound.superseded.issuerCaId);
      if (old && old.status !== 'REVOKED' && old.status !== 'EXPIRED') await this.revokeSuperseded(old, plan.actor);
    }
    await publishDmsEvents(this.deps, [
      dmsEvent(
        this.deps,
        kind ? DmsCloudEvent.reenroll : DmsCloudEvent.enroll,
        plan.dms.id,
        { dms_id: plan.dms.id, device_id: plan.deviceId, slot: plan.slot, ca_id: plan.caId, serial_number: certificate.serialNumber },
        plan.actor,
      ),
    ]);
    return { certificate, chain: await this.chainOf(plan.caId), deviceId: plan.deviceId, dmsId: plan.dms.id };
  }

  /** The issuing CA's chain for the result, read once a second instead of once per enrollment. */
  private async chainOf(caId: string): Promise<Uint8Array[]> {
    const now = this.deps.clock.now().getTime();
    const hit = this.chains.get(caId);
    if (hit && now >= hit.loadedAt && now - hit.loadedAt < CHAIN_TTL_MS) return hit.chain;
    const chain = await this.deps.ca.caChain(caId);
    this.chains.set(caId, { chain, loadedAt: now });
    return chain;
  }

  private async revokeSuperseded(old: Certificate, actor: string): Promise<void> {
    if (old.status === 'REVOKED' || old.status === 'EXPIRED') return;
    await this.deps.ca.revoke({ serialNumber: old.serialNumber, issuerCaId: old.issuerCaId ?? '', reason: 'Superseded', actor });
  }
}

const withKey = (attrs: CsrAttributes, key: KeySpec | undefined): CsrAttributes => (key ? { ...attrs, key } : attrs);

/** The CSR subject attribute that names the device (and its slot, `<slot>:<device id>`) for this DMS. */
function namingValue(dms: Dms, csr: CsrTemplate): string | undefined {
  return dms.settings.enrollment.deviceIdSource === 'serial_number' ? csr.subject.serial_number : csr.subject.common_name;
}

async function requireCsrSignature(deps: DmsServiceDeps, csr: ParsedCsr): Promise<void> {
  const ok = deps.csrVerifier ? await deps.csrVerifier.verify(csr.der) : await verifyCsrSignature(csr);
  if (!ok) throw invalid('CSR_INVALID_SIGNATURE', 'the CSR signature does not verify with its own key');
}

