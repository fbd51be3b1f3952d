/**
 * The DMS manager's administration use-cases: DMS CRUD, authorized CAs, and the DMS's own certificate
 * (issued by LAMASSU-DMS-MANAGER from the DMS's CSR or from a key generated here and returned once).
 */
import { sameDeltas } from '../../domain/ca/expiry-deltas.ts';
import { applyMetadataChange, type MetadataChange } from '../../domain/metadata-patch.ts';
import type { Certificate } from '../../domain/ca/certificate.ts';
import type { Page } from '../../domain/ca/page.ts';
import { REVOCATION_REASON_NAMES, type RevocationReason } from '../../domain/ca/revocation-reason.ts';
import { checkDmsId, checkDmsSettings, checkKeySpec, referencedCaIds } from '../../domain/dms/dms-rules.ts';
import type { DmsQuery } from '../../domain/dms/dms-repository.ts';
import type { Dms, DmsSettings, EnrollmentSettings } from '../../domain/dms/dms.ts';
import { conflict, invalid, isDomainError, notFound } from '../../domain/errors.ts';
import type { KeySpec } from '../../domain/ports/key-engine.ts';
import { buildName } from '../../x509/name.ts';
import { announceDmsEvents, DmsCloudEvent, dmsEvent, publishDmsEvents, type DmsServiceDeps } from './dms-service-deps.ts';

/** HTTP Basic credentials as the API receives them; a missing password on update keeps the stored one. */
export interface HttpBasicInput {
  username: string;
  password?: string;
}

export type EnrollmentSettingsInput = Omit<EnrollmentSettings, 'httpBasic'> & { httpBasic: HttpBasicInput | null };

export type DmsSettingsInput = Omit<DmsSettings, 'enrollment'> & { enrollment: EnrollmentSettingsInput };

export interface DmsInput {
  id: string;
  name: string;
  metadata?: Record<string, unknown>;
  /**
   * Absent (Lamassu's body has no such field): on create, the enrollment CA alone; on update, the CAs
   * authorized so far plus the enrollment CA.
   */
  authorizedCaIds?: string[];
  settings: DmsSettingsInput;
}

/** The authorized CAs a DMS gets: as given, or (not given) `kept` plus the enrollment CA. */
const authorizedCasOf = (input: Omit<DmsInput, 'id'>, kept: string[]): string[] => {
  if (input.authorizedCaIds) return input.authorizedCaIds;
  const enrollmentCa = input.settings.enrollment.enrollmentCaId;
  return kept.includes(enrollmentCa) ? kept : [...kept, enrollmentCa];
};

export type DmsCertificateRequest = { csrDer: Uint8Array } | { keySpec: KeySpec };

export interface DmsCertificateResult {
  dms: Dms;
  certificate: Certificate;
  /** The issuing CA's chain, DER, issuer first. */
  chain: Uint8Array[];
  /** Only when the server generated the key: PKCS#8 DER, shown this once and never stored. */
  privateKeyPkcs8?: Uint8Array;
}

/** What events say about a DMS: never the password hash. */
export const dmsEventData = (d: Dms) => ({
  id: d.id,
  name: d.name,
  authorized_cas: d.authorizedCaIds,
  enrollment_ca: d.settings.enrollment.enrollmentCaId,
  registration_mode: d.settings.enrollment.registrationMode,
  auth_mode: d.settings.enrollment.authMode,
  certificate_serial: d.certificate?.serialNumber ?? null,
});

export class DmsService {
  constructor(private readonly deps: DmsServiceDeps) {}

