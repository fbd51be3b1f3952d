import type { ExpiryDeltas } from '../../domain/ca/expiry-deltas.ts';
import type { CaQuery } from '../../domain/ca/ca-repository.ts';
import type { CertificateAuthority } from '../../domain/ca/ca.ts';
import type { CertificateQuery } from '../../domain/ca/certificate-repository.ts';
import type { Certificate } from '../../domain/ca/certificate.ts';
import type { IssuanceProfile } from '../../domain/ca/issuance-profile.ts';
import type { Page } from '../../domain/ca/page.ts';
import type { CaServiceDeps } from './ca-service-deps.ts';
import { createCa, type CreateCaInput } from './create-ca.ts';
import { createProfile, type CreateProfileInput } from './create-profile.ts';
import { deleteProfile } from './delete-profile.ts';
import { ensureInternalCa } from './ensure-internal-ca.ts';
import { generateCertificate, type GenerateCertificateInput, type GeneratedCertificate } from './generate-certificate.ts';
import { caChain, getCa, listCas } from './get-ca.ts';
import { getCertificate, listCertificates } from './get-certificate.ts';
import { getProfile, listProfiles } from './get-profile.ts';
import { getCaStats, getStats, type CaStats, type StatsFilters } from './get-stats.ts';
import { countExpiringPerWeek, type CountExpiringPerWeekInput, type ExpiringWeek } from './count-expiring-per-week.ts';
import { importCa, type ImportCaInput } from './import-ca.ts';
import { importCertificate, type ImportCertificateInput } from './import-certificate.ts';
import { IssuingCaCache } from './issuing-ca-cache.ts';
import { listEngines, type EngineDescription } from './list-engines.ts';
import { deleteCa, type DeleteCaInput, type DeleteCaResult } from './delete-ca.ts';
import { issuanceExpirationOf, updateIssuanceExpiration } from './issuance-expiration.ts';
import { updateCaProfile } from './update-ca-profile.ts';
import type { Validity } from '../../domain/ca/duration.ts';
import { signWithCa, verifyWithCa, type SignatureInput } from './ca-signature.ts';
import { updateCaMetadata, updateCertificateMetadata, type UpdateMetadataInput } from './update-metadata.ts';
import { reissueCa, type ReissueCaInput } from './reissue-ca.ts';
import { rotateInternalCa, type RotateInternalCaInput } from './rotate-internal-ca.ts';
import { signCertificate, type SignCertificateInput } from './sign-certificate.ts';
import { sweepStatuses, type SweepResult } from './sweep-statuses.ts';
import { replanDmsExpiry, updateExpiryDeltas, type UpdateExpiryDeltasInput } from './update-expiry-deltas.ts';
import { applyGlobalAboutToExpire, updateAboutToExpire, type UpdateAboutToExpireInput } from './update-about-to-expire.ts';
import { updateCaStatus, type UpdateCaStatusInput } from './update-ca-status.ts';
import { updateCertificateStatus, type UpdateCertificateStatusInput } from './update-certificate-status.ts';
import { updateProfile, type UpdateProfileInput } from './update-profile.ts';

/** The CA service's use-cases over one set of ports and one issuing-CA cache. */
export class CaService {
  readonly cache: IssuingCaCache;

  constructor(readonly deps: CaServiceDeps) {
    this.cache = new IssuingCaCache(deps);
  }

  createCa = (input: CreateCaInput): Promise<CertificateAuthority> => createCa(this.deps, this.cache, input);
  importCa = (input: ImportCaInput): Promise<CertificateAuthority> => importCa(this.deps, this.cache, input);
  /** The internal CA that issues DMS certificates now (created, or replaced when it can no longer issue). */
  ensureInternalCa = (): Promise<CertificateAuthority> => ensureInternalCa(this.deps, this.cache);
  rotateInternalCa = (input: RotateInternalCaInput): Promise<CertificateAuthority> => rotateInternalCa(this.deps, this.cache, input);
  /** A new certificate for the CA's key: same id, key and subject; the old one stays, linked (reissue-ca.ts). */
  reissueCa = (input: ReissueCaInput): Promise<CertificateAuthority> => reissueCa(this.deps, this.cache, input);
  getCa = (id: string): Promise<CertificateAuthority> => getCa(this.deps, id);
  listCas = (query: CaQuery): Promise<Page<CertificateAuthority>> => listCas(this.deps, query);
  caChain = (id: string): Promise<Uint8Array[]> => caChain(this.deps, id);
  updateCaStatus = (input: UpdateCaStatusInput): Promise<CertificateAuthority> => updateCaStatus(this.deps, this.cache, input);

