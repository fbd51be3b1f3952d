import type { CertificateAuthority } from '../../domain/ca/ca.ts';
import type { IssuanceProfile, IssuanceSettings } from '../../domain/ca/issuance-profile.ts';
import { conflict, notFound } from '../../domain/errors.ts';
import { createCertificateTemplate, type CertificateTemplate } from '../../x509/certificate-template.ts';
import { parseCertificate } from '../../x509/certificate.ts';
import type { KeyUsage } from '../../x509/extensions.ts';
import type { X509Signer } from '../../x509/signer.ts';
import { caUrls } from './ca-urls.ts';
import { CertificateBatchWriter } from './certificate-batch-writer.ts';
import type { CaServiceDeps } from './ca-service-deps.ts';
import { engineSigner } from './engine-signer.ts';
import { toX509Eku, toX509KeyUsage } from './usage-names.ts';

/** A certificate that may sign certificates must say so in its key usage (RFC 5280 4.2.1.9). */
export function withCaUsage(usages: KeyUsage[], signAsCa: boolean): KeyUsage[] {
  return signAsCa && !usages.includes('keyCertSign') ? [...usages, 'keyCertSign'] : usages;
}

/** A CA ready to sign: what issuance needs from it, decoded once. */
export interface IssuingCa {
  ca: CertificateAuthority;
  /** The CA certificate's subject Name DER: the issuer of what it signs. */
  subjectName: Uint8Array;
  subjectKeyId: Uint8Array;
  /** Undefined for a CA imported without its key. */
  signer?: X509Signer;
  loadedAt: number;
  templates: Map<string, CertificateTemplate>;
}

/**
 * Per-CA state for the issuance hot path: the decoded CA certificate, the signer and one template per
 * profile, so that a request costs no database read for the CA and no re-encoding of constant parts.
 * Entries are trusted for `settings.caCacheTtlMs` (changes made by other replicas, such as a revocation,
 * show after at most that long); changes made here invalidate at once.
 */
export class IssuingCaCache {
  private readonly entries = new Map<string, Promise<IssuingCa>>();
  private readonly profiles = new Map<string, { profile: IssuanceProfile; loadedAt: number }>();

  /** Issued certificates go through one group-commit writer per service. */
  readonly writer: CertificateBatchWriter;

  constructor(private readonly deps: CaServiceDeps) {
    this.writer = new CertificateBatchWriter(() => deps.issuedCertificates ?? deps.storage.certificates);
  }

  async get(caId: string): Promise<IssuingCa> {
    const now = this.deps.clock.now().getTime();
    let entry = this.entries.get(caId);
    if (entry) {
      const loaded = await entry.catch(() => undefined);
      if (loaded && now - loaded.loadedAt < this.deps.settings.caCacheTtlMs) return loaded;
      if (this.entries.get(caId) === entry) this.entries.delete(caId);
    }
    entry = this.entries.get(caId);
    if (!entry) {
      entry = this.load(caId, now);
      this.entries.set(caId, entry);
      // A failed load (unknown CA) must not stick.
      entry.catch(() => this.entries.delete(caId));
    }
    return entry;
  }

  now(): Date {
    return this.deps.clock.now();
  }

  /** Forget one CA (after a status change here), or all of them. */
  invalidate(caIds?: readonly string[]): void {
    if (!caIds) this.entries.clear();
    else for (const id of caIds) this.entries.delete(id);
  }

  /** A profile by id, cached like CAs. */
  async profile(id: string): Promise<IssuanceProfile> {
    const now = this.deps.clock.now().getTime();
    const hit = this.profiles.get(id);
    if (hit && now - hit.loadedAt < this.deps.settings.caCacheTtlMs) return hit.profile;
    const profile = await this.deps.storage.issuanceProfiles.get(id);
    if (!profile) throw notFound('PROFILE_NOT_FOUND', `no issuance profile "${id}"`, { id });
    this.profiles.set(id, { profile, loadedAt: now });
    return profile;
  }

  forgetProfile(id: string): void {
    this.profiles.delete(id);
  }

  /** The template for `settings` under `key` (profile id and version); inline profiles pass no key. */
  template(issuing: IssuingCa, settings: IssuanceSettings, key?: string): CertificateTemplate {
    const cached = key === undefined ? undefined : issuing.templates.get(key);
    if (cached) return cached;
    if (!issuing.signer) throw conflict('CA_CANNOT_SIGN', `CA "${issuing.ca.id}" has no private key`, { id: issuing.ca.id });
    const urls = caUrls(this.deps.settings.vaBaseUrls, issuing.ca.id);
    const template = createCertificateTemplate({
      issuerName: issuing.subjectName,
      issuerKeyIdentifier: issuing.subjectKeyId,
      signatureAlgorithm: issuing.signer.algorithm,
      ...(settings.signAsCa ? { basicConstraints: { ca: true, ...(settings.pathLength === undefined ? {} : { pathLen: settings.pathLength }) } } : {}),
      keyUsage: withCaUsage(settings.keyUsage.map(toX509KeyUsage), settings.signAsCa),
      extendedKeyUsage: settings.extendedKeyUsages.map(toX509Eku),
      crlDistributionPoints: urls.crlDistributionPoints,
      ocspUrls: urls.ocspUrls,
      caIssuersUrls: urls.caIssuersUrls,
    });
    if (key !== undefined) issuing.templates.set(key, template);
    return template;
  }

  private async load(caId: string, now: number): Promise<IssuingCa> {
    const ca = await this.deps.storage.cas.get(caId);
    if (!ca) throw notFound('CA_NOT_FOUND', `no CA "${caId}"`, { id: caId });
    const parsed = parseCertificate(ca.certificate.der);
    // A CA whose engine is no longer configured is kept readable; it just cannot sign.
    const engine = ca.engineId === null ? undefined : this.deps.keyEngines.list().find((e) => e.id === ca.engineId);
    return {
      ca,
      subjectName: parsed.subjectName,
      subjectKeyId: parsed.subjectKeyIdentifier ?? Buffer.from(ca.certificate.subjectKeyId, 'hex'),
      signer:
        engine && ca.keyId !== null ? engineSigner(engine, ca.keyId, ca.certificate.keyType, ca.certificate.keyBits) : undefined,
      loadedAt: now,
      templates: new Map(),
    };
  }
}
