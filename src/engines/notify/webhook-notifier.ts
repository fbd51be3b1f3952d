/**
 * WEBHOOK channel: the CloudEvent in structured mode (RFC: CloudEvents JSON format) to the subscriber's URL,
 * signed with the subscription's secret so the receiver can tell it came from us and was not changed:
 *   X-Lamassu-Timestamp: <unix seconds>
 *   X-Lamassu-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>
 */
import { createHmac } from 'node:crypto';
import type { ChannelNotifier } from '../../domain/alerts/ports.ts';
import type { Subscription } from '../../domain/alerts/subscription.ts';
import type { CloudEvent } from '../../domain/ports/event-bus.ts';
import { sendHttp } from './http-post.ts';

export const SIGNATURE_HEADER = 'x-lamassu-signature';
export const TIMESTAMP_HEADER = 'x-lamassu-timestamp';

export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', Buffer.from(secret, 'hex')).update(`${timestamp}.${body}`).digest('hex')}`;
}

export class WebhookNotifier implements ChannelNotifier {
  constructor(private readonly opts: { timeoutMs: number; now?: () => number }) {}

  async send(event: CloudEvent, subscription: Subscription): Promise<void> {
    const { channel } = subscription;
    if (channel.type !== 'WEBHOOK') throw new Error(`not a webhook subscription: ${subscription.id}`);
    const body = JSON.stringify(event);
    const timestamp = String(Math.floor((this.opts.now?.() ?? Date.now()) / 1000));
    const headers: Record<string, string> = {
      'content-type': 'application/cloudevents+json; charset=utf-8',
      [TIMESTAMP_HEADER]: timestamp,
    };
    if (subscription.secret) headers[SIGNATURE_HEADER] = webhookSignature(subscription.secret, timestamp, body);
    await sendHttp(channel.config.webhook_url, { method: channel.config.webhook_method, headers, body }, this.opts.timeoutMs);
  }
}
