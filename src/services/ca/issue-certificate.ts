import { canSign } from '../../domain/ca/ca.ts';
import { statusAt } from '../../domain/ca/certificate-status.ts';
import type { Certificate } from '../../domain/ca/certificate.ts';
import { validityEnd, wholeSeconds } from '../../domain/ca/duration.ts';
import { checkKeyAllowed, type IssuanceSettings } from '../../domain/ca/issuance-profile.ts';
import { isPlanWorthKeeping, resolveExpiryDeltas, type ExpiryDeltas, type ExpiryPlan } from '../../domain/ca/expiry-deltas.ts';
import type { Subject } from '../../domain/ca/subject.ts';
import { conflict, DomainError, forbidden } from '../../domain/errors.ts';
import { assembleCertificate } from '../../x509/certificate-template.ts';
import type { KeyUsage } from '../../x509/extensions.ts';
import { buildName } from '../../x509/name.ts';
import { subjectKeyIdentifier, type PublicKeyInfo } from '../../x509/public-key.ts';
import { caEvent, CaEventType, certificateEventData, publishAfterCommit } from './ca-events.ts';
import type { CaServiceDeps } from './ca-service-deps.ts';
import { withCaUsage, type IssuingCa, type IssuingCaCache } from './issuing-ca-cache.ts';
import { newSerialNumber } from './serial-number.ts';
import { fromX509Eku, fromX509KeyUsage, toX509KeyUsage } from './usage-names.ts';

/** Where the issuance settings come from: a stored profile (cached by id and version) or inline ones. */
export type ProfileChoice = { profileId: string } | { inline: IssuanceSettings } | { caDefault: true };

/** What the requester asks for, from a CSR or from a server-generated key. */
export interface IssuanceRequest {
  caId: string;
  profile: ProfileChoice;
  /** Subject Name DER as requested (verbatim from a CSR) and its decoded fields. */
  subjectName: Uint8Array;
  subject: Subject;
  publicKey: PublicKeyInfo;
  /** GeneralNames DER the requester asked for. */
  subjectAltName?: Uint8Array;
  requestedKeyUsage?: KeyUsage[];
  requestedExtendedKeyUsage?: string[];
  /** Engine holding the subject's private key, when we generated it there. */
  engineId?: string | null;
  metadata?: Record<string, unknown>;
  /** Only Lamassu itself (DMS manager) may sign with internal CAs. */
  allowInternalCa?: boolean;
  /** The DMS that enrolls the certificate, with its expiration deltas (which outrank the profile's and the CA's). */
  dms?: { id: string; expiryDeltas: ExpiryDeltas | null };
  actor: string;
}

/** The expiration deltas a new certificate follows: the DMS's over the stored profile's over the CA's. */
function expiryPlanFor(req: IssuanceRequest, issuing: IssuingCa, settings: IssuanceSettings): ExpiryPlan {
  // Inline profiles are not stored, so nothing could re-plan by them: their deltas do not count.
  const profileId = 'profileId' in req.profile ? req.profile.profileId : 'caDefault' in req.profile ? issuing.ca.profileId : null;
  const { source, deltas } = resolveExpiryDeltas({
    dms: req.dms?.expiryDeltas ?? null,
    profile: profileId === null ? null : (settings.expirationDeltas ?? null),
    ca: issuing.ca.expiryDeltas ?? null,
  });
  return { source, deltas, stage: 'none', profileId, dmsId: req.dms?.id ?? null };
}

const MAX_SERIAL_ATTEMPTS = 3;

/** The issuing CA, checked: known, able to sign (also before the status sweep has seen it expire), not internal unless allowed. */
export async function issuingCa(cache: IssuingCaCache, caId: string, allowInternal = false): Promise<IssuingCa> {
  const issuing = await cache.get(caId);
  const { ca } = issuing;
  if (cache.now() > ca.certificate.notAfter) {
    throw conflict('CA_CANNOT_SIGN', `CA "${ca.id}" expired at ${ca.certificate.notAfter.toISOString()}`, { id: ca.id, status: 'EXPIRED' });
  }
  if (ca.internal && !allowInternal) {
    throw forbidden('CA_INTERNAL', `CA "${ca.id}" is internal to Lamassu and does not issue on request`, { id: ca.id });
  }
  if (!issuing.signer || !canSign(ca)) {
    throw conflict('CA_CANNOT_SIGN', `CA "${ca.id}" cannot sign (status ${ca.certificate.status}, ${ca.keyId ? 'key held' : 'no private key'})`, {
      id: ca.id,
      status: ca.certificate.status,
    });
  }
  return issuing;
}

export async function resolveSettings(
  deps: CaServiceDeps,
  cache: IssuingCaCache,
  issuing: IssuingCa,
  choice: ProfileChoice,
): Promise<{ settings: IssuanceSettings; key: string | undefined }> {
  if ('inline' in choice) return { settings: choice.inline, key: undefined };
  const id = 'profileId' in choice ? choice.profileId : issuing.ca.profileId;
  if (id === null) return { settings: deps.settings.defaultIssuance, key: 'default' };
  const profile = await cache.profile(id);
  return { settings: profile as IssuanceSettings, key: `${profile.id}@${profile.updatedAt.getTime()}` };
}

