/**
 * Lets enrollments that are ready to issue go to the CA service together. The CA service and the device
 * binding each commit what reaches them in one tick as one transaction; under load on SQLite, where every
 * commit's fsync stalls the event loop, requests otherwise reach them one per tick (each new TLS
 * connection advances one step per loop turn), so every enrollment paid two fsyncs of its own. Holding
 * them for up to `windowMs` lets the others catch up: then one commit pair covers the whole group.
 * An enrollment alone in the service never waits.
 */
export class IssuanceGate {
  private waiting: (() => void)[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Enrollments inside the service (between their start and their result). */
  private active = 0;

  constructor(
    private readonly windowMs: number,
    private readonly maxBatch = 64,
  ) {}

  /** Runs `fn` counted as an enrollment in progress. */
  async track<T>(fn: () => Promise<T>): Promise<T> {
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
    }
  }

  /** Resolves when this enrollment may issue. */
  pass(): Promise<void> {
    if (this.windowMs <= 0 || (this.waiting.length === 0 && this.active <= 1)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.waiting.push(resolve);
      if (this.waiting.length >= this.maxBatch) this.release();
      else this.timer ??= setTimeout(() => this.release(), this.windowMs);
    });
  }

  private release(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const go = this.waiting;
    this.waiting = [];
    for (const resolve of go) resolve();
  }
}
