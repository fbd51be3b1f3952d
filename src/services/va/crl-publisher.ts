/**
 * Publishes each CA's full and delta CRLs: CRL number from a per-CA counter shared by both kinds, AKI,
 * Freshest CRL pointing at the delta when deltas are on. Entries stream from the CA service page by page
 * into the streaming encoder, so memory stays flat as revocations grow.
 *
 * Scope: a CRL lists every revoked certificate its CA issued, whatever CRL distribution point that
 * certificate carries (none for a root's own certificate, another system's for certificates issued before a
 * CA was imported), so it carries no IssuingDistributionPoint (RFC 5280 5.2.5: a full-scope CRL). An IDP
 * naming our URL would claim a narrower scope, and relying parties that check the whole chain
 * (`openssl verify -crl_check_all`, nginx `ssl_crl`) refuse it for the root ("different CRL scope").
 *
 * A delta CRL lists what changed since its base was read: certificates revoked since then (a minute of
 * slack covers revocations that committed while the base was being read; listing one twice is harmless)
 * and released holds (removeFromCRL).
 */
import { conflict, isDomainError, notFound } from '../../domain/errors.ts';
import type { Clock } from '../../domain/ports/clock.ts';
import type { MetricsRecorder } from '../../domain/ports/metrics.ts';
import type { Logger } from '../../domain/ports/logger.ts';
import type { CrlKind, CrlRecord, CrlRepository } from '../../domain/va/crl-record.ts';
import { parseCertificate } from '../../x509/certificate.ts';
import { buildCrl, type CrlEntry } from '../../x509/crl.ts';
import { canonicalSerial, crlReasonOf } from './revocation-reasons.ts';
import type { VaCa, VaCaGateway, VaRevokedEntry } from './va-ca-gateway.ts';
import type { VaRoles } from './va-roles.ts';

const SLACK_MS = 60_000;
/** After a revocation, how soon a CRL that could not be signed (key engine down) is tried again. */
const UNAVAILABLE_RETRY_MS = 2000;

export interface CrlPublisherOptions {
  /** VA base URLs, as the CA service writes them into certificates (CaSettings.vaBaseUrls). */
  vaBaseUrls: readonly string[];
  /** How long to wait after a revocation for more before publishing (many revocations, one CRL). */
  debounceMs: number;
  /** How long a replica serves its copy before checking the database for a newer CRL. */
  recheckMs: number;
  /** Times each full CRL built and stored (lamassu_crl_generation_seconds). */
  metrics?: MetricsRecorder;
}

/** Where a CA's delta CRL is served: its full CRL's URL (src/services/ca/ca-urls.ts) + /delta. */
export const deltaCrlUrls = (vaBaseUrls: readonly string[], caId: string) =>
  vaBaseUrls.map((b) => `${b}/api/va/crl/${encodeURIComponent(caId)}/delta`);

const wholeSeconds = (ms: number) => new Date(Math.floor(ms / 1000) * 1000);

function crlEntry(entry: VaRevokedEntry, full: boolean): CrlEntry {
  const reason = crlReasonOf(entry.reason);
  // removeFromCRL is no revocation reason in a full CRL (RFC 5280 5.3.1).
  return {
    serial: entry.serialNumber,
    revocationDate: entry.revokedAt,
    reason: full && reason === 'removeFromCRL' ? 'unspecified' : reason,
    ...(entry.invalidityDate ? { invalidityDate: entry.invalidityDate } : {}),
  };
}

export class CrlPublisher {
  private readonly served = new Map<string, { crl: CrlRecord; checkedAt: number }>();
  /** One publication at a time per CA, so numbers and bases stay in order. */
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private closed = false;

  constructor(
    private readonly ca: VaCaGateway,
    private readonly crls: CrlRepository,
    private readonly roles: VaRoles,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly opts: CrlPublisherOptions,
  ) {}

  /** The CA by id, or by its subject key identifier in hex (Lamassu's CRL URLs use the SKI). */
  async resolveCa(idOrSki: string): Promise<VaCa> {
    const ca = (await this.ca.getCa(idOrSki)) ?? (/^[0-9a-fA-F]{16,128}$/.test(idOrSki) ? await this.ca.findCaBySubjectKeyId(idOrSki) : undefined);
    if (!ca) throw notFound('VA_CA_NOT_FOUND', `no CA "${idOrSki}"`, { ca_id: idOrSki });
    return ca;
  }

