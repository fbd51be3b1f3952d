import { checkInvalidityDate, checkTransition, statusAt, type StatusRequest } from '../../domain/ca/certificate-status.ts';
import type { StatusChange } from '../../domain/ca/certificate-repository.ts';
import type { Certificate } from '../../domain/ca/certificate.ts';
import { conflict } from '../../domain/errors.ts';
import type { Storage } from '../../domain/ports/storage.ts';
import { caEvent, CaEventType, certificateEventData, publishAfterCommit } from './ca-events.ts';
import type { CaServiceDeps } from './ca-service-deps.ts';
import { getCertificate } from './get-certificate.ts';

export interface UpdateCertificateStatusInput {
  serialNumber: string;
  issuerCaId?: string;
  request: StatusRequest;
  actor: string;
}

/**
 * Revokes, holds, or lifts a hold (see checkTransition). Lifting a hold gives the status time gives now:
 * ACTIVE, ABOUT_TO_EXPIRE, or EXPIRED if the certificate ran out while on hold. The update is a
 * compare-and-set on the status and reason read, so two racing changes cannot both apply.
 */
export async function updateCertificateStatus(deps: CaServiceDeps, input: UpdateCertificateStatusInput): Promise<Certificate> {
  const cert = await getCertificate(deps, input.serialNumber, input.issuerCaId);
  const { changed, events } = await deps.storage.transaction(async (tx) => {
    const changed = await applyStatusRequest({ ...deps, storage: tx as Storage }, cert, input.request, 'CERTIFICATE');
    const events = [caEvent(deps, CaEventType.certificateStatusUpdate, changed.id, certificateEventData(changed, cert.status), input.actor)];
    await tx.outbox.append(events);
    return { changed, events };
  });
  await publishAfterCommit(deps, events);
  return changed;
}

/**
 * Checks and stores one status change of one certificate row; shared with CA status changes. The
 * revocation time is the Clock's now, and an invalidity date must not be later. Releasing a hold clears
 * the revocation time, reason and invalidity date.
 */
export async function applyStatusRequest(
  deps: CaServiceDeps,
  cert: Certificate,
  request: StatusRequest,
  subject: 'CERTIFICATE' | 'CA',
): Promise<Certificate> {
  checkTransition(subject, { status: cert.status, revocationReason: cert.revocationReason ?? undefined }, request);
  const now = deps.clock.now();
  if (request.status === 'REVOKED' && request.invalidityDate) checkInvalidityDate(request.invalidityDate, now);
  const change: StatusChange =
    request.status === 'REVOKED'
      ? { status: 'REVOKED', revokedAt: now, revocationReason: request.reason, ...(request.invalidityDate ? { invalidityDate: request.invalidityDate } : {}) }
      : { status: statusAt(now, cert.notAfter, cert.aboutToExpireAt), revokedAt: null, revocationReason: null };
  if (!(await deps.storage.certificates.updateStatus(cert.id, cert.status, change, cert.revocationReason))) {
    throw conflict(`${subject}_STATUS_CHANGED`, 'the status changed meanwhile; read it again and retry', { id: cert.id });
  }
  const { invalidityDate: _previous, ...rest } = cert;
  return { ...rest, ...change };
}
