/** What the alerts service needs from the outside: condition evaluation and one notifier per channel type. */
import type { CloudEvent } from '../ports/event-bus.ts';
import type { Channel, Condition, ConditionMode, Subscription } from './subscription.ts';

/** Compiled conditions of one subscription. */
export type EventPredicate = (event: CloudEvent) => boolean;

export interface ConditionCompiler {
  /** Throws a DomainError ALERT_CONDITION_INVALID naming the condition and its fault. */
  compile(conditions: Condition[], mode: ConditionMode): EventPredicate;
}

export interface ChannelNotifier {
  /** Sends one event; throws DeliveryError when it did not go through. */
  send(event: CloudEvent, subscription: Subscription & { channel: Channel }): Promise<void>;
}

export type ChannelNotifiers = Record<Channel['type'], ChannelNotifier | undefined>;