  async create(input: DmsInput, actor: string): Promise<Dms> {
    checkDmsId(input.id);
    // EST labels name either a DMS or a CA: the two id spaces must never meet.
    if (await this.deps.ca.getCa(input.id)) throw conflict('DMS_EXISTS', `"${input.id}" is already the id of a CA`, { id: input.id });
    const authorizedCaIds = authorizedCasOf(input, []);
    const settings = await this.resolveSettings(input, authorizedCaIds, undefined);
    const now = this.deps.clock.now();
    const dms: Dms = {
      id: input.id,
      name: checkName(input.name),
      metadata: input.metadata ?? {},
      authorizedCaIds,
      settings,
      certificate: null,
      createdAt: now,
      updatedAt: now,
    };
    const events = [dmsEvent(this.deps, DmsCloudEvent.create, dms.id, dmsEventData(dms), actor)];
    await this.deps.storage.transaction(async (tx) => {
      await tx.dms.insert(dms);
      await tx.outbox.append(events);
    });
    await announceDmsEvents(this.deps, events);
    return dms;
  }

  async get(id: string): Promise<Dms> {
    const dms = await this.deps.storage.dms.get(id);
    if (!dms) throw notFound('DMS_NOT_FOUND', `no DMS with id "${id}"`, { id });
    return dms;
  }

  list(query: DmsQuery = {}): Promise<Page<Dms>> {
    return this.deps.storage.dms.list(query);
  }

  async stats(filters?: DmsQuery['filters']): Promise<{ total: number }> {
    return { total: await this.deps.storage.dms.count(filters) };
  }

  /** Replaces name, metadata, authorized CAs and settings; the id and the DMS certificate stay. */
  async update(id: string, input: Omit<DmsInput, 'id'>, actor: string): Promise<Dms> {
    const current = await this.get(id);
    const authorizedCaIds = authorizedCasOf(input, current.authorizedCaIds);
    const settings = await this.resolveSettings(input, authorizedCaIds, current);
    const updated: Dms = {
      ...current,
      name: checkName(input.name),
      metadata: input.metadata ?? current.metadata,
      authorizedCaIds,
      settings,
      updatedAt: this.deps.clock.now(),
    };
    return this.save(current, updated, DmsCloudEvent.update, actor);
  }

  /** `merge` false replaces the metadata (PUT), true merges the given keys into it (PATCH; null deletes a key). */
  updateMetadata(id: string, metadata: Record<string, unknown>, merge: boolean, actor: string): Promise<Dms> {
    return this.changeMetadata(id, merge ? { merge: metadata } : { replace: metadata }, actor);
  }

  /** Replace, merge or JSON-patch (Lamassu) the metadata; limited in size and depth. */
  async changeMetadata(id: string, change: MetadataChange, actor: string): Promise<Dms> {
    const current = await this.get(id);
    const next = applyMetadataChange(current.metadata, change);
    return this.save(current, { ...current, metadata: next, updatedAt: this.deps.clock.now() }, DmsCloudEvent.metadataUpdate, actor);
  }

  async delete(id: string, actor: string): Promise<void> {
    const current = await this.get(id);
    if (current.certificate) await this.revokeIfUsable(current.certificate, 'CessationOfOperation', actor);
    this.deps.verifiedDmsCertificates?.forget();
    const events = [dmsEvent(this.deps, DmsCloudEvent.delete, id, dmsEventData(current), actor)];
    await this.deps.storage.transaction(async (tx) => {
      if (!(await tx.dms.delete(id))) throw notFound('DMS_NOT_FOUND', `no DMS with id "${id}"`, { id });
      await tx.outbox.append(events);
    });
    await announceDmsEvents(this.deps, events);
  }

  async addAuthorizedCa(id: string, caId: string, actor: string): Promise<Dms> {
    const current = await this.get(id);
    if (current.authorizedCaIds.includes(caId)) return current;
    await this.checkCas([caId]);
    return this.save(current, { ...current, authorizedCaIds: [...current.authorizedCaIds, caId], updatedAt: this.deps.clock.now() }, DmsCloudEvent.update, actor);
  }

