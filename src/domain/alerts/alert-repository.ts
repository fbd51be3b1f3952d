/** Storage of the alerts service: subscriptions, the events it has seen, the latest per type, deliveries. */
import type { CloudEvent } from '../ports/event-bus.ts';
import type { Delivery } from './delivery.ts';
import type { Subscription } from './subscription.ts';

export interface LatestEvent {
  eventType: string;
  event: CloudEvent;
  seenAt: Date;
  /** How many events of this type the service has seen. */
  count: number;
}

export interface NewDelivery {
  id: string;
  subscriptionId: string;
  eventId: string;
  eventType: string;
  channelType: Subscription['channel']['type'];
  createdAt: Date;
}

export interface AttemptOutcome {
  status: 'delivered' | 'failed' | 'pending';
  /** Attempts made so far, this one included. */
  attempts: number;
  at: Date;
  error: string | null;
  nextAttemptAt?: Date;
}

export interface AlertRepository {
  insertSubscription(s: Subscription): Promise<void>;
  getSubscription(id: string): Promise<Subscription | undefined>;
  /** Every subscription, or one user's; oldest first. */
  listSubscriptions(userId?: string): Promise<Subscription[]>;
  /** Removes the subscription and its deliveries; false when there was none. */
  deleteSubscription(id: string): Promise<boolean>;

  /**
   * Records an event once: false when its id was recorded before (the bus delivers at least once). Only
   * a first sighting moves the latest event of its type and its count.
   */
  recordEvent(event: CloudEvent, seenAt: Date): Promise<boolean>;
  /** `recordEvent` for a batch in a few statements; returns the ids recorded now (not seen before). */
  recordEvents(events: readonly CloudEvent[], seenAt: Date): Promise<Set<string>>;
  getEvent(id: string): Promise<CloudEvent | undefined>;
  /** The recorded events among `ids` (one statement), by id. */
  getEvents(ids: readonly string[]): Promise<Map<string, CloudEvent>>;
  latestEvents(): Promise<LatestEvent[]>;

  /** Inserts pending deliveries; a (event, subscription) pair that already has one is skipped. */
  insertDeliveries(rows: NewDelivery[]): Promise<void>;
  /**
   * Deliveries due at `now`, oldest first: pending ones whose time has come, and claimed ones whose claim ran
   * out. `skip` leaves out subscriptions and channel types the caller has no room for, so a backlog of
   * theirs cannot fill the page and hide everyone else's rows.
   */
  dueDeliveries(now: Date, limit: number, skip?: { subscriptionIds?: string[]; channelTypes?: string[] }): Promise<Delivery[]>;
  /** Takes due deliveries for `worker` until `until` (one statement); returns the ids it got, not those another worker took first. */
  claimDeliveries(ids: string[], worker: string, now: Date, until: Date): Promise<string[]>;
  /** Ends an attempt made under `worker`'s claim: delivered, failed, or pending again at `nextAttemptAt`. */
  finishAttempt(id: string, worker: string, outcome: AttemptOutcome): Promise<void>;
  /** `finishAttempt` for many rows in one statement (each row's own outcome). */
  finishAttempts(worker: string, outcomes: readonly { id: string; outcome: AttemptOutcome }[]): Promise<void>;
  /**
   * Gives back rows `worker` claimed but never sent (it is stopping, or they waited too long for a slot):
   * due again at `now`, their attempt not counted, the last attempt's time and error as they were.
   */
  releaseDeliveries(ids: readonly string[], worker: string, now: Date): Promise<void>;
  /**
   * Forgets what is older than `cutoff`: finished deliveries (delivered, failed) and recorded events that no
   * unfinished delivery needs. The latest event of each type stays. Returns how many rows went.
   */
  prune(cutoff: Date): Promise<{ deliveries: number; events: number }>;
  /** A subscription's deliveries, newest first. */
  listDeliveries(subscriptionId: string, limit: number): Promise<Delivery[]>;
}
