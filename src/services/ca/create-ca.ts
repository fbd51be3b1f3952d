import { checkExpiryDeltas, hasDeltas, type ExpiryDeltas } from '../../domain/ca/expiry-deltas.ts';
import type { CaRecord, CertificateAuthority } from '../../domain/ca/ca.ts';
import { checkCaIdNotRetired } from './delete-ca.ts';
import { statusAt } from '../../domain/ca/certificate-status.ts';
import type { Certificate } from '../../domain/ca/certificate.ts';
import { validityEnd, wholeSeconds, type Validity } from '../../domain/ca/duration.ts';
import { checkIssuanceSettings, checkKeyAllowed, type IssuanceSettings } from '../../domain/ca/issuance-profile.ts';
import type { Subject } from '../../domain/ca/subject.ts';
import { conflict, invalid, isDomainError, notFound } from '../../domain/errors.ts';
import { idPattern } from '../../domain/id-limit.ts';
import type { KeyEngine, KeyInfo, KeySpec } from '../../domain/ports/key-engine.ts';
import { assembleCertificate, createCertificateTemplate } from '../../x509/certificate-template.ts';
import { buildName } from '../../x509/name.ts';
import { parsePublicKey, subjectKeyIdentifier } from '../../x509/public-key.ts';
import type { X509Signer } from '../../x509/signer.ts';
import { CaEventType } from './ca-events.ts';
import { storeNewCa } from './store-new-ca.ts';
import type { CaServiceDeps } from './ca-service-deps.ts';
import { caUrls } from './ca-urls.ts';
import { engineSigner, resolveEngine } from './engine-signer.ts';
import { issuingCa } from './issue-certificate.ts';
import type { IssuingCaCache } from './issuing-ca-cache.ts';
import { newSerialNumber } from './serial-number.ts';

export interface CreateCaInput {
  id?: string;
  /** Absent for a root (self-signed). */
  parentId?: string;
  subject: Subject;
  /** A new key of this spec; with `keyId`, only checked against the existing key. */
  keySpec?: KeySpec;
  /** An existing key (a KMS key) instead of a new one: in `engineId`'s engine, or found in any engine. */
  keyId?: string;
  /** Absent: the validity of `ownProfile` (one of the two is required). */
  validity?: Validity;
  engineId?: string;
  /**
   * Lamassu's ca_issuance_profile_id / ca_issuance_profile: the profile for the CA's own certificate. Its
   * crypto enforcement must accept the CA's key (400 CA_KEY_NOT_ALLOWED) and, without `validity`, its
   * validity is the certificate's.
   */
  ownProfile?: { profileId: string } | { inline: IssuanceSettings };
  /** Default issuance profile for what this CA signs; must exist. */
  profileId?: string;
  /** Overrides the global about-to-expire threshold for this CA's certificates. */
  aboutToExpireMs?: number;
  /** Expiration deltas for its own certificate and those it issues (certificate.expiring). */
  expiryDeltas?: ExpiryDeltas | null;
  metadata?: Record<string, unknown>;
  /** Lamassu's own CAs (LAMASSU-DMS-MANAGER). */
  internal?: boolean;
  actor: string;
}

/** CA certificates: critical CA:TRUE, keyCertSign + cRLSign, and digitalSignature for OCSP/CRL signing. */
const CA_KEY_USAGE = ['digitalSignature', 'keyCertSign', 'cRLSign'] as const;
const CA_ID = idPattern();

/** CA ids go into URLs (CRL, caIssuers) and paths; CA_ID_INVALID for anything else. */
export function checkCaId(id: string): string {
  if (!CA_ID.test(id)) throw invalid('CA_ID_INVALID', 'CA id must be 1-128 characters of A-Z a-z 0-9 . _ - (not starting with . _ -)');
  return id;
}

/**
 * Creates a root or a subordinate CA at any depth: a new key in an engine, its certificate self-signed or
 * signed by the parent (never outliving it), both rows committed together, then `ca.create`.
 * If anything fails after the key was created, the key is deleted again.
 */
