import type { ExpiryCrossing } from '../../domain/ca/certificate-repository.ts';
import { formatDelta } from '../../domain/ca/expiry-deltas.ts';
import type { CloudEvent } from '../../domain/ports/event-bus.ts';
import { caEvent, CaEventType } from './ca-events.ts';
import type { CaServiceDeps } from './ca-service-deps.ts';

/** What a `certificate.expiring` event carries: the certificate's summary and the delta it crossed. */
export interface CertificateExpiringData {
  id: string;
  serial_number: string;
  issuer_ca_id: string | null;
  ca_id: string | null;
  subject_common_name: string;
  status: string;
  valid_to: string;
  not_after: string;
  /** preventive | critical */
  delta: ExpiryCrossing['delta'];
  /** The delta's value, e.g. "30d". */
  delta_value: string;
  delta_ms: number;
  /** Where the delta was set: ca | profile | dms. */
  delta_source: ExpiryCrossing['source'];
}

export function expiringEvent(deps: CaServiceDeps, c: ExpiryCrossing): CloudEvent<CertificateExpiringData> {
  return caEvent(
    deps,
    CaEventType.certificateExpiring,
    c.id,
    {
      id: c.id,
      serial_number: c.serialNumber,
      issuer_ca_id: c.issuerCaId,
      ca_id: c.caId,
      subject_common_name: c.subjectCommonName,
      status: c.status,
      valid_to: c.notAfter.toISOString(),
      not_after: c.notAfter.toISOString(),
      delta: c.delta,
      delta_value: formatDelta(c.deltaMs),
      delta_ms: c.deltaMs,
      delta_source: c.source,
    },
    'system',
  );
}
