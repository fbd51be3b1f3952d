/**
 * A fixed number of PKCS#11 sessions, each running one operation at a time (a session holds
 * at most one active sign operation). Callers queue FIFO for a free session. After a failure
 * that killed sessions behind our back, `invalidate()` retires every session opened so far:
 * idle ones at once, busy ones when they come back.
 */
export interface SessionFactory<S> {
  open(): S | Promise<S>;
  /** Best effort: the session may already be gone. */
  close(session: S): void;
}

export interface Lease<S> {
  readonly session: S;
  readonly generation: number;
}

export class SessionPool<S> {
  private readonly idle: Lease<S>[] = [];
  /** A waiter gets a session, a free slot to open one in, or the news that the pool closed. */
  private readonly waiters: ((next: Lease<S> | 'slot' | 'closed') => void)[] = [];
  private opened = 0;
  private generation = 0;
  private closed = false;
  private drained: (() => void) | undefined;

  constructor(
    private readonly factory: SessionFactory<S>,
    readonly size: number,
  ) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`session pool size must be a positive integer, got ${size}`);
  }

  /** Throws when opening a session fails (the slot is then free again) or the pool is closed. */
  async acquire(): Promise<Lease<S>> {
    if (this.closed) throw new Error('session pool is closed');
    const lease = this.idle.pop();
    if (lease) return lease;
    if (this.opened < this.size) {
      this.opened++;
      return this.openInSlot();
    }
    const next = await new Promise<Lease<S> | 'slot' | 'closed'>((resolve) => this.waiters.push(resolve));
    if (next === 'closed') throw new Error('session pool is closed');
    return next === 'slot' ? this.openInSlot() : next;
  }

  /** `broken`: the session must not be used again (it failed in a way that may have killed it). */
  release(lease: Lease<S>, broken = false): void {
    if (broken || this.closed || lease.generation !== this.generation) {
      this.discard(lease);
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter) waiter(lease);
    else this.idle.push(lease);
  }

  invalidate(): void {
    this.generation++;
    for (const lease of this.idle.splice(0)) this.discard(lease);
  }

  /**
   * Closes idle sessions now and busy ones on release; queued callers get an error. Resolves
   * once no session is left, so the library can be finalised without pulling a session out
   * from under a running operation.
   */
  close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) waiter('closed');
    const done = new Promise<void>((resolve) => (this.drained = resolve));
    for (const lease of this.idle.splice(0)) this.discard(lease);
    if (this.opened === 0) this.drained?.();
    return done;
  }

  /** Opens a session in a slot the caller has already counted. */
  private async openInSlot(): Promise<Lease<S>> {
    if (this.closed) {
      this.opened--;
      throw new Error('session pool is closed');
    }
    const generation = this.generation;
    try {
      return { session: await this.factory.open(), generation };
    } catch (e) {
      this.freeSlot();
      throw e;
    }
  }

  private discard(lease: Lease<S>): void {
    this.factory.close(lease.session);
    this.freeSlot();
  }

  /** Hands the slot to the first waiter, who opens a session in it, or frees it. */
  private freeSlot(): void {
    const waiter = this.closed ? undefined : this.waiters.shift();
    if (waiter) waiter('slot');
    else if (--this.opened === 0) this.drained?.();
  }
}