  async removeAuthorizedCa(id: string, caId: string, actor: string): Promise<Dms> {
    const current = await this.get(id);
    if (!current.authorizedCaIds.includes(caId)) throw notFound('DMS_CA_NOT_AUTHORIZED', `CA "${caId}" is not authorized for DMS "${id}"`, { id, caId });
    if (current.settings.enrollment.enrollmentCaId === caId) {
      throw conflict('DMS_ENROLLMENT_CA_REMOVAL', `CA "${caId}" is the enrollment CA of DMS "${id}"; choose another enrollment CA first`, { id, caId });
    }
    const authorizedCaIds = current.authorizedCaIds.filter((c) => c !== caId);
    return this.save(current, { ...current, authorizedCaIds, updatedAt: this.deps.clock.now() }, DmsCloudEvent.update, actor);
  }

  /**
   * Issues the DMS certificate with LAMASSU-DMS-MANAGER. A previous certificate that is still usable is
   * revoked (Superseded) once the new one is stored: a DMS has exactly one valid certificate.
   */
  async issueCertificate(id: string, request: DmsCertificateRequest, actor: string): Promise<DmsCertificateResult> {
    const current = await this.get(id);
    const dmsCa = await this.deps.ca.dmsManagerCa();
    let csrDer: Uint8Array;
    let privateKeyPkcs8: Uint8Array | undefined;
    if ('csrDer' in request) csrDer = request.csrDer;
    else {
      checkKeySpec(request.keySpec);
      const generated = await this.deps.keyGenerator.generate(request.keySpec, buildName({ common_name: id }));
      csrDer = generated.csrDer;
      privateKeyPkcs8 = generated.pkcs8;
    }
    const certificate = await this.deps.ca.issue({ caId: dmsCa.id, csrDer, metadata: { 'lamassu.io/ra/dms': id }, actor });
    const updated: Dms = {
      ...current,
      certificate: { serialNumber: certificate.serialNumber, issuerCaId: dmsCa.id },
      updatedAt: this.deps.clock.now(),
    };
    const events = [
      dmsEvent(this.deps, DmsCloudEvent.certificateIssue, id, { id, serial_number: certificate.serialNumber, server_generated_key: !!privateKeyPkcs8 }, actor),
    ];
    await this.deps.storage.transaction(async (tx) => {
      if (!(await tx.dms.update(updated))) throw notFound('DMS_NOT_FOUND', `no DMS with id "${id}"`, { id });
      await tx.outbox.append(events);
    });
    this.deps.verifiedDmsCertificates?.forget();
    if (current.certificate) await this.revokeIfUsable(current.certificate, 'Superseded', actor);
    await announceDmsEvents(this.deps, events);
    const chain = await this.deps.ca.caChain(dmsCa.id);
    return { dms: updated, certificate, chain, ...(privateKeyPkcs8 ? { privateKeyPkcs8 } : {}) };
  }

  /** Revokes the DMS certificate: from then on it can enroll nothing until a new one is issued. */
  async revokeCertificate(id: string, reason: string | undefined, actor: string): Promise<Certificate> {
    const current = await this.get(id);
    if (!current.certificate) throw notFound('DMS_CERTIFICATE_MISSING', `DMS "${id}" has no certificate`, { id });
    const why = (reason ?? 'Unspecified') as RevocationReason;
    if (!REVOCATION_REASON_NAMES.includes(why)) {
      throw invalid('REVOCATION_REASON_INVALID', `revocation_reason must be one of ${REVOCATION_REASON_NAMES.join(', ')}`);
    }
    const revoked = await this.deps.ca.revoke({ ...current.certificate, reason: why, actor });
    this.deps.verifiedDmsCertificates?.forget(revoked.serialNumber);
    await publishDmsEvents(this.deps, [
      dmsEvent(this.deps, DmsCloudEvent.certificateRevoke, id, { id, serial_number: revoked.serialNumber, reason: why }, actor),
    ]);
    return revoked;
  }

