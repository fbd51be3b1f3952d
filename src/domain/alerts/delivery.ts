/** Deliveries: one row per (event, subscription), worked by the delivery loop until delivered or failed. */
import type { ChannelType } from './subscription.ts';

export type DeliveryStatus = 'pending' | 'sending' | 'delivered' | 'failed';

export interface Delivery {
  id: string;
  subscriptionId: string;
  eventId: string;
  eventType: string;
  channelType: ChannelType;
  status: DeliveryStatus;
  attempts: number;
  createdAt: Date;
  nextAttemptAt: Date;
  /** When the last attempt ended (delivered, failed, or to be retried). */
  lastAttemptAt: Date | null;
  lastError: string | null;
}

/** What a channel reports when a send did not go through. */
export class DeliveryError extends Error {
  constructor(
    message: string,
    /** 5xx, timeouts, connection errors, SMTP 4xx: worth another try. 4xx answers and SMTP 5xx: not. */
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** Exponential back-off: base, 2 base, 4 base ... capped. `attempts` counts the attempts made so far. */
export const retryDelayMs = (policy: RetryPolicy, attempts: number): number =>
  Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempts - 1));
