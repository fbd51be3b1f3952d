/** Every status decision takes "now" from here, so tests can move time without sleeping. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock tests can set and advance. */
export class ManualClock implements Clock {
  private current: number;
  constructor(start: Date | number = Date.UTC(2026, 0, 1)) {
    this.current = typeof start === 'number' ? start : start.getTime();
  }
  now(): Date {
    return new Date(this.current);
  }
  set(t: Date | number): void {
    this.current = typeof t === 'number' ? t : t.getTime();
  }
  advance(ms: number): void {
    this.current += ms;
  }
}