export async function createCa(deps: CaServiceDeps, cache: IssuingCaCache, input: CreateCaInput): Promise<CertificateAuthority> {
  const id = checkCaId(input.id ?? deps.random.uuid());
  if (!input.subject.common_name) throw invalid('SUBJECT_INVALID', 'subject.common_name is required');
  const subjectName = buildName(input.subject);
  const expiryDeltas = hasDeltas(input.expiryDeltas) ? input.expiryDeltas : null;
  if (expiryDeltas) checkExpiryDeltas(expiryDeltas);
  if (input.keyId === undefined && input.keySpec === undefined) throw invalid('KEY_METADATA_INVALID', 'a key spec or an existing key id is required');
  const existing = input.keyId === undefined ? undefined : await existingKey(deps, input.keyId, input.engineId, input.keySpec);
  const engine = existing?.engine ?? resolveEngine(deps, input.engineId);
  if (await deps.storage.cas.get(id)) throw conflict('CA_EXISTS', `a CA with id "${id}" already exists`, { id });
  await checkCaIdNotRetired(deps, id);
  // EST labels name a DMS or a CA: the two id spaces never meet (the DMS manager checks the other way).
  if (await deps.storage.dms.get(id)) throw conflict('CA_EXISTS', `"${id}" is already the id of a DMS`, { id });
  if (input.profileId !== undefined) await cache.profile(input.profileId);
  const own = input.ownProfile === undefined ? undefined : 'profileId' in input.ownProfile ? await cache.profile(input.ownProfile.profileId) : input.ownProfile.inline;
  if (own && 'inline' in input.ownProfile!) checkIssuanceSettings(own);
  const validity = input.validity ?? own?.validity;
  if (!validity) throw invalid('VALIDITY_INVALID', 'ca_expiration is required (or a CA issuance profile whose validity the CA certificate takes)');
  if (own) {
    const keyType = existing?.key.type ?? input.keySpec!.type;
    const keyBits = existing?.key.bits ?? input.keySpec!.bits;
    try {
      checkKeyAllowed(own.cryptoEnforcement, keyType, keyBits);
    } catch (err) {
      if (isDomainError(err)) throw invalid('CA_KEY_NOT_ALLOWED', `the CA issuance profile does not accept the CA's key: ${err.message}`, { type: keyType, bits: keyBits });
      throw err;
    }
  }
  // An internal CA signs DMS certificates only: no CA of anyone's below it (403 CA_INTERNAL).
  const parent = input.parentId === undefined ? undefined : await issuingCa(cache, input.parentId);

  const now = deps.clock.now();
  const notBefore = wholeSeconds(now);
  let notAfter = validityEnd(validity, notBefore);
  if (parent && notAfter > parent.ca.certificate.notAfter) notAfter = parent.ca.certificate.notAfter;

  const key = existing?.key ?? (await engine.createKey({ spec: input.keySpec!, label: `ca-${id}` }));
  try {
    const ownSigner = engineSigner(engine, key.id, key.type, key.bits);
    const built = await buildCaCertificate(deps, {
      id,
      key,
      subjectName,
      subject: input.subject,
      notBefore,
      notAfter,
      issuer: parent
        ? { id: parent.ca.id, name: parent.subjectName, keyId: parent.subjectKeyId, signer: parent.signer!, subject: parent.ca.certificate.details.subject }
        : undefined,
      ownSigner,
      aboutToExpireMs: input.aboutToExpireMs ?? deps.settings.aboutToExpireMs,
      engineId: engine.id,
    });
    // The CA's own certificate follows the CA's deltas.
    const cert = expiryDeltas ? { ...built, expiry: { source: 'ca' as const, deltas: expiryDeltas, stage: 'none' as const, profileId: null, dmsId: null } } : built;
    const record: CaRecord = {
      id,
      certificateId: cert.id,
      parentId: parent?.ca.id ?? null,
      level: parent ? parent.ca.level + 1 : 0,
      type: 'MANAGED',
      engineId: engine.id,
      keyId: key.id,
      internal: input.internal ?? false,
      profileId: input.profileId ?? null,
      aboutToExpireMs: input.aboutToExpireMs ?? null,
      expiryDeltas,
      metadata: input.metadata ?? {},
      createdAt: now,
    };
    return await storeNewCa(deps, cert, record, CaEventType.caCreate, input.actor);
  } catch (err) {
    // A key that was there before (a KMS key) is not ours to delete.
    if (existing) throw err;
    await engine.deleteKey(key.id).catch((e: unknown) => deps.logger.warn({ err: e, engineId: engine.id, keyId: key.id }, 'could not delete the key of a CA that was not created'));
    throw err;
  }
}

