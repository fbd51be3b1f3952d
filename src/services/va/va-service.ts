/**
 * The VA service: OCSP responder, CRL publisher and per-CA settings over the CA service's gateway, kept
 * current by the CA service's events.
 *
 * Invalidation, and its trade-off: a status change drops the cached answers of that certificate
 * (1) synchronously in-process through PublishTap when the CA service runs in this process, and (2) on
 * every replica through a broadcast subscription (an event reaches another replica within the bus's
 * delivery time, milliseconds on RabbitMQ). While this replica's bus link is down (events to it are lost)
 * the cache is suspended and every answer reads the database; it starts again empty once the link is back
 * and the subscriptions consume again. A change whose event is lost otherwise (a replica that committed
 * and died before publishing, a network cut not yet noticed) shows after `statusCacheTtlMs` at the latest.
 */
import type { Clock } from '../../domain/ports/clock.ts';
import type { CloudEvent, EventBus } from '../../domain/ports/event-bus.ts';
import type { MetricsRecorder } from '../../domain/ports/metrics.ts';
import type { Logger } from '../../domain/ports/logger.ts';
import type { Repositories } from '../../domain/ports/storage.ts';
import { CrlPublisher } from './crl-publisher.ts';
import { IssuerIndex } from './issuer-index.ts';
import { OcspCache } from './ocsp-cache.ts';
import { OcspResponder } from './ocsp-responder.ts';
import { OcspSigners } from './ocsp-signers.ts';
import { canonicalSerial } from './revocation-reasons.ts';
import type { VaCaGateway } from './va-ca-gateway.ts';
import { VaRoles } from './va-roles.ts';

export interface VaSettings {
  vaBaseUrls: readonly string[];
  statusCacheTtlMs: number;
  cacheMaxEntries: number;
  crlDebounceMs: number;
  crlRecheckMs: number;
  rolesCacheTtlMs: number;
  responderValidityMs: number;
  /** Least time between two CA listings caused by requests for unknown issuers. */
  issuerRescanMs: number;
}

export const DEFAULT_VA_SETTINGS: VaSettings = {
  vaBaseUrls: ['http://localhost:8080'],
  statusCacheTtlMs: 10_000,
  cacheMaxEntries: 200_000,
  crlDebounceMs: 1000,
  crlRecheckMs: 2000,
  rolesCacheTtlMs: 5000,
  responderValidityMs: 30 * 86_400_000,
  issuerRescanMs: 5000,
};

export interface VaServiceDeps {
  ca: VaCaGateway;
  storage: Pick<Repositories, 'vaRoles' | 'crls' | 'ocspResponders'>;
  events: EventBus;
  clock: Clock;
  logger: Logger;
  settings: VaSettings;
  /** Unique per replica: names this replica's cache-invalidation subscription. */
  replicaId: string;
  /** OCSP answers and CRL generation times for /metrics. */
  metrics?: MetricsRecorder;
}

/** What the CA service's status events carry that the VA reads. */
interface StatusEventData {
  id?: string;
  serial_number?: string;
  issuer_ca_id?: string | null;
  status?: string;
  previous_status?: string;
}

export class VaService {
  readonly cache: OcspCache;
  readonly roles: VaRoles;
  readonly issuers: IssuerIndex;
  readonly signers: OcspSigners;
  readonly ocsp: OcspResponder;
  readonly crls: CrlPublisher;
  private readonly unsubscribe: (() => Promise<void>)[] = [];

  constructor(private readonly deps: VaServiceDeps) {
    const { ca, storage, clock, logger, settings } = deps;
    this.cache = new OcspCache(settings.cacheMaxEntries);
    this.roles = new VaRoles(storage.vaRoles, ca, clock, settings.rolesCacheTtlMs);
    this.issuers = new IssuerIndex(ca, clock, settings.issuerRescanMs);
    this.signers = new OcspSigners(ca, storage.ocspResponders, clock, logger, { responderValidityMs: settings.responderValidityMs });
    this.ocsp = new OcspResponder(ca, this.issuers, this.roles, this.signers, this.cache, clock, logger, {
      statusCacheTtlMs: settings.statusCacheTtlMs,
      ...(deps.metrics ? { metrics: deps.metrics } : {}),
    });
    this.crls = new CrlPublisher(ca, storage.crls, this.roles, clock, logger, {
      vaBaseUrls: settings.vaBaseUrls,
      debounceMs: settings.crlDebounceMs,
      recheckMs: settings.crlRecheckMs,
      ...(deps.metrics ? { metrics: deps.metrics } : {}),
    });
    this.roles.onChange((caId) => {
      this.cache.invalidateCa(caId);
      this.signers.forget(caId);
    });
  }

  /** Synchronous cache invalidation for events published in this process (see PublishTap). */
  onPublished = (events: readonly CloudEvent[]): void => {
    for (const e of events) this.invalidate(e);
  };

  /** Subscribes to the CA service's events. */
  async start(): Promise<void> {
    const { events, replicaId, logger } = this.deps;
    const stopFollowingLink = events.onLinkChange?.((up) => {
      if (up) {
        this.cache.resume();
        this.signers.forget();
      } else this.cache.suspend();
      logger.info({ cache: 'ocsp-status' }, up ? 'VA: event bus back, OCSP cache in use again (started empty)' : 'VA: event bus down, OCSP answers read the database until it is back');
    });
    if (stopFollowingLink) this.unsubscribe.push(async () => stopFollowingLink());
    const status = ['certificate.status.update', 'ca.status.update'];
    for (const type of status) {
      this.unsubscribe.push(await events.subscribe(type, `va.ocsp-cache.${replicaId}`, (e) => this.invalidate(e), { broadcast: true }));
      this.unsubscribe.push(await events.subscribe(type, 'va.crl', (e) => this.onStatusChange(e)));
    }
    for (const type of ['ca.create', 'ca.import']) {
      this.unsubscribe.push(await events.subscribe(type, 'va.roles', (e) => this.onCaCreated(e)));
    }
  }

  async close(): Promise<void> {
    for (const u of this.unsubscribe.splice(0)) await u().catch(() => undefined);
    await this.crls.close();
  }

  private invalidate(e: CloudEvent): void {
    const d = e.data as StatusEventData;
    if (e.type !== 'certificate.status.update' && e.type !== 'ca.status.update') return;
    if (d.issuer_ca_id && d.serial_number) this.cache.invalidate(d.issuer_ca_id, canonicalSerial(d.serial_number));
    // A CA's own status: its responder and everything it answered are looked at again.
    if (e.type === 'ca.status.update' && d.id) {
      this.cache.invalidateCa(d.id);
      this.signers.forget(d.id);
    }
  }

  /** Once per cluster (one consumer group): remember released holds for delta CRLs, republish CRLs. */
  private async onStatusChange(e: CloudEvent): Promise<void> {
    const d = e.data as StatusEventData;
    if (!d.issuer_ca_id || !d.serial_number) return;
    if (d.previous_status === 'REVOKED' && d.status !== 'REVOKED') {
      await this.deps.storage.crls.addRemoval({ caId: d.issuer_ca_id, serialNumber: canonicalSerial(d.serial_number), removedAt: this.deps.clock.now() });
    }
    if (d.status === 'REVOKED' || d.previous_status === 'REVOKED') this.crls.changed(d.issuer_ca_id);
  }

  private async onCaCreated(e: CloudEvent): Promise<void> {
    const id = (e.data as StatusEventData).id ?? e.subject;
    if (!id) return;
    await this.roles.ensure(id);
    const ca = await this.deps.ca.getCa(id);
    if (ca) this.issuers.add(ca);
  }
}
