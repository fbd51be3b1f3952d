/**
 * Answers OCSP requests (RFC 6960, RFC 5019 profile). Choices, written down:
 * - An issuer we do not know (no CA of ours has the CertID's issuer hashes) gets `unauthorized`
 *   (RFC 6960 2.3: we cannot answer authoritatively), as OpenSSL's and most public responders do.
 * - A serial the CA never issued gets `unknown`. An expired, unrevoked certificate is `good` (OCSP reports
 *   revocation, not validity).
 * - One response has one signer, so a request naming several CAs is answered by the CA of its first known
 *   issuer; certificates of other issuers in it get `unknown`.
 * - Requests with a nonce get a fresh signature; nonce-less ones are served from the response cache.
 */
import { isDomainError } from '../../domain/errors.ts';
import type { Clock } from '../../domain/ports/clock.ts';
import type { MetricsRecorder } from '../../domain/ports/metrics.ts';
import type { Logger } from '../../domain/ports/logger.ts';
import { digest } from '../../x509/ocsp-cert-id.ts';
import { parseOcspRequest, type OcspRequest } from '../../x509/ocsp-request.ts';
import { buildBasicResponse, encodeSingleResponse, encodeStatusInfo, ocspErrorResponse, type OcspCertStatus, type OcspErrorStatus } from '../../x509/ocsp-response.ts';
import type { IssuerIndex } from './issuer-index.ts';
import type { OcspCache, StatusEntry } from './ocsp-cache.ts';
import type { OcspSigners } from './ocsp-signers.ts';
import { canonicalSerial, crlReasonOf } from './revocation-reasons.ts';
import type { VaCaGateway } from './va-ca-gateway.ts';
import type { VaRoles } from './va-roles.ts';

export type OcspAnswer =
  | { kind: 'error'; status: OcspErrorStatus; body: Uint8Array }
  | {
      kind: 'response';
      body: Uint8Array;
      producedAt: Date;
      nextUpdate: Date;
      /** Set for nonce-less answers, which HTTP caches may keep until nextUpdate. */
      etag?: string;
    };

export interface OcspResponderOptions {
  /** Longest time a status entry is trusted without reading it again (replicas that missed an event). */
  statusCacheTtlMs: number;
  /** Counts answers by CA and status (lamassu_ocsp_responses_total). */
  metrics?: MetricsRecorder;
}

/** The labels of an answer: its CA and the status of its first certificate, or the OCSP error status. */
const UNKNOWN_CA = 'none';

const errorAnswers = new Map<OcspErrorStatus, OcspAnswer>();
export function ocspError(status: OcspErrorStatus): OcspAnswer {
  let a = errorAnswers.get(status);
  if (!a) {
    a = { kind: 'error', status, body: ocspErrorResponse(status) };
    errorAnswers.set(status, a);
  }
  return a;
}

const wholeSeconds = (ms: number) => Math.floor(ms / 1000) * 1000;
const etagOf = (body: Uint8Array) => `"${Buffer.from(digest('SHA-1', body)).toString('base64url')}"`;

export class OcspResponder {
  constructor(
    private readonly ca: VaCaGateway,
    private readonly issuers: IssuerIndex,
    private readonly roles: VaRoles,
    private readonly signers: OcspSigners,
    private readonly cache: OcspCache,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly opts: OcspResponderOptions,
  ) {}

  /** Never throws: every failure is an OCSP error status. */
  async respond(der: Uint8Array): Promise<OcspAnswer> {
    const now = this.clock.now().getTime();
    const key = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('latin1');
    const cached = this.cache.response(key, now);
    if (cached) {
      const first = cached.entries[0];
      this.opts.metrics?.ocspResponse(first?.caId ?? UNKNOWN_CA, first?.status ?? 'unknown');
      return { kind: 'response', body: cached.body, producedAt: cached.producedAt, nextUpdate: cached.nextUpdate, etag: cached.etag };
    }
    const answer = await this.respondUncached(der, key, now);
    if (answer.kind === 'error') this.opts.metrics?.ocspResponse(UNKNOWN_CA, answer.status);
    return answer;
  }