/**
 * An existing key for a new CA: in the named engine, or the first engine that holds it. 404 KEY_NOT_FOUND
 * when none does; 400 KEY_METADATA_INVALID when a spec was given too and the key is not of it.
 */
async function existingKey(deps: CaServiceDeps, keyId: string, engineId: string | undefined, spec: KeySpec | undefined): Promise<{ engine: KeyEngine; key: KeyInfo }> {
  const engines = engineId === undefined ? deps.keyEngines.list() : [resolveEngine(deps, engineId)];
  let found: { engine: KeyEngine; key: KeyInfo } | undefined;
  for (const engine of engines) {
    try {
      found = { engine, key: await engine.getKey(keyId) };
      break;
    } catch (err) {
      if (!(isDomainError(err) && err.code === 'KEY_NOT_FOUND')) throw err;
    }
  }
  if (!found) throw notFound('KEY_NOT_FOUND', `no key ${String(keyId).slice(0, 80)} in ${engineId === undefined ? 'any key engine' : `key engine ${engineId}`}`, { keyId: String(keyId).slice(0, 80) });
  if (spec && (spec.type !== found.key.type || spec.bits !== found.key.bits)) {
    throw invalid('KEY_METADATA_INVALID', `key ${keyId} is ${found.key.type} ${found.key.bits}, not ${spec.type} ${spec.bits}`);
  }
  return found;
}

export interface CaCertificateInput {
  id: string;
  key: KeyInfo;
  subjectName: Uint8Array;
  subject: Subject;
  notBefore: Date;
  notAfter: Date;
  /** The parent; absent for a self-signed root. */
  issuer?: { id: string; name: Uint8Array; keyId: Uint8Array; signer: X509Signer; subject: Subject };
  ownSigner: X509Signer;
  aboutToExpireMs: number;
  engineId: string;
}

export async function buildCaCertificate(deps: CaServiceDeps, i: CaCertificateInput): Promise<Certificate> {
  const publicKey = parsePublicKey(i.key.publicKeySpki);
  const ski = subjectKeyIdentifier(publicKey);
  const signer = i.issuer?.signer ?? i.ownSigner;
  // A root has nowhere to point relying parties; a subordinate points at its parent's CRL and OCSP.
  const urls = i.issuer ? caUrls(deps.settings.vaBaseUrls, i.issuer.id) : undefined;
  const template = createCertificateTemplate({
    issuerName: i.issuer?.name ?? i.subjectName,
    issuerKeyIdentifier: i.issuer?.keyId ?? ski,
    signatureAlgorithm: signer.algorithm,
    basicConstraints: { ca: true },
    keyUsage: CA_KEY_USAGE,
    ...(urls ? { crlDistributionPoints: urls.crlDistributionPoints, ocspUrls: urls.ocspUrls, caIssuersUrls: urls.caIssuersUrls } : {}),
  });
  const serial = newSerialNumber(deps.random);
  const tbs = template.tbs({
    serialNumber: serial.bytes,
    notBefore: i.notBefore,
    notAfter: i.notAfter,
    subjectName: i.subjectName,
    spki: i.key.publicKeySpki,
    subjectKeyIdentifier: ski,
  });
  const der = assembleCertificate(tbs, signer.algorithm, await signer.sign(tbs));
  const now = deps.clock.now();
  const aboutToExpireAt = new Date(i.notAfter.getTime() - i.aboutToExpireMs);
  return {
    id: deps.random.uuid(),
    serialNumber: serial.hex,
    issuerCaId: i.issuer?.id ?? i.id,
    caId: i.id,
    status: statusAt(now, i.notAfter, aboutToExpireAt),
    notBefore: i.notBefore,
    notAfter: i.notAfter,
    aboutToExpireAt,
    revokedAt: null,
    revocationReason: null,
    subjectCommonName: i.subject.common_name ?? '',
    subjectKeyId: Buffer.from(ski).toString('hex'),
    authorityKeyId: Buffer.from(i.issuer?.keyId ?? ski).toString('hex'),
    keyType: i.key.type,
    keyBits: i.key.bits,
    isCa: true,
    type: 'MANAGED',
    engineId: i.engineId,
    createdAt: now,
    der,
    details: {
      subject: i.subject,
      issuer: i.issuer?.subject ?? i.subject,
      keyUsage: ['DigitalSignature', 'CertSign', 'CRLSign'],
      extendedKeyUsage: [],
      metadata: {},
    },
  };
}
