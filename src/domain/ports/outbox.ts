import type { CloudEvent } from './event-bus.ts';

/** An event waiting in the outbox, with its place in the write order. */
export interface OutboxEntry {
  seq: number;
  event: CloudEvent;
}

/** How far the relay is behind: rows waiting and the age of the oldest. */
export interface OutboxBacklog {
  count: number;
  /** Epoch ms of the oldest waiting row; null when none waits. */
  oldestCreatedAt: number | null;
}

/**
 * The transactional outbox. A service appends the events of a change inside the transaction that makes
 * the change (`tx.outbox.append`), so they commit or vanish with it; the relay reads them in write order and
 * deletes them once the bus has confirmed them.
 */
export interface OutboxRepository {
  /** One statement for the batch; `now` is when they were written (for the backlog's age). */
  append(events: readonly CloudEvent[], now?: Date): Promise<void>;
  /** The oldest `limit` rows, in write order, leaving out `except` (rows already in flight). */
  oldest(limit: number, except?: readonly number[]): Promise<OutboxEntry[]>;
  /** Removes exactly these rows (never a range: a row with a lower seq may commit later on PostgreSQL). */
  remove(seqs: readonly number[]): Promise<void>;
  backlog(): Promise<OutboxBacklog>;
}