  private async respondUncached(der: Uint8Array, key: string, now: number): Promise<OcspAnswer> {
    let request: OcspRequest;
    try {
      request = parseOcspRequest(der);
    } catch (err) {
      if (isDomainError(err) && err.kind === 'invalid') return ocspError('malformedRequest');
      this.logger.error({ err }, 'OCSP request parsing failed unexpectedly');
      return ocspError('internalError');
    }
    try {
      return await this.answer(request, key, now);
    } catch (err) {
      if (isDomainError(err) && (err.kind === 'not_found' || err.kind === 'conflict')) return ocspError('unauthorized');
      this.logger.error({ err }, 'OCSP answer failed');
      return ocspError(isDomainError(err) && err.kind === 'unavailable' ? 'tryLater' : 'internalError');
    }
  }

  private async answer(request: OcspRequest, key: string, now: number): Promise<OcspAnswer> {
    const caIds = await Promise.all(request.requests.map((r) => this.issuers.lookup(r.hashAlgorithm, r.issuerNameHash, r.issuerKeyHash)));
    const caId = caIds.find((id) => id !== undefined);
    if (caId === undefined) return ocspError('unauthorized');
    const role = await this.roles.get(caId);
    const signer = await this.signers.get(caId, role.settings.ocsp.signer);
    const validityMs = role.settings.ocsp.validityMs;

    const entries: StatusEntry[] = [];
    const singles: Uint8Array[] = [];
    let nextUpdate = Number.POSITIVE_INFINITY;
    let expiresAt = Number.POSITIVE_INFINITY;
    for (let i = 0; i < request.requests.length; i++) {
      const r = request.requests[i]!;
      let info: Uint8Array;
      if (caIds[i] === caId) {
        const entry = await this.statusEntry(caId, canonicalSerial(r.serialHex), validityMs, now);
        entries.push(entry);
        info = entry.info;
        nextUpdate = Math.min(nextUpdate, entry.nextUpdate.getTime());
        expiresAt = Math.min(expiresAt, entry.expiresAt);
      } else {
        const thisUpdate = wholeSeconds(now);
        info = encodeStatusInfo({ certStatus: { status: 'unknown' }, thisUpdate: new Date(thisUpdate), nextUpdate: new Date(thisUpdate + validityMs) });
        nextUpdate = Math.min(nextUpdate, thisUpdate + validityMs);
      }
      singles.push(encodeSingleResponse(r.certId, info));
    }
    this.opts.metrics?.ocspResponse(caId, entries.length > 0 && caIds[0] === caId ? entries[0]!.status : 'unknown');
    const producedAt = new Date(wholeSeconds(now));
    const body = await buildBasicResponse({
      singleResponses: singles,
      producedAt,
      responderKeyHash: signer.responderKeyHash,
      signer: signer.signer,
      ...(request.nonce ? { nonce: request.nonce } : {}),
      certs: signer.certs,
    });
    if (request.nonce) return { kind: 'response', body, producedAt, nextUpdate: new Date(nextUpdate) };
    const etag = etagOf(body);
    // Only answers built wholly from status entries can be retired through them.
    if (entries.length === request.requests.length) {
      this.cache.putResponse(key, { body, etag, producedAt, nextUpdate: new Date(nextUpdate), expiresAt: Math.min(expiresAt, signer.validUntil), entries });
    }
    return { kind: 'response', body, producedAt, nextUpdate: new Date(nextUpdate), etag };
  }

  private async statusEntry(caId: string, serial: string, validityMs: number, now: number): Promise<StatusEntry> {
    const hit = this.cache.status(caId, serial, now);
    if (hit) return hit;
    const epoch = this.cache.epoch;
    const status = await this.ca.certificateStatus(caId, serial);
    const certStatus: OcspCertStatus =
      status === undefined
        ? { status: 'unknown' }
        : status.status === 'REVOKED'
          ? { status: 'revoked', revocationTime: status.revokedAt ?? new Date(now), reason: crlReasonOf(status.revocationReason ?? 'Unspecified') }
          : { status: 'good' };
    const thisUpdate = wholeSeconds(now);
    const entry: StatusEntry = {
      caId,
      serial,
      status: certStatus.status,
      info: encodeStatusInfo({ certStatus, thisUpdate: new Date(thisUpdate), nextUpdate: new Date(thisUpdate + validityMs) }),
      thisUpdate: new Date(thisUpdate),
      nextUpdate: new Date(thisUpdate + validityMs),
      // Re-read at half the validity at the latest, so a cached answer always has time left to live.
      expiresAt: now + Math.min(this.opts.statusCacheTtlMs, validityMs / 2),
    };
    // An invalidation that raced with this read wins: the entry is only cached when no change came in between.
    this.cache.putStatus(entry, epoch);
    return entry;
  }
}