  /** The CRL to serve now: the stored one, or a new one when there is none yet or it has expired. */
  async current(caId: string, kind: CrlKind): Promise<CrlRecord> {
    const now = this.clock.now().getTime();
    const key = `${caId}/${kind}`;
    let held = this.served.get(key);
    if (!held || now - held.checkedAt >= this.opts.recheckMs) {
      const meta = await this.crls.meta(caId, kind);
      if (meta && held && meta.number === held.crl.number) held = { crl: held.crl, checkedAt: now };
      else {
        const crl = meta && (await this.crls.get(caId, kind));
        held = crl ? { crl, checkedAt: now } : undefined;
      }
      if (held) this.served.set(key, held);
    }
    if (kind === 'delta') {
      const role = await this.roles.get(caId);
      if (!role.settings.delta.enabled) throw notFound('VA_DELTA_CRL_DISABLED', `delta CRLs are not enabled for CA "${caId}"`, { ca_id: caId });
    }
    if (!held || now >= held.crl.nextUpdate.getTime()) return this.publish(caId, kind);
    return held.crl;
  }

  /** Publishes a new CRL of `kind` now (queued behind any publication of the same CA). */
  publish(caId: string, kind: CrlKind): Promise<CrlRecord> {
    const prev = this.queues.get(caId) ?? Promise.resolve();
    const run = prev.catch(() => undefined).then(() => (kind === 'full' ? this.generateFull(caId) : this.generateDelta(caId)));
    this.queues.set(caId, run);
    void run.finally(() => {
      if (this.queues.get(caId) === run) this.queues.delete(caId);
    }).catch(() => undefined);
    return run;
  }

  /**
   * After a revocation or released hold: publish within `debounceMs`, once for any number of changes.
   * With delta CRLs on, only the delta is republished; the full CRL follows its schedule.
   */
  changed(caId: string, delayMs = this.opts.debounceMs): void {
    if (this.closed || this.timers.has(caId)) return;
    const timer = setTimeout(() => {
      this.timers.delete(caId);
      void this.publishAfterChange(caId);
    }, delayMs);
    timer.unref?.();
    this.timers.set(caId, timer);
  }

  /** Runs the pending debounced publications now (tests, shutdown). */
  async flush(): Promise<void> {
    const ids = [...this.timers.keys()];
    for (const id of ids) clearTimeout(this.timers.get(id));
    this.timers.clear();
    await Promise.all(ids.map((id) => this.publishAfterChange(id)));
    await Promise.all([...this.queues.values()].map((p) => p.catch(() => undefined)));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await Promise.all([...this.queues.values()].map((p) => p.catch(() => undefined)));
  }

  /** The scheduled round: every CA whose CRLs are missing or due for refresh gets new ones. */
  async refreshDue(): Promise<void> {
    const now = this.clock.now().getTime();
    for await (const ca of this.ca.listCas()) {
      if (!ca.hasKey) continue;
      try {
        const role = await this.roles.get(ca.id);
        const full = await this.crls.meta(ca.id, 'full');
        let fullChanged = false;
        if (!full || now >= full.thisUpdate.getTime() + role.settings.crl.refreshIntervalMs || now >= full.nextUpdate.getTime()) {
          await this.publish(ca.id, 'full');
          fullChanged = true;
        }
        if (role.settings.delta.enabled) {
          const delta = await this.crls.meta(ca.id, 'delta');
          if (fullChanged || !delta || now >= delta.thisUpdate.getTime() + role.settings.delta.refreshIntervalMs) await this.publish(ca.id, 'delta');
        }
      } catch (err) {
        this.logger.error({ err, caId: ca.id }, 'CRL refresh failed');
      }
    }
  }

  private async publishAfterChange(caId: string): Promise<void> {
    try {
      const role = await this.roles.get(caId);
      if (!role.settings.crl.regenerateOnRevoke) return;
      await this.publish(caId, role.settings.delta.enabled ? 'delta' : 'full');
    } catch (err) {
      // Still owed: when the key engine is down, publish once it is back, not at the next scheduled refresh.
      const retry = isDomainError(err) && err.kind === 'unavailable';
      this.logger.error({ err, caId, retryInMs: retry ? UNAVAILABLE_RETRY_MS : undefined }, 'publishing a CRL after a revocation failed');
      if (retry) this.changed(caId, UNAVAILABLE_RETRY_MS);
    }
  }

