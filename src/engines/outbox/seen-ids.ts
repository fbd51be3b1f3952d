/**
 * A bounded window of event ids a consumer has handled, oldest forgotten first. The outbox relays at least
 * once, so a consumer may get an event again (a relay that died after the broker took a batch but before it
 * deleted the rows, a redelivery after a lost ack); within the window it is handled once.
 */
export class SeenIds {
  private readonly ids = new Set<string>();

  constructor(private readonly capacity = 10_000) {}

  has(id: string): boolean {
    return this.ids.has(id);
  }

  add(id: string): void {
    if (this.ids.has(id)) return;
    this.ids.add(id);
    // A Set iterates in insertion order: the first is the oldest.
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.values().next().value!);
  }

  delete(id: string): void {
    this.ids.delete(id);
  }
}
