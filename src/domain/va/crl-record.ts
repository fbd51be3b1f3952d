/** A published CRL of one CA: the full CRL, or the delta CRL on top of it. */
export type CrlKind = 'full' | 'delta';

export interface CrlMeta {
  caId: string;
  kind: CrlKind;
  /** CRL number; full and delta CRLs of a CA share one increasing sequence (RFC 5280 5.2.4). */
  number: number;
  /** For a delta CRL: the number of the full CRL it applies to. */
  baseNumber: number | null;
  thisUpdate: Date;
  nextUpdate: Date;
  /** When the revoked entries started to be read: a delta covers what changed from here on. */
  generatedAt: Date;
}

export interface CrlRecord extends CrlMeta {
  der: Uint8Array;
}

/** A released hold, remembered so that delta CRLs can say removeFromCRL (RFC 5280 5.3.1). */
export interface CrlRemoval {
  caId: string;
  serialNumber: string;
  removedAt: Date;
}

export interface CrlRepository {
  /** The next CRL number of a CA (1, 2, ...), never handed out twice, even to racing replicas. */
  nextNumber(caId: string): Promise<number>;
  /** Stores a CRL unless a higher-numbered one of the same kind is already stored; false then. */
  save(crl: CrlRecord): Promise<boolean>;
  meta(caId: string, kind: CrlKind): Promise<CrlMeta | undefined>;
  get(caId: string, kind: CrlKind): Promise<CrlRecord | undefined>;
  /** Every stored CRL's metadata (the refresh job walks it). */
  listMeta(): Promise<CrlMeta[]>;
  addRemoval(removal: CrlRemoval): Promise<void>;
  /** Removals of `caId` at or after `since`. */
  removalsSince(caId: string, since: Date): Promise<CrlRemoval[]>;
  /** Forgets removals older than `before` (a newer full CRL covers them). */
  pruneRemovals(caId: string, before: Date): Promise<void>;
}
