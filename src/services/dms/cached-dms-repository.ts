import type { Page } from '../../domain/ca/page.ts';
import type { DmsQuery, DmsRepository } from '../../domain/dms/dms-repository.ts';
import type { Dms } from '../../domain/dms/dms.ts';
import type { Clock } from '../../domain/ports/clock.ts';
import type { EventBus } from '../../domain/ports/event-bus.ts';
import type { Storage } from '../../domain/ports/storage.ts';

/** How long a DMS read is trusted: what another replica's DMS change may take to show here. */
export const DMS_CACHE_TTL_MS = 1000;

/** Labels come from requests: bound what unknown ones can make us remember. */
const MAX_ENTRIES = 1024;

interface Entry {
  dms: Dms | undefined;
  loadedAt: number;
}

/**
 * The DMS repository with reads remembered for `ttlMs`, so enrollment does not read and decode the DMS
 * and its settings for every request. Writes through this repository (the DMS manager's) drop every
 * remembered read at once; writes by other replicas when their `dms.*` event arrives (`follow`), and after
 * at most `ttlMs` if it never does. A read that raced a write is not remembered.
 */
export class CachedDmsRepository implements DmsRepository {
  private readonly byId = new Map<string, Entry>();
  private readonly bySerial = new Map<string, Entry>();
  private generation = 0;
  /** False while DMS events may be lost (bus link down): nothing is remembered then. */
  private following = true;

  constructor(
    private readonly inner: DmsRepository,
    private readonly clock: Clock,
    private readonly ttlMs = DMS_CACHE_TTL_MS,
  ) {}

  get(id: string): Promise<Dms | undefined> {
    return this.remembered(this.byId, id, () => this.inner.get(id));
  }

  findByCertificateSerial(serialNumber: string): Promise<Dms | undefined> {
    return this.remembered(this.bySerial, serialNumber, () => this.inner.findByCertificateSerial(serialNumber));
  }

  list(query: DmsQuery): Promise<Page<Dms>> {
    return this.inner.list(query);
  }

  count(filters?: Parameters<DmsRepository['count']>[0]): Promise<number> {
    return this.inner.count(filters);
  }

  insert(dms: Dms): Promise<void> {
    return this.written(this.inner.insert(dms));
  }

  update(dms: Dms): Promise<boolean> {
    return this.written(this.inner.update(dms));
  }

  delete(id: string): Promise<boolean> {
    return this.written(this.inner.delete(id));
  }

  /**
   * Forgets everything on every event of a DMS change (`types`; not enrollments, which change no DMS), this
   * process's own copy of each; returns the unsubscribe function.
   */
  async follow(bus: EventBus, group: string, types: readonly string[]): Promise<() => Promise<void>> {
    const stops: (() => Promise<void>)[] = [];
    const stopLink = bus.onLinkChange?.((up) => {
      this.following = up;
      this.forget();
    });
    if (stopLink) stops.push(async () => stopLink());
    for (const type of types) stops.push(await bus.subscribe(type, group, () => this.forget(), { broadcast: true }));
    return async () => {
      for (const stop of stops) await stop();
    };
  }

  private async remembered(map: Map<string, Entry>, key: string, load: () => Promise<Dms | undefined>): Promise<Dms | undefined> {
    const now = this.clock.now().getTime();
    const hit = map.get(key);
    if (hit && now - hit.loadedAt < this.ttlMs && now >= hit.loadedAt) return hit.dms;
    const generation = this.generation;
    const dms = await load();
    if (generation === this.generation && this.following) {
      if (map.size >= MAX_ENTRIES) map.clear();
      map.set(key, { dms, loadedAt: now });
    }
    return dms;
  }

  /** Drops every remembered read before and after `write` (a write through this repository or a transaction). */
  async written<T>(write: Promise<T>): Promise<T> {
    this.forget();
    try {
      return await write;
    } finally {
      this.forget();
    }
  }

  private forget(): void {
    this.generation++;
    this.byId.clear();
    this.bySerial.clear();
  }
}

/**
 * `storage` whose DMS repository is cached; DMS manager and enrollment must share the result. A transaction
 * (DMS writes go in one with their outbox rows) drops the cache like a write through it.
 */
export function withCachedDms(storage: Storage, clock: Clock, ttlMs = DMS_CACHE_TTL_MS): Storage & { dms: CachedDmsRepository } {
  const dms = new CachedDmsRepository(storage.dms, clock, ttlMs);
  return { ...storage, dms, transaction: (fn) => dms.written(storage.transaction(fn)) };
}
