/**
 * Two caches for OCSP answers, one process each:
 * - status entries per (CA, serial): the encoded certStatus/thisUpdate/nextUpdate, reused by every request
 *   that names the certificate;
 * - whole signed responses of nonce-less requests (RFC 5019), keyed by the request DER. A response is
 *   served only while every status entry it was built from is still the current one, so dropping a status
 *   entry (a revocation, a released hold) retires every response that carried it, with no reverse index.
 * Both are bounded; the oldest entries go first.
 *
 * The cache is only as good as the status events that invalidate it: while those may be lost (the event bus
 * link is down) it is suspended: empty, caching nothing, so every answer reads the current status.
 */
export interface StatusEntry {
  caId: string;
  serial: string;
  /** What the entry says, for /metrics. */
  status: 'good' | 'revoked' | 'unknown';
  /** encodeStatusInfo output. */
  info: Uint8Array;
  thisUpdate: Date;
  nextUpdate: Date;
  /** Epoch ms after which the entry is read again. */
  expiresAt: number;
}

export interface CachedResponse {
  body: Uint8Array;
  etag: string;
  producedAt: Date;
  nextUpdate: Date;
  expiresAt: number;
  entries: readonly StatusEntry[];
}

const statusKey = (caId: string, serial: string) => `${caId}\u0000${serial}`;

export class OcspCache {
  private readonly statuses = new Map<string, StatusEntry>();
  private readonly responses = new Map<string, CachedResponse>();
  /** Counts invalidations, so that a read which raced with one is not cached (see putStatus). */
  private changes = 0;
  private following = true;

  constructor(private readonly maxEntries: number) {}

  status(caId: string, serial: string, now: number): StatusEntry | undefined {
    const e = this.statuses.get(statusKey(caId, serial));
    return e && now < e.expiresAt ? e : undefined;
  }

  /** Stamp to take before reading a status from the CA service. */
  get epoch(): number {
    return this.changes;
  }

  /** Caches `e` unless some status changed since `epoch` was taken (the read may predate that change). */
  putStatus(e: StatusEntry, epoch: number): void {
    if (!this.following || epoch !== this.changes) return;
    bounded(this.statuses, this.maxEntries);
    this.statuses.set(statusKey(e.caId, e.serial), e);
  }

  response(key: string, now: number): CachedResponse | undefined {
    const r = this.responses.get(key);
    if (!r) return undefined;
    if (now >= r.expiresAt || !r.entries.every((e) => this.statuses.get(statusKey(e.caId, e.serial)) === e)) {
      this.responses.delete(key);
      return undefined;
    }
    return r;
  }

  putResponse(key: string, r: CachedResponse): void {
    if (!this.following) return;
    bounded(this.responses, this.maxEntries);
    this.responses.set(key, r);
  }

  /** A certificate's status changed: its entry and every response built on it are gone. */
  invalidate(caId: string, serial: string): void {
    this.changes++;
    this.statuses.delete(statusKey(caId, serial));
  }

  /** Everything of one CA (its settings or responder changed). */
  invalidateCa(caId: string): void {
    this.changes++;
    const prefix = `${caId}\u0000`;
    for (const key of this.statuses.keys()) if (key.startsWith(prefix)) this.statuses.delete(key);
  }

  /** Status events may be missed from now on (bus link down): forget everything, cache nothing. */
  suspend(): void {
    this.following = false;
    this.clear();
  }

  /** Events flow again: start from empty (anything read before this may predate a missed event). */
  resume(): void {
    this.clear();
    this.following = true;
  }

  get suspended(): boolean {
    return !this.following;
  }

  private clear(): void {
    this.changes++;
    this.statuses.clear();
    this.responses.clear();
  }

  get size() {
    return { statuses: this.statuses.size, responses: this.responses.size };
  }
}

/** Makes room for one more entry by dropping the oldest inserted ones (Map keeps insertion order). */
function bounded<K, V>(map: Map<K, V>, max: number): void {
  if (map.size < max) return;
  let drop = Math.max(1, Math.floor(max / 10));
  for (const key of map.keys()) {
    map.delete(key);
    if (--drop === 0) break;
  }
}
