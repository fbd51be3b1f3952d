/**
 * The `alerts` service: Lamassu's /api/alerts/v1, a bus consumer (group "alerts", every event type) that
 * records events and queues deliveries, and the delivery loop that sends them by email, webhook and Teams.
 */
import { EventConditionCompiler } from '../../engines/conditions/event-conditions.ts';
import { loadEmailTemplates } from '../../engines/notify/email-templates.ts';
import { MsTeamsNotifier } from '../../engines/notify/ms-teams-notifier.ts';
import { SmtpNotifier } from '../../engines/notify/smtp-notifier.ts';
import { WebhookNotifier } from '../../engines/notify/webhook-notifier.ts';
import type { AlertsConfig, Config } from '../../config/config-schema.ts';
import { AlertsService, type AlertsServiceDeps } from '../../services/alerts/alerts-service.ts';
import { DeliveryLoop } from '../../services/alerts/delivery-loop.ts';
import { adminApiScope } from '../auth/admin-auth.ts';
import { createOidcVerifier } from '../auth/oidc-verifier.ts';
import type { ServiceDeps, ServicePluginFactory } from '../service-plugin.ts';
import { alertsRoutes } from './alerts-routes.ts';

export const ALERTS_API_PREFIX = '/api/alerts/v1';

const DEFAULTS: AlertsConfig = { maxAttempts: 8, retryBaseMs: 5000, retryMaxMs: 3_600_000, sendTimeoutMs: 10_000, retentionMs: 30 * 86_400_000 };
/** Connections to the SMTP server; more sends wait in nodemailer's pool (mail servers limit connections per client). */
const SMTP_CONNECTIONS = 4;
/**
 * Sends in flight at once per channel type, and per subscription (so one dead endpoint cannot take every slot).
 * Email: two per pooled connection, so a send never waits in nodemailer's queue long enough for its claim to run out.
 */
const PER_CHANNEL = { WEBHOOK: 256, MSTEAMS: 256, EMAIL: 2 * SMTP_CONNECTIONS };
const PER_SUBSCRIPTION = 16;

/** The alerts service and its delivery loop over the given storage and bus, with the configured channels; started. */
export async function startAlerts(
  deps: Pick<ServiceDeps, 'storage' | 'events' | 'clock' | 'random' | 'logger'> & { config: Pick<Config, 'alerts'> },
  opts: { pollMs?: number; pruneEveryMs?: number } = {},
) {
  const settings = deps.config.alerts ?? DEFAULTS;
  const timeoutMs = settings.sendTimeoutMs;
  const smtp = settings.smtp && new SmtpNotifier(settings.smtp, await loadEmailTemplates(settings.templatesDir), { timeoutMs, maxConnections: SMTP_CONNECTIONS });
  const notifiers = { EMAIL: smtp, WEBHOOK: new WebhookNotifier({ timeoutMs }), MSTEAMS: new MsTeamsNotifier({ timeoutMs }) };
  const transaction: AlertsServiceDeps['transaction'] = (fn) => deps.storage.transaction((tx) => fn(tx.alerts));
  const loop = new DeliveryLoop({
    alerts: deps.storage.alerts,
    transaction,
    notifiers,
    clock: deps.clock,
    logger: deps.logger.child({ service: 'alerts' }),
    worker: deps.random.uuid(),
    retry: { maxAttempts: settings.maxAttempts, baseDelayMs: settings.retryBaseMs, maxDelayMs: settings.retryMaxMs },
    // A send takes at most the timeout (SMTP: connection, greeting and socket each); past that the worker is gone.
    claimMs: 3 * timeoutMs + 30_000,
    pollMs: opts.pollMs ?? 500,
    retentionMs: settings.retentionMs,
    pruneEveryMs: opts.pruneEveryMs ?? 3_600_000,
    perChannel: PER_CHANNEL,
    perSubscription: PER_SUBSCRIPTION,
  });
  const alerts = new AlertsService({
    alerts: deps.storage.alerts,
    transaction,
    conditions: new EventConditionCompiler(),
    notifiers,
    clock: deps.clock,
    random: deps.random,
    logger: deps.logger,
    onDeliveriesAdded: () => loop.wake(),
  });
  const unfollow = await alerts.follow(deps.events);
  loop.start();
  return {
    alerts,
    loop,
    async close() {
      await unfollow();
      await loop.stop();
      smtp?.close();
    },
  };
}

export const alertsServicePlugin: ServicePluginFactory = async (deps) => {
  // Consumer, delivery loop and the (low-volume) alerts API on the background pool.
  const { alerts, close } = await startAlerts({ ...deps, storage: deps.backgroundStorage ?? deps.storage });
  const auth = { adminTokens: deps.storage.adminTokens, ...(deps.config.oidc ? { oidc: createOidcVerifier(deps.config.oidc) } : {}) };
  return {
    name: 'alerts',
    https: async (app) => {
      await app.register(adminApiScope(auth, [alertsRoutes(alerts)]), { prefix: ALERTS_API_PREFIX });
    },
    close,
  };
};
