/**
 * MSTEAMS channel: an Adaptive Card with the event's facts, in the message envelope that Teams incoming
 * webhooks and Power Automate "post to a channel" workflows accept.
 */
import { eventFacts } from '../../domain/alerts/event-facts.ts';
import type { ChannelNotifier } from '../../domain/alerts/ports.ts';
import type { Subscription } from '../../domain/alerts/subscription.ts';
import type { CloudEvent } from '../../domain/ports/event-bus.ts';
import { sendHttp } from './http-post.ts';

export function teamsCard(event: CloudEvent, subscription: Pick<Subscription, 'channel'>) {
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body: [
            { type: 'TextBlock', size: 'Medium', weight: 'Bolder', wrap: true, text: `Lamassu Event: ${event.type}` },
            ...(subscription.channel.name ? [{ type: 'TextBlock', isSubtle: true, wrap: true, spacing: 'None', text: subscription.channel.name }] : []),
            { type: 'FactSet', facts: eventFacts(event).map(([title, value]) => ({ title, value })) },
          ],
        },
      },
    ],
  };
}

export class MsTeamsNotifier implements ChannelNotifier {
  constructor(private readonly opts: { timeoutMs: number }) {}

  async send(event: CloudEvent, subscription: Subscription): Promise<void> {
    const { channel } = subscription;
    if (channel.type !== 'MSTEAMS') throw new Error(`not a Teams subscription: ${subscription.id}`);
    const body = JSON.stringify(teamsCard(event, subscription));
    await sendHttp(channel.config.webhook_url, { method: 'POST', headers: { 'content-type': 'application/json' }, body }, this.opts.timeoutMs);
  }
}
