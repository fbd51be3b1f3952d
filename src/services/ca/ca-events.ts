import type { CertificateAuthority } from '../../domain/ca/ca.ts';
import type { Certificate } from '../../domain/ca/certificate.ts';
import type { ChangedCertificate } from '../../domain/ca/certificate-repository.ts';
import { newEvent } from '../../domain/events.ts';
import type { CloudEvent } from '../../domain/ports/event-bus.ts';
import type { CaServiceDeps } from './ca-service-deps.ts';

export const CA_EVENT_SOURCE = 'lamassu/ca';

/** The event types this service publishes. */
export const CaEventType = {
  caCreate: 'ca.create',
  caImport: 'ca.import',
  caStatusUpdate: 'ca.status.update',
  caUpdate: 'ca.update',
  caMetadataUpdate: 'ca.metadata.update',
  caSignSignature: 'ca.sign.signature',
  caDelete: 'ca.delete',
  /** A CA got a new certificate for its key (POST /cas/{id}/reissue); `previous_serial_number` names the old one. */
  caReissue: 'ca.reissue',
  certificateMetadataUpdate: 'certificate.metadata.update',
  certificateCreate: 'certificate.create',
  certificateImport: 'certificate.import',
  certificateStatusUpdate: 'certificate.status.update',
  /** A certificate crossed one of its expiration deltas (preventive or critical); once per delta. */
  certificateExpiring: 'certificate.expiring',
  profileCreate: 'profile.create',
  profileUpdate: 'profile.update',
  profileDelete: 'profile.delete',
} as const;

/** What events say about a certificate: enough to act on, never the bytes. */
export interface CertificateEventData {
  id: string;
  serial_number: string;
  issuer_ca_id: string | null;
  ca_id: string | null;
  subject_common_name: string;
  status: string;
  previous_status?: string;
  revocation_reason: string | null;
  valid_to: string;
}

export const certificateEventData = (c: Certificate, previousStatus?: string): CertificateEventData => ({
  id: c.id,
  serial_number: c.serialNumber,
  issuer_ca_id: c.issuerCaId,
  ca_id: c.caId,
  subject_common_name: c.subjectCommonName,
  status: c.status,
  ...(previousStatus === undefined ? {} : { previous_status: previousStatus }),
  revocation_reason: c.revocationReason,
  valid_to: c.notAfter.toISOString(),
});

/** What events say about a row a set-based status change touched (its new status and reason given). */
export const changedCertificateEventData = (r: ChangedCertificate, status: string, revocationReason: string | null): CertificateEventData => ({
  id: r.id,
  serial_number: r.serialNumber,
  issuer_ca_id: r.issuerCaId,
  ca_id: r.caId,
  subject_common_name: r.subjectCommonName,
  status,
  previous_status: r.previousStatus,
  revocation_reason: revocationReason,
  valid_to: r.notAfter.toISOString(),
});

export const caEventData = (ca: CertificateAuthority, previousStatus?: string) => ({
  ...certificateEventData(ca.certificate, previousStatus),
  id: ca.id,
  parent_id: ca.parentId,
  level: ca.level,
  type: ca.type,
  engine_id: ca.engineId,
  /** The CA's key in its engine (the KMS key id); null for a CA imported without its key. */
  key_id: ca.keyId,
  internal: ca.internal,
});

export function caEvent<T>(deps: CaServiceDeps, type: string, subject: string | undefined, data: T, actor: string): CloudEvent<T> {
  return newEvent(type, CA_EVENT_SOURCE, subject, data, actor, deps.clock, deps.random);
}

/** A set-based status change's event: ca.status.update (subject and id the CA) for a CA's own certificate, certificate.status.update otherwise. */
export function statusChangeEvent(deps: CaServiceDeps, r: ChangedCertificate, status: string, revocationReason: string | null, actor: string): CloudEvent {
  const data = changedCertificateEventData(r, status, revocationReason);
  return r.caId
    ? caEvent(deps, CaEventType.caStatusUpdate, r.caId, { ...data, id: r.caId }, actor)
    : caEvent(deps, CaEventType.certificateStatusUpdate, r.id, data, actor);
}

/**
 * Announces events after the commit that wrote them to the outbox with their change (`tx.outbox.append`,
 * or `insertMany(certs, events)` for issuance): in a server this tells in-process listeners at once (the
 * VA's OCSP cache) and wakes the outbox relay, which sends them to the bus. The change is already durable,
 * so a failure here is logged rather than turned into an error for a request that did succeed.
 */
export async function publishAfterCommit(deps: CaServiceDeps, events: CloudEvent[]): Promise<void> {
  if (events.length === 0) return;
  try {
    await deps.events.publish(events);
  } catch (err) {
    deps.logger.error({ err, types: [...new Set(events.map((e) => e.type))], count: events.length }, 'publishing CA events failed');
  }
}