  signCertificate = (input: SignCertificateInput): Promise<Certificate> => signCertificate(this.deps, this.cache, input);
  generateCertificate = (input: GenerateCertificateInput): Promise<GeneratedCertificate> => generateCertificate(this.deps, this.cache, input);
  importCertificate = (input: ImportCertificateInput): Promise<Certificate> => importCertificate(this.deps, input);
  getCertificate = (serial: string, issuerCaId?: string): Promise<Certificate> => getCertificate(this.deps, serial, issuerCaId);
  listCertificates = (query: CertificateQuery): Promise<Page<Certificate>> => listCertificates(this.deps, query);

  /** A CA's own certificate changes status through its CA, so that revocation cascades and caches drop it. */
  async updateCertificateStatus(input: UpdateCertificateStatusInput): Promise<Certificate> {
    const cert = await getCertificate(this.deps, input.serialNumber, input.issuerCaId);
    if (cert.caId !== null) {
      return (await this.updateCaStatus({ id: cert.caId, request: input.request, actor: input.actor })).certificate;
    }
    return updateCertificateStatus(this.deps, { ...input, serialNumber: cert.serialNumber, issuerCaId: cert.issuerCaId ?? undefined });
  }

  createProfile = (input: CreateProfileInput): Promise<IssuanceProfile> => createProfile(this.deps, input);
  async updateProfile(input: UpdateProfileInput): Promise<IssuanceProfile> {
    const profile = await updateProfile(this.deps, input);
    this.cache.forgetProfile(profile.id);
    return profile;
  }
  async deleteProfile(input: { id: string; actor: string }): Promise<void> {
    await deleteProfile(this.deps, input);
    this.cache.forgetProfile(input.id);
  }
  getProfile = (id: string): Promise<IssuanceProfile> => getProfile(this.deps, id);
  listProfiles = (): Promise<IssuanceProfile[]> => listProfiles(this.deps);

  getStats = (filters?: StatsFilters): Promise<CaStats> => getStats(this.deps, filters);
  /** One CA's stats: the CA and those below it; the certificates it issued. */
  getCaStats = (caId: string, filters?: StatsFilters): Promise<CaStats> => getCaStats(this.deps, caId, filters);
  /** Certificates expiring per calendar week (UTC), from the current week on. */
  countExpiringPerWeek = (input: CountExpiringPerWeekInput): Promise<ExpiringWeek[]> => countExpiringPerWeek(this.deps, input);
  /** Lamassu's CA deletion: EXPIRED/REVOKED (or imported without key) CAs without subordinates. */
  deleteCa = (input: DeleteCaInput): Promise<DeleteCaResult> => deleteCa(this.deps, this.cache, input);
  /** Lamassu's per-CA issuance expiration, kept as the validity of the CA's own default profile. */
  updateIssuanceExpiration = (input: { id: string; validity: Validity; actor: string }): Promise<CertificateAuthority> =>
    updateIssuanceExpiration(this.deps, this.cache, input);
  issuanceExpirationOf = (ca: CertificateAuthority): Promise<Validity> => issuanceExpirationOf(this.deps, ca);
  updateCaProfile = (input: { id: string; profileId: string; actor: string }): Promise<CertificateAuthority> => updateCaProfile(this.deps, this.cache, input);
  /** Lamassu's raw signature with a CA key, and its verification with the CA certificate. */
  signWithCa = (input: SignatureInput & { actor: string }): Promise<Uint8Array> => signWithCa(this.deps, input);
  verifyWithCa = (input: SignatureInput & { signature: Uint8Array }): Promise<boolean> => verifyWithCa(this.deps, input);
  updateCaMetadata = (input: UpdateMetadataInput & { id: string }): Promise<CertificateAuthority> => updateCaMetadata(this.deps, input);
  updateCertificateMetadata = (input: UpdateMetadataInput & { serialNumber: string; issuerCaId?: string }): Promise<Certificate> =>
    updateCertificateMetadata(this.deps, input);
  /** The key engines CAs and certificates can live in (Lamassu's GET /engines). */
  listEngines = (): EngineDescription[] => listEngines(this.deps.keyEngines);

  /** Time-driven statuses (ACTIVE -> ABOUT_TO_EXPIRE -> EXPIRED), one event per change; see sweep-statuses.ts. */
  sweepStatuses = (opts?: { batchSize?: number }): Promise<SweepResult> => sweepStatuses(this.deps, this.cache, opts);
  updateAboutToExpire = (input: UpdateAboutToExpireInput): Promise<CertificateAuthority> => updateAboutToExpire(this.deps, this.cache, input);
  applyGlobalAboutToExpire = (): Promise<number> => applyGlobalAboutToExpire(this.deps);
  /** Expiration deltas (certificate.expiring): a CA's, and a DMS's re-plan; see update-expiry-deltas.ts. */
  updateExpiryDeltas = (input: UpdateExpiryDeltasInput): Promise<CertificateAuthority> => updateExpiryDeltas(this.deps, this.cache, input);
  replanDmsExpiry = (dmsId: string, deltas: ExpiryDeltas | null): Promise<number> => replanDmsExpiry(this.deps, dmsId, deltas);
}
