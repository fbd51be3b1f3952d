/**
 * The alerts API at Lamassu's /api/alerts/v1, plus our delivery log and test send. Subscribing is open
 * to every signed-in role (declared `read`): a viewer manages their own subscriptions, the service checks
 * ownership (users see and change their own, pki-admins everyone's).
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Delivery } from '../../domain/alerts/delivery.ts';
import type { AlertsCaller, Condition, Subscription } from '../../domain/alerts/subscription.ts';
import type { AlertsService } from '../../services/alerts/alerts-service.ts';
import { actorOf } from '../auth/identity.ts';

const tags = ['alerts'];
const opt = Type.Optional;

const ConditionBody = Type.Object({
  type: Type.String({ description: 'JSON-PATH or JSON-SCHEMA' }),
  condition: Type.String({ description: 'a JSONPath expression, or a JSON Schema as JSON text' }),
});

const SubscribeBody = Type.Object({
  event_type: Type.String({ description: 'an event type, or an AMQP-style pattern: "certificate.*" (one word), "certificate.#" (any)' }),
  conditions: opt(Type.Array(ConditionBody)),
  condition_mode: opt(Type.Union([Type.Literal('any'), Type.Literal('all')], { description: 'any (default, as Lamassu) or all' })),
  channel: Type.Object({
    type: Type.String({ description: 'EMAIL, WEBHOOK or MSTEAMS' }),
    name: opt(Type.String({ maxLength: 256 })),
    config: Type.Record(Type.String(), Type.Unknown(), { description: 'EMAIL {email}; WEBHOOK {webhook_url, webhook_method}; MSTEAMS {webhook_url}' }),
  }),
});

const UserParams = Type.Object({ userId: Type.String({ minLength: 1, maxLength: 255 }) });
const UnsubscribeParams = Type.Object({ userId: Type.String({ minLength: 1, maxLength: 255 }), subscriptionId: Type.String() });
const IdParams = Type.Object({ id: Type.String() });

export const subscriptionJson = (s: Subscription) => ({
  id: s.id,
  user_id: s.userId,
  subscription_ts: s.createdAt.toISOString(),
  event_type: s.eventType,
  conditions: s.conditions,
  condition_mode: s.conditionMode,
  channel: s.channel,
});

const deliveryJson = (d: Delivery) => ({
  id: d.id,
  event_id: d.eventId,
  event_type: d.eventType,
  channel_type: d.channelType,
  status: d.status,
  attempts: d.attempts,
  created_at: d.createdAt.toISOString(),
  last_attempt_at: d.lastAttemptAt?.toISOString() ?? null,
  next_attempt_at: d.status === 'pending' ? d.nextAttemptAt.toISOString() : null,
  last_error: d.lastError,
});

const callerOf = (request: FastifyRequest): AlertsCaller => ({ subject: actorOf(request), admin: request.identity?.role === 'pki-admin' });

export const alertsRoutes =
  (alerts: AlertsService): FastifyPluginAsync =>
  async (scope) => {
    const app = scope.withTypeProvider<TypeBoxTypeProvider>();

    app.get('/events/latest', { config: { access: 'read' }, schema: { tags, summary: 'The last event of each type, with how many were seen' } }, async () =>
      (await alerts.latestEvents()).map((l) => ({ event_types: l.eventType, event: l.event, seen_at: l.seenAt.toISOString(), counter: l.count })),
    );

    app.get(
      '/user/:userId/subscriptions',
      { config: { access: 'read' }, schema: { tags, summary: "A user's alert subscriptions", params: UserParams } },
      async (request) => (await alerts.listSubscriptions(callerOf(request), request.params.userId)).map(subscriptionJson),
    );

    app.post(
      '/user/:userId/subscribe',
      {
        config: { access: 'read' },
        schema: {
          tags,
          summary: 'Subscribe to events; a WEBHOOK subscription answers its signing secret here, once',
          params: UserParams,
          body: SubscribeBody,
        },
      },
      async (request, reply) => {
        const b = request.body;
        const s = await alerts.subscribe(callerOf(request), request.params.userId, {
          eventType: b.event_type,
          conditions: (b.conditions ?? []) as Condition[],
          ...(b.condition_mode ? { conditionMode: b.condition_mode } : {}),
          channel: b.channel,
        });
        return reply.code(201).send({ ...subscriptionJson(s), ...(s.secret ? { webhook_secret: s.secret } : {}) });
      },
    );

    app.post(
      '/user/:userId/unsubscribe/:subscriptionId',
      { config: { access: 'read' }, schema: { tags, summary: 'Remove a subscription and its delivery log; answers the remaining ones', params: UnsubscribeParams } },
      async (request) => {
        const caller = callerOf(request);
        await alerts.unsubscribe(caller, request.params.userId, request.params.subscriptionId);
        return (await alerts.listSubscriptions(caller, request.params.userId)).map(subscriptionJson);
      },
    );

    app.get(
      '/subscriptions/:id/deliveries',
      {
        config: { access: 'read' },
        schema: {
          tags,
          summary: "A subscription's delivery log, newest first",
          params: IdParams,
          querystring: Type.Object({ page_size: opt(Type.Integer({ minimum: 1, maximum: 1000 })) }),
        },
      },
      async (request) => ({ list: (await alerts.deliveries(callerOf(request), request.params.id, request.query.page_size ?? 100)).map(deliveryJson) }),
    );

    app.post(
      '/subscriptions/:id/test',
      { config: { access: 'read' }, schema: { tags, summary: "Send a sample event through the subscription's channel now", params: IdParams } },
      async (request) => alerts.test(callerOf(request), request.params.id),
    );
  };
