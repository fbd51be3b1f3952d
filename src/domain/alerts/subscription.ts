/** Alert subscriptions: who wants to hear of which events, under which conditions, through which channel. */
import { invalid } from '../errors.ts';

export const CONDITION_TYPES = ['JSON-PATH', 'JSON-SCHEMA'] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];

export interface Condition {
  type: ConditionType;
  /** A JSONPath expression, or a JSON Schema as JSON text. */
  condition: string;
}

/** `any` (Lamassu's only mode): one matching condition is enough; `all`: every one must match. No conditions: always. */
export type ConditionMode = 'any' | 'all';

export const CHANNEL_TYPES = ['EMAIL', 'WEBHOOK', 'MSTEAMS'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

export const WEBHOOK_METHODS = ['POST', 'PUT', 'PATCH'] as const;
export type WebhookMethod = (typeof WEBHOOK_METHODS)[number];

export type Channel =
  | { type: 'EMAIL'; name: string; config: { email: string } }
  | { type: 'WEBHOOK'; name: string; config: { webhook_url: string; webhook_method: WebhookMethod } }
  | { type: 'MSTEAMS'; name: string; config: { webhook_url: string } };

export interface Subscription {
  id: string;
  userId: string;
  /** An event type or a pattern ("certificate.*", "#"). */
  eventType: string;
  conditions: Condition[];
  conditionMode: ConditionMode;
  channel: Channel;
  /** WEBHOOK only: the HMAC-SHA256 key of the signature header (hex). Shown to the subscriber once. */
  secret: string | null;
  createdAt: Date;
}

/** The caller of the alerts API: users see and change their own subscriptions, admins everyone's. */
export interface AlertsCaller {
  subject: string;
  admin: boolean;
}

const EMAIL = /^[^\s@<>"]+@[^\s@<>"]+\.[^\s@<>"]+$/;

function httpUrl(value: unknown, field: string): string {
  if (typeof value !== 'string') throw invalid('ALERT_CHANNEL_INVALID', `channel.config.${field} is required`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid('ALERT_CHANNEL_INVALID', `channel.config.${field} is not a URL: "${value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid('ALERT_CHANNEL_INVALID', `channel.config.${field} must be an http(s) URL`);
  return value;
}

/** Checks a channel as the API received it and returns it in its stored shape (defaults filled in). */
export function parseChannel(raw: { type: string; name?: string; config: Record<string, unknown> }): Channel {
  const name = raw.name ?? '';
  const c = raw.config;
  switch (raw.type) {
    case 'EMAIL': {
      if (typeof c.email !== 'string' || !EMAIL.test(c.email)) throw invalid('ALERT_CHANNEL_INVALID', 'channel.config.email must be an email address');
      return { type: 'EMAIL', name, config: { email: c.email } };
    }
    case 'WEBHOOK': {
      const method = c.webhook_method === undefined ? 'POST' : String(c.webhook_method).toUpperCase();
      if (!(WEBHOOK_METHODS as readonly string[]).includes(method)) {
        throw invalid('ALERT_CHANNEL_INVALID', `channel.config.webhook_method must be one of ${WEBHOOK_METHODS.join(', ')}`);
      }
      return { type: 'WEBHOOK', name, config: { webhook_url: httpUrl(c.webhook_url, 'webhook_url'), webhook_method: method as WebhookMethod } };
    }
    case 'MSTEAMS':
      return { type: 'MSTEAMS', name, config: { webhook_url: httpUrl(c.webhook_url, 'webhook_url') } };
    default:
      throw invalid('ALERT_CHANNEL_INVALID', `channel.type must be one of ${CHANNEL_TYPES.join(', ')}`);
  }
}
