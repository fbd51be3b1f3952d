import type { CertificateAuthorityGateway } from '../../domain/dms/certificate-authority-gateway.ts';
import type { CertificateInspector } from '../../domain/dms/certificate-inspector.ts';
import type { EnrollmentWebhook } from '../../domain/dms/enrollment-webhook.ts';
import type { PasswordHasher } from '../../domain/dms/password-hasher.ts';
import type { ServerKeyGenerator } from '../../domain/dms/server-key-generator.ts';
import { newEvent } from '../../domain/events.ts';
import type { Clock } from '../../domain/ports/clock.ts';
import type { CsrSignatureVerifier } from '../../domain/ports/csr-signature-verifier.ts';
import type { CloudEvent, EventBus } from '../../domain/ports/event-bus.ts';
import type { RandomSource } from '../../domain/ports/id-generator.ts';
import type { Logger } from '../../domain/ports/logger.ts';
import type { Storage } from '../../domain/ports/storage.ts';
import type { VerifiedDmsCertificates } from './verified-dms-certificates.ts';

/** Everything the DMS manager's use-cases need: ports only. */
export interface DmsServiceDeps {
  storage: Storage;
  events: EventBus;
  clock: Clock;
  random: RandomSource;
  logger: Logger;
  ca: CertificateAuthorityGateway;
  passwords: PasswordHasher;
  webhook: EnrollmentWebhook;
  inspector: CertificateInspector;
  keyGenerator: ServerKeyGenerator;
  /** The CA service's proof-of-possession checker (worker threads in a server); inline when absent. */
  csrVerifier?: CsrSignatureVerifier;
  /** Shared by the DMS manager (which drops entries when it revokes or re-issues) and enrollment. */
  verifiedDmsCertificates?: VerifiedDmsCertificates;
  /** The HTTPS listener's CA certificates (DER), which a DMS's include_system_ca adds to EST cacerts; none when absent. */
  systemCaCertificates?: () => Promise<Uint8Array[]>;
}

export const DMS_EVENT_SOURCE = 'lamassu/dms';

export const DmsCloudEvent = {
  create: 'dms.create',
  update: 'dms.update',
  metadataUpdate: 'dms.metadata.update',
  delete: 'dms.delete',
  certificateIssue: 'dms.certificate.issue',
  certificateRevoke: 'dms.certificate.revoke',
  enroll: 'dms.enroll',
  reenroll: 'dms.reenroll',
  /** Lamassu's name for a manual identity binding (POST /dms/bind-identity). */
  bindIdentity: 'dms.bind-device-id',
} as const;

/** The events of a change to a DMS itself (what DMS caches follow). */
export const DMS_CHANGE_EVENTS = [
  DmsCloudEvent.create,
  DmsCloudEvent.update,
  DmsCloudEvent.metadataUpdate,
  DmsCloudEvent.delete,
  DmsCloudEvent.certificateIssue,
  DmsCloudEvent.certificateRevoke,
] as const;

export const dmsEvent = <T>(deps: DmsServiceDeps, type: string, subject: string, data: T, actor: string): CloudEvent<T> =>
  newEvent(type, DMS_EVENT_SOURCE, subject, data, actor, deps.clock, deps.random);

/**
 * Announces events after the commit that wrote them to the outbox with their change (`tx.outbox.append`);
 * the relay sends them to the bus. The change is durable, so a failure here is logged, not returned.
 */
export async function announceDmsEvents(deps: DmsServiceDeps, events: CloudEvent[]): Promise<void> {
  if (events.length === 0) return;
  try {
    await deps.events.publish(events);
  } catch (err) {
    deps.logger.error({ err, types: events.map((e) => e.type) }, 'publishing DMS events failed');
  }
}

/**
 * For events about a change another service committed (a certificate the CA service issued or revoked): they
 * go to the outbox in a transaction of their own, then are announced.
 */
export async function publishDmsEvents(deps: DmsServiceDeps, events: CloudEvent[]): Promise<void> {
  if (events.length === 0) return;
  await deps.storage.transaction((tx) => tx.outbox.append(events));
  await announceDmsEvents(deps, events);
}