/**
 * Issues one certificate: policy, TBS from the CA's template, signature, then the row committed before the
 * certificate is returned. The serial is 128 CSPRNG bits; a clash with an existing serial of the same CA
 * (odds of 2^-128 per pair) is retried with a fresh one.
 */
export async function issueCertificate(
  deps: CaServiceDeps,
  cache: IssuingCaCache,
  req: IssuanceRequest,
  /** The CA and settings when the caller already resolved them (sign-certificate does, to judge the CSR). */
  resolved?: { issuing: IssuingCa; settings: IssuanceSettings; key: string | undefined },
): Promise<Certificate> {
  const issuing = resolved?.issuing ?? (await issuingCa(cache, req.caId, req.allowInternalCa));
  const { settings, key } = resolved ?? (await resolveSettings(deps, cache, issuing, req.profile));
  checkKeyAllowed(settings.cryptoEnforcement, req.publicKey.type, req.publicKey.bits);
  const template = cache.template(issuing, settings, key);

  const now = deps.clock.now();
  const notBefore = wholeSeconds(now);
  const caNotAfter = issuing.ca.certificate.notAfter;
  const wanted = validityEnd(settings.validity, notBefore);
  const notAfter = wanted < caNotAfter ? wanted : caNotAfter;

  let subjectName = req.subjectName;
  let subject = req.subject;
  if (!settings.honorSubject && settings.subject) {
    subject = { ...settings.subject, common_name: settings.subject.common_name || req.subject.common_name };
    subjectName = buildName(subject);
  }
  const keyUsage =
    settings.honorKeyUsage && req.requestedKeyUsage?.length ? withCaUsage(req.requestedKeyUsage, settings.signAsCa) : undefined;
  const eku = settings.honorExtendedKeyUsages && req.requestedExtendedKeyUsage?.length ? req.requestedExtendedKeyUsage : undefined;
  const ski = subjectKeyIdentifier(req.publicKey);
  const caConstraint = settings.signAsCa;
  const expiry = expiryPlanFor(req, issuing, settings);

  for (let attempt = 1; ; attempt++) {
    const serial = newSerialNumber(deps.random);
    const tbs = template.tbs({
      serialNumber: serial.bytes,
      notBefore,
      notAfter,
      subjectName,
      spki: req.publicKey.spki,
      subjectKeyIdentifier: ski,
      ...(settings.honorExtensions && req.subjectAltName ? { subjectAltName: req.subjectAltName } : {}),
      ...(keyUsage ? { keyUsage } : {}),
      ...(eku ? { extendedKeyUsage: eku } : {}),
    });
    const der = assembleCertificate(tbs, template.signatureAlgorithm, await issuing.signer!.sign(tbs));
    const aboutToExpireAt = new Date(notAfter.getTime() - (issuing.ca.aboutToExpireMs ?? deps.settings.aboutToExpireMs));
    const cert: Certificate = {
      id: deps.random.uuid(),
      serialNumber: serial.hex,
      issuerCaId: issuing.ca.id,
      caId: null,
      status: statusAt(now, notAfter, aboutToExpireAt),
      notBefore,
      notAfter,
      aboutToExpireAt,
      revokedAt: null,
      revocationReason: null,
      subjectCommonName: subject.common_name ?? '',
      subjectKeyId: Buffer.from(ski).toString('hex'),
      authorityKeyId: Buffer.from(issuing.subjectKeyId).toString('hex'),
      keyType: req.publicKey.type,
      keyBits: req.publicKey.bits,
      isCa: caConstraint,
      type: 'MANAGED',
      engineId: req.engineId ?? null,
      createdAt: now,
      // Read back, a certificate with nothing to plan by carries no plan: return it the same as stored.
      ...(isPlanWorthKeeping(expiry) ? { expiry } : {}),
      der,
      details: {
        subject,
        issuer: issuing.ca.certificate.details.subject,
        keyUsage: (keyUsage ?? withCaUsage(settings.keyUsage.map(toX509KeyUsage), settings.signAsCa)).map(fromX509KeyUsage),
        extendedKeyUsage: eku ? eku.map(fromX509Eku) : [...settings.extendedKeyUsages],
        metadata: req.metadata ?? {},
      },
    };
    // The event commits with the certificate, in the same group commit (outbox).
    const events = [caEvent(deps, CaEventType.certificateCreate, cert.id, certificateEventData(cert), req.actor)];
    try {
      await cache.writer.insert(cert, events);
    } catch (err) {
      if (err instanceof DomainError && err.code === 'CERTIFICATE_SERIAL_EXISTS' && attempt < MAX_SERIAL_ATTEMPTS) continue;
      throw err;
    }
    await publishAfterCommit(deps, events);
    deps.metrics?.certificateIssued(issuing.ca.id, profileLabel(req.profile, issuing.ca.profileId));
    return cert;
  }
}

/** The profile label of lamassu_certificates_issued_total: a stored profile's id, or how settings were given. */
const profileLabel = (p: ProfileChoice, caProfileId: string | null | undefined) =>
  'profileId' in p ? p.profileId : 'inline' in p ? 'inline' : (caProfileId ?? 'ca-default');
