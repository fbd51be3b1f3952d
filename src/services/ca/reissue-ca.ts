/**
 * Lamassu's POST /cas/{id}/reissue: a new certificate for a CA, with the same key and the same subject Name
 * (bytes copied from the current certificate), so its subject key identifier is unchanged and everything the
 * CA issued verifies with the new certificate as well as with the old one. A root signs its own again; a
 * subordinate is signed by its parent (never outliving it). The CA keeps its id, key, issued certificates,
 * CRLs and OCSP: only its certificate changes. The previous certificate stays in the inventory, still valid
 * until it expires or is revoked, and the two point at each other through Lamassu's certificate metadata
 * keys `lamassu.io/ca/reissued-as` (on the old one: the new serial) and `lamassu.io/ca/reissued-from` (on the
 * new one: the old serial), with `lamassu.io/ca/reissued-at` and, when given, `lamassu.io/ca/reissued-reason`.
 */
import type { CertificateAuthority } from '../../domain/ca/ca.ts';
import { validityEnd, wholeSeconds, type Validity } from '../../domain/ca/duration.ts';
import { conflict, forbidden } from '../../domain/errors.ts';
import { caEvent, caEventData, CaEventType, publishAfterCommit } from './ca-events.ts';
import type { CaServiceDeps } from './ca-service-deps.ts';
import { buildCaCertificate } from './create-ca.ts';
import { engineSigner, resolveEngine } from './engine-signer.ts';
import { getCa } from './get-ca.ts';
import { issuingCa } from './issue-certificate.ts';
import type { IssuingCaCache } from './issuing-ca-cache.ts';

/** Lamassu's metadata keys linking a CA's certificates across a reissue. */
export const REISSUED_AS = 'lamassu.io/ca/reissued-as';
export const REISSUED_FROM = 'lamassu.io/ca/reissued-from';
export const REISSUED_AT = 'lamassu.io/ca/reissued-at';
export const REISSUED_REASON = 'lamassu.io/ca/reissued-reason';

export interface ReissueCaInput {
  id: string;
  /** Default: as long as the current certificate's validity. */
  validity?: Validity;
  /** A new default issuance profile for what the CA signs (must exist). */
  profileId?: string;
  reason?: string;
  actor: string;
}

export async function reissueCa(deps: CaServiceDeps, cache: IssuingCaCache, input: ReissueCaInput): Promise<CertificateAuthority> {
  const ca = await getCa(deps, input.id);
  if (ca.internal) throw forbidden('CA_INTERNAL', `CA "${ca.id}" is internal to Lamassu: rotate it instead of reissuing it`, { id: ca.id });
  if (ca.keyId === null || ca.engineId === null) {
    throw conflict('CA_REISSUE_NOT_ALLOWED', `CA "${ca.id}" was imported without its key: only a CA holding its key can be reissued`, { id: ca.id });
  }
  const status = ca.certificate.status;
  if (status === 'REVOKED' || status === 'EXPIRED') {
    throw conflict('CA_REISSUE_NOT_ALLOWED', `CA "${ca.id}" is ${status}: only an ACTIVE or ABOUT_TO_EXPIRE CA can be reissued`, { id: ca.id, status });
  }
  // The CA's own decoded certificate (subject Name bytes, key identifier) and signer; refuses what cannot sign.
  cache.invalidate([ca.id]);
  const self = await issuingCa(cache, ca.id);
  const parent = ca.parentId === null ? undefined : await issuingCa(cache, ca.parentId, true);
  if (input.profileId !== undefined) await cache.profile(input.profileId);
  const engine = resolveEngine(deps, ca.engineId);
  const key = await engine.getKey(ca.keyId);

  const now = deps.clock.now();
  const notBefore = wholeSeconds(now);
  const previous = ca.certificate;
  let notAfter = input.validity
    ? validityEnd(input.validity, notBefore)
    : new Date(notBefore.getTime() + (previous.notAfter.getTime() - previous.notBefore.getTime()));
  if (parent && notAfter > parent.ca.certificate.notAfter) notAfter = parent.ca.certificate.notAfter;

  const built = await buildCaCertificate(deps, {
    id: ca.id,
    key,
    subjectName: self.subjectName,
    subject: previous.details.subject,
    notBefore,
    notAfter,
    issuer: parent
      ? { id: parent.ca.id, name: parent.subjectName, keyId: parent.subjectKeyId, signer: parent.signer!, subject: parent.ca.certificate.details.subject }
      : undefined,
    ownSigner: engineSigner(engine, key.id, key.type, key.bits),
    aboutToExpireMs: ca.aboutToExpireMs ?? deps.settings.aboutToExpireMs,
    engineId: engine.id,
  });
  const at = now.toISOString();
  const cert = {
    ...built,
    ...(previous.expiry ? { expiry: { ...previous.expiry, stage: 'none' as const } } : {}),
    details: {
      ...built.details,
      metadata: { [REISSUED_FROM]: previous.serialNumber, [REISSUED_AT]: at, ...(input.reason ? { [REISSUED_REASON]: input.reason } : {}) },
    },
  };
  const reissued: CertificateAuthority = { ...ca, certificate: cert, ...(input.profileId !== undefined ? { profileId: input.profileId } : {}) };
  const events = [caEvent(deps, CaEventType.caReissue, ca.id, { ...caEventData(reissued), previous_serial_number: previous.serialNumber }, input.actor)];
  await deps.storage.transaction(async (tx) => {
    await tx.certificates.insert(cert);
    // Compare-and-set: of two reissues at once, one wins and the other changes nothing.
    if (!(await tx.cas.replaceCertificate(ca.id, previous.id, cert.id))) {
      throw conflict('CA_REISSUE_CONFLICT', `CA "${ca.id}" was reissued or deleted meanwhile; read it again`, { id: ca.id });
    }
    await tx.certificates.updateMetadata(previous.id, (m) => ({ ...m, [REISSUED_AS]: cert.serialNumber, [REISSUED_AT]: at }));
    if (input.profileId !== undefined) await tx.cas.setProfileId(ca.id, input.profileId);
    await tx.outbox.append(events);
  });
  cache.invalidate([ca.id]);
  await publishAfterCommit(deps, events);
  return reissued;
}