  private async signingCa(caId: string) {
    const ca = await this.ca.getCa(caId);
    if (!ca) throw notFound('VA_CA_NOT_FOUND', `no CA "${caId}"`, { ca_id: caId });
    if (!ca.hasKey) throw conflict('CA_CANNOT_SIGN', `CA "${caId}" has no private key to sign CRLs with`, { id: caId });
    const cert = parseCertificate(ca.certificateDer);
    return {
      issuerName: cert.subjectName,
      authorityKeyId: cert.subjectKeyIdentifier ?? new Uint8Array(Buffer.from(ca.subjectKeyId, 'hex')),
      signer: await this.ca.caSigner(caId),
    };
  }

  private async generateFull(caId: string): Promise<CrlRecord> {
    const role = await this.roles.get(caId);
    const ca = await this.signingCa(caId);
    const generatedAt = this.clock.now();
    const thisUpdate = wholeSeconds(generatedAt.getTime());
    const nextUpdate = new Date(thisUpdate.getTime() + role.settings.crl.validityMs);
    const number = await this.crls.nextNumber(caId);
    const started = performance.now();
    const gateway = this.ca;
    async function* entries(): AsyncIterable<CrlEntry> {
      for await (const e of gateway.revokedCertificates(caId)) yield crlEntry(e, true);
    }
    const der = await buildCrl({
      ...ca,
      crlNumber: BigInt(number),
      thisUpdate,
      nextUpdate,
      entries: entries(),
      ...(role.settings.delta.enabled ? { freshestCrl: deltaCrlUrls(this.opts.vaBaseUrls, caId) } : {}),
    });
    const crl: CrlRecord = { caId, kind: 'full', number, baseNumber: null, thisUpdate, nextUpdate, generatedAt, der };
    await this.store(crl);
    // Holds released before this CRL was read are in it already (as absent entries).
    await this.crls.pruneRemovals(caId, new Date(generatedAt.getTime() - SLACK_MS));
    const ms = performance.now() - started;
    this.opts.metrics?.crlGenerated(ms / 1000);
    this.logger.info({ caId, number, bytes: der.length, ms: Math.round(ms) }, 'published a CRL');
    return crl;
  }

  private async generateDelta(caId: string): Promise<CrlRecord> {
    const role = await this.roles.get(caId);
    let base = await this.crls.meta(caId, 'full');
    if (!base || this.clock.now().getTime() >= base.nextUpdate.getTime()) base = await this.generateFull(caId);
    const ca = await this.signingCa(caId);
    const since = new Date(base.generatedAt.getTime() - SLACK_MS);
    const generatedAt = this.clock.now();
    const thisUpdate = wholeSeconds(generatedAt.getTime());
    const nextUpdate = new Date(thisUpdate.getTime() + role.settings.delta.validityMs);
    // A delta holds only what changed since its base: small by design, so it is gathered in memory.
    const entries: CrlEntry[] = [];
    const revoked = new Set<string>();
    for await (const e of this.ca.revokedCertificates(caId, since)) {
      revoked.add(e.serialNumber);
      entries.push(crlEntry(e, false));
    }
    for (const r of await this.crls.removalsSince(caId, since)) {
      const serial = canonicalSerial(r.serialNumber);
      if (revoked.has(serial)) continue;
      revoked.add(serial);
      entries.push({ serial, revocationDate: r.removedAt, reason: 'removeFromCRL' });
    }
    const number = await this.crls.nextNumber(caId);
    const der = await buildCrl({
      ...ca,
      crlNumber: BigInt(number),
      thisUpdate,
      nextUpdate,
      entries,
      deltaCrlIndicator: BigInt(base.number),
    });
    const crl: CrlRecord = { caId, kind: 'delta', number, baseNumber: base.number, thisUpdate, nextUpdate, generatedAt, der };
    await this.store(crl);
    return crl;
  }

  private async store(crl: CrlRecord): Promise<void> {
    if (await this.crls.save(crl)) {
      this.served.set(`${crl.caId}/${crl.kind}`, { crl, checkedAt: this.clock.now().getTime() });
    }
  }
}
