/**
 * The cloud proxy API at /api/cloudproxy/v1: the registered connectors, their configuration, synchronization,
 * and what a connector knows of a device (read from the cloud now when it runs in this process).
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import type { CloudResource, Connector, ConnectorJob } from '../../domain/cloud/connector.ts';
import type { CloudProxyService } from '../../services/cloudproxy/cloud-proxy-service.ts';
import { actorOf } from '../auth/identity.ts';

const tags = ['cloudproxy'];
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
const DeviceParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }), deviceId: Type.String({ minLength: 1, maxLength: 128 }) });
const JobParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }), jobId: Type.String({ minLength: 1, maxLength: 128 }) });
const SyncQuery = Type.Object({
  wait: Type.Optional(Type.Integer({ minimum: 0, maximum: 120, description: 'seconds to wait for the synchronization to finish (200 with its result); 202 when it has not finished by then' })),
});

export const connectorJson = (c: Connector) => ({
  id: c.id,
  type: c.type,
  status: c.status,
  status_detail: c.statusDetail,
  config: c.config,
  settings: c.settings,
  registered_at: c.registeredAt.toISOString(),
  last_seen_at: c.lastSeenAt.toISOString(),
  last_sync_at: c.lastSyncAt?.toISOString() ?? null,
  backlog: c.backlog,
  failed: c.failed,
});

export const jobJson = (j: ConnectorJob) => ({
  id: j.id,
  kind: j.kind,
  key: j.key,
  device_id: j.deviceId,
  event_id: j.eventId,
  status: j.status,
  attempts: j.attempts,
  progress: j.progress,
  created_at: j.createdAt.toISOString(),
  next_attempt_at: j.status === 'PENDING' ? j.nextAttemptAt.toISOString() : null,
  finished_at: j.finishedAt?.toISOString() ?? null,
  last_error: j.lastError,
  result: j.result,
});

const resourceJson = (r: CloudResource) => ({
  kind: r.kind,
  key: r.key,
  cloud_id: r.cloudId,
  arn: r.arn,
  thing_name: r.thingName,
  status: r.status,
  details: r.details,
  updated_at: r.updatedAt.toISOString(),
  recheck_at: r.recheckAt?.toISOString() ?? null,
});

export const cloudProxyRoutes =
  (proxy: CloudProxyService): FastifyPluginAsync =>
  async (scope) => {
    const app = scope.withTypeProvider<TypeBoxTypeProvider>();

    app.get('/connectors', { config: { access: 'read' }, schema: { tags, summary: 'The registered cloud connectors: status, last synchronization, backlog' } }, async () =>
      (await proxy.list()).map(connectorJson),
    );

    app.get('/connectors/:id', { config: { access: 'read' }, schema: { tags, summary: 'One cloud connector', params: IdParams } }, async (request) =>
      connectorJson(await proxy.get(request.params.id)),
    );

    app.put(
      '/connectors/:id/config',
      {
        config: { access: 'write' },
        schema: {
          tags,
          summary: "Replace a connector's configuration",
          params: IdParams,
          body: Type.Object(
            {
              enabled: Type.Optional(Type.Boolean({ description: 'false pauses the connector: events still queue work, nothing goes to the cloud' })),
              shadow_name: Type.Optional(Type.String({ description: 'the named shadow used to ask devices to re-enroll (default "lamassu")' })),
            },
            { description: 'unknown settings are refused (CONNECTOR_CONFIG_INVALID)' },
          ),
        },
      },
      async (request) => connectorJson(await proxy.setConfig(request.params.id, request.body)),
    );

    app.post(
      '/connectors/:id/synchronize',
      {
        config: { access: 'write' },
        schema: {
          tags,
          summary: "Queue a synchronization: CAs, then certificates and devices, compared with the cloud and repaired; answers the job (its result counts what was checked and repaired)",
          params: IdParams,
          querystring: SyncQuery,
        },
      },
      async (request, reply) => {
        const job = await proxy.synchronize(request.params.id, actorOf(request), (request.query.wait ?? 0) * 1000);
        return reply.code(job.status === 'PENDING' ? 202 : 200).send(jobJson(job));
      },
    );

    app.get('/connectors/:id/jobs/:jobId', { config: { access: 'read' }, schema: { tags, summary: "One of a connector's jobs: its status, steps done, last error and result", params: JobParams } }, async (request) =>
      jobJson(await proxy.job(request.params.id, request.params.jobId)),
    );

    app.get(
      '/connectors/:id/devices/:deviceId',
      { config: { access: 'read' }, schema: { tags, summary: "A device's state in the connector's cloud: what was made there, the latest jobs, and a live read", params: DeviceParams } },
      async (request) => {
        const s = await proxy.deviceState(request.params.id, request.params.deviceId);
        return {
          connector_id: s.connectorId,
          device_id: s.deviceId,
          resources: s.resources.map(resourceJson),
          jobs: s.jobs.map(jobJson),
          live: s.live,
          live_error: s.liveError,
        };
      },
    );

    app.post(
      '/connectors/:id/devices/:deviceId/reenroll',
      { config: { access: 'write' }, schema: { tags, summary: "Ask the device to re-enroll through its cloud shadow (Lamassu's identity_actions.UPDATE_CERTIFICATE); answers the job", params: DeviceParams } },
      async (request, reply) => reply.code(202).send(jobJson(await proxy.requestReenroll(request.params.id, request.params.deviceId, actorOf(request)))),
    );
  };