  /** The DMS certificate as the CA service holds it (status included), if there is one. */
  async certificateOf(id: string): Promise<Certificate | undefined> {
    const dms = await this.get(id);
    return dms.certificate ? this.deps.ca.getCertificate(dms.certificate.serialNumber, dms.certificate.issuerCaId) : undefined;
  }

  private async save(current: Dms, updated: Dms, type: string, actor: string): Promise<Dms> {
    checkDmsSettings(updated.settings, updated.authorizedCaIds);
    const events = [dmsEvent(this.deps, type, updated.id, { previous: dmsEventData(current), updated: dmsEventData(updated) }, actor)];
    await this.deps.storage.transaction(async (tx) => {
      if (!(await tx.dms.update(updated))) throw notFound('DMS_NOT_FOUND', `no DMS with id "${current.id}"`, { id: current.id });
      await tx.outbox.append(events);
    });
    // Its certificates follow the DMS's expiration deltas: the CA service re-plans them.
    if (!sameDeltas(current.settings.expiryDeltas, updated.settings.expiryDeltas)) {
      await this.deps.ca.replanDmsExpiry(updated.id, updated.settings.expiryDeltas ?? null);
    }
    await announceDmsEvents(this.deps, events);
    return updated;
  }

  /** Checks the settings, the CAs they name, and turns the Basic password into a hash. */
  private async resolveSettings(input: Omit<DmsInput, 'id'>, authorizedCaIds: string[], current: Dms | undefined): Promise<DmsSettings> {
    const { httpBasic, ...enrollment } = input.settings.enrollment;
    let basic: EnrollmentSettings['httpBasic'] = null;
    if (httpBasic) {
      const kept = current?.settings.enrollment.httpBasic;
      if (httpBasic.password !== undefined && httpBasic.password.length < 8) {
        throw invalid('DMS_SETTINGS_INVALID', 'the HTTP Basic password must have at least 8 characters');
      }
      const passwordHash = httpBasic.password !== undefined ? await this.deps.passwords.hash(httpBasic.password) : kept?.passwordHash;
      if (!passwordHash) throw invalid('DMS_SETTINGS_INVALID', 'auth mode HTTP_BASIC needs a password');
      basic = { username: httpBasic.username, passwordHash };
    }
    const settings: DmsSettings = { ...input.settings, enrollment: { ...enrollment, httpBasic: basic } };
    checkDmsSettings(settings, authorizedCaIds);
    await this.checkCas(referencedCaIds(authorizedCaIds, settings));
    const profileId = settings.issuanceProfileId;
    if (profileId !== null && !(await this.deps.ca.profileExists(profileId))) {
      throw invalid('DMS_PROFILE_UNKNOWN', `no issuance profile with id "${profileId}"`, { profileId });
    }
    return settings;
  }

  /** Every CA must exist; authorized CAs must not be internal (LAMASSU-DMS-MANAGER signs only DMSs). */
  private async checkCas(caIds: string[]): Promise<void> {
    for (const caId of caIds) {
      const ca = await this.deps.ca.getCa(caId);
      if (!ca) throw invalid('DMS_CA_UNKNOWN', `no CA with id "${caId}"`, { caId });
      if (ca.internal) throw invalid('DMS_INTERNAL_CA_REFUSED', `CA "${caId}" is internal to Lamassu and cannot be used by a DMS`, { caId });
    }
  }

  private async revokeIfUsable(ref: { serialNumber: string; issuerCaId: string }, reason: RevocationReason, actor: string): Promise<void> {
    try {
      await this.deps.ca.revoke({ ...ref, reason, actor });
    } catch (err) {
      // Already revoked or expired: nothing left to do.
      if (isDomainError(err) && (err.kind === 'conflict' || err.kind === 'not_found')) return;
      throw err;
    }
  }
}

function checkName(name: string): string {
  const n = name.trim();
  if (n === '' || n.length > 256) throw invalid('DMS_SETTINGS_INVALID', 'name must be 1-256 characters');
  return n;
}
