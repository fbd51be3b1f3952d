/**
 * `GET /health` and `GET /metrics` on the plain-HTTP listener, for load balancers and Prometheus.
 * Every dependency check has a deadline, so a hung database makes /health answer 503, not hang.
 */
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { systemClock, type Clock } from '../domain/ports/clock.ts';
import type { KeyEngineHealth } from '../domain/ports/key-engine.ts';
import type { OutboxBacklog } from '../domain/ports/outbox.ts';
import type { EventBusStatus, HttpMetrics } from './metrics.ts';

export interface HealthChecks {
  /** Resolves when the database answers (Storage.ping). */
  database(): Promise<void>;
  keyEngines: { id: string; health(): Promise<KeyEngineHealth> }[];
  /** The message broker link, when the bus has one (RabbitMQ). */
  eventBus?: () => Pick<EventBusStatus, 'connected'>;
  /** Events written and not yet relayed to the bus (the transactional outbox). */
  outbox?: () => Promise<OutboxBacklog>;
  /** For the age of the oldest outbox row. */
  clock?: Clock;
}

const CHECK_TIMEOUT_MS = 3000;

const Check = Type.Object({ ok: Type.Boolean(), detail: Type.Optional(Type.String()) });
const HealthBody = Type.Object({
  /**
   * degraded (still 200): only the message broker is away. The replica serves correctly without it (caches
   * that follow events read the database, events wait in a buffer), and every replica would lose it at once,
   * so a load balancer must not take them all out of service.
   */
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('down')]),
  database: Check,
  eventBus: Type.Optional(Check),
  /** Events waiting in the outbox for the relay: how many, and how long the oldest has waited. */
  outbox: Type.Optional(Type.Object({ ok: Type.Boolean(), backlog: Type.Integer(), oldestAgeMs: Type.Integer(), detail: Type.Optional(Type.String()) })),
  keyEngines: Type.Array(Type.Object({ id: Type.String(), ok: Type.Boolean(), detail: Type.Optional(Type.String()) })),
});

async function withDeadline<T>(work: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([work(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** A backlog older than this means events are not getting out (bus away, relay failing): degraded, not down. */
const OUTBOX_STALE_MS = 30_000;

async function outboxCheck(backlog: () => Promise<OutboxBacklog>, clock: Clock | undefined, log: { warn: (o: object, m: string) => void }) {
  try {
    const b = await withDeadline(backlog);
    const oldestAgeMs = b.oldestCreatedAt === null ? 0 : Math.max(0, (clock ?? systemClock).now().getTime() - b.oldestCreatedAt);
    const ok = oldestAgeMs <= OUTBOX_STALE_MS;
    return { ok, backlog: b.count, oldestAgeMs, ...(ok ? {} : { detail: 'events wait in the outbox; they are relayed once the event bus takes them' }) };
  } catch (err) {
    log.warn({ err }, 'health: outbox backlog check failed');
    return { ok: false, backlog: 0, oldestAgeMs: 0, detail: 'outbox backlog unknown' };
  }
}

export const healthRoutes =
  (checks: HealthChecks, metrics: HttpMetrics): FastifyPluginAsync =>
  async (app) => {
    app.get(
      '/health',
      { schema: { hide: true, response: { 200: HealthBody, 503: HealthBody } } },
      async (request, reply) => {
        // Failure details stay in the log: this listener is public.
        const database = await withDeadline(checks.database).then(
          () => ({ ok: true }),
          (err: unknown) => {
            request.log.warn({ err }, 'health: database check failed');
            return { ok: false, detail: 'database unreachable' };
          },
        );
        const keyEngines = await Promise.all(
          checks.keyEngines.map(async (engine) => {
            const h = await withDeadline(() => engine.health()).catch((err: unknown): KeyEngineHealth => {
              request.log.warn({ err, engine: engine.id }, 'health: key engine check failed');
              return { ok: false, detail: 'health check failed' };
            });
            return { id: engine.id, ok: h.ok, ...(h.detail ? { detail: h.detail } : {}) };
          }),
        );
        const up = database.ok && keyEngines.every((e) => e.ok);
        const eventBus = checks.eventBus && (checks.eventBus().connected ? { ok: true } : { ok: false, detail: 'message broker unreachable; reconnecting' });
        const outbox = checks.outbox && database.ok ? await outboxCheck(checks.outbox, checks.clock, request.log) : undefined;
        const degraded = (eventBus && !eventBus.ok) || (outbox && !outbox.ok);
        const status = !up ? 'down' : degraded ? 'degraded' : 'ok';
        return reply.code(up ? 200 : 503).send({ status, database, ...(eventBus ? { eventBus } : {}), ...(outbox ? { outbox } : {}), keyEngines });
      },
    );

    app.get('/metrics', { schema: { hide: true } }, async (_request, reply) =>
      reply.type(metrics.contentType()).send(await metrics.text()),
    );
  };
