/** Admin API of the device manager: pre-registration, lookups, lists, stats, timeline, decommission. */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from 'typebox';
import { DEVICE_FILTER_FIELDS, DEVICE_SORT_ALIASES, DEVICE_SORT_KEYS } from '../../domain/devices/device-repository.ts';
import { DEVICE_STATUSES, type Device, type DeviceEvent, type SlotCertificate } from '../../domain/devices/device.ts';
import { DEFAULT_SLOT } from '../../domain/dms/dms.ts';
import { ID_MAX_LENGTH } from '../../domain/id-limit.ts';
import type { DeviceService } from '../../services/devices/device-service.ts';
import { actorOf } from '../auth/identity.ts';
import { FilterParam, filtersOf, pageJson, sortByParam, sortKeyOf } from '../list-query.ts';
import { idMetadataRoutes } from '../metadata-body.ts';

const tags = ['devices'];
const literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));
const opt = Type.Optional;

const CreateDeviceBody = Type.Object({
  id: Type.String({ minLength: 1, maxLength: ID_MAX_LENGTH }),
  alias: opt(Type.String({ maxLength: 256 })),
  tags: opt(Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 64 })),
  metadata: opt(Type.Record(Type.String(), Type.Unknown())),
  dms_id: opt(Type.String({ minLength: 1, maxLength: 128 })),
  icon: opt(Type.String({ maxLength: 128, description: "Lamassu console icon name" })),
  icon_color: opt(Type.String({ maxLength: 64, description: 'Lamassu console colours, "#bg-#fg"' })),
});

const ListQuery = Type.Object({
  status: opt(Type.Array(literals(DEVICE_STATUSES))),
  dms_id: opt(Type.String()),
  tags: opt(Type.Array(Type.String())),
  id: opt(Type.String({ description: 'exact, or a prefix ending in *' })),
  created_after: opt(Type.String({ format: 'date-time' })),
  created_before: opt(Type.String({ format: 'date-time' })),
  sort_by: sortByParam(DEVICE_SORT_KEYS, DEVICE_SORT_ALIASES),
  filter: FilterParam,
  sort_mode: opt(literals(['asc', 'desc'] as const)),
  page_size: opt(Type.Integer({ minimum: 1, maximum: 1000 })),
  bookmark: opt(Type.String()),
});

const IdParams = Type.Object({ id: Type.String() });

const slotCertificateJson = (c: SlotCertificate) => ({
  version: c.version,
  serial_number: c.serialNumber,
  issuer_ca_id: c.issuerCaId,
  status: c.status,
  valid_from: c.notBefore.toISOString(),
  valid_to: c.notAfter.toISOString(),
  bound_at: c.boundAt.toISOString(),
  superseded_at: c.supersededAt?.toISOString() ?? null,
});

export function deviceJson(d: Device) {
  const slots = Object.fromEntries(
    d.slots.map((s) => [s.name, { status: s.active.status, active_version: s.active.version, active: slotCertificateJson(s.active), archive: s.archive.map(slotCertificateJson) }]),
  );
  return {
    id: d.id,
    alias: d.alias,
    tags: d.tags,
    metadata: d.metadata,
    dms_owner: d.dmsId,
    icon: d.icon,
    icon_color: d.iconColor,
    status: d.status,
    creation_timestamp: d.createdAt.toISOString(),
    update_timestamp: d.updatedAt.toISOString(),
    /** Lamassu's `identity`: the default slot. */
    identity: slots[DEFAULT_SLOT] ?? null,
    slots,
  };
}

const eventJson = (e: DeviceEvent) => ({ timestamp: e.at.toISOString(), type: e.type, description: e.description, actor: e.actor });

export const deviceRoutes =
  (devices: DeviceService): FastifyPluginAsync =>
  async (scope) => {
    const app = scope.withTypeProvider<TypeBoxTypeProvider>();

    app.get(
      '/stats',
      {
        config: { access: 'read' },
        schema: { tags, summary: 'Device count and status distribution, of the devices matching the list filters (`filter`) if given', querystring: Type.Object({ dms_id: opt(Type.String()), filter: FilterParam }) },
      },
      async (request) => {
        const filters = filtersOf(request.query.filter, DEVICE_FILTER_FIELDS);
        const s = await devices.stats({ ...(request.query.dms_id === undefined ? {} : { dmsId: request.query.dms_id }), ...(filters ? { filters } : {}) });
        return { total: s.total, status_distribution: s.statusDistribution };
      },
    );

    const list = async (q: Static<typeof ListQuery>, dmsId?: string) => {
      const page = await devices.list({
        ...(q.status ? { status: q.status } : {}),
        ...((dmsId ?? q.dms_id) !== undefined ? { dmsId: dmsId ?? q.dms_id } : {}),
        ...(q.tags ? { tags: q.tags } : {}),
        ...(q.id !== undefined ? { id: q.id } : {}),
        ...(q.created_after ? { createdAfter: new Date(q.created_after) } : {}),
        ...(q.created_before ? { createdBefore: new Date(q.created_before) } : {}),
        ...(q.sort_by ? { sortBy: sortKeyOf(q.sort_by, DEVICE_SORT_ALIASES) } : {}),
        filters: filtersOf(q.filter, DEVICE_FILTER_FIELDS),
        ...(q.sort_mode ? { sortMode: q.sort_mode } : {}),
        ...(q.page_size ? { pageSize: q.page_size } : {}),
        ...(q.bookmark ? { bookmark: q.bookmark } : {}),
      });
      return pageJson(page, deviceJson);
    };

    app.get('/devices', { config: { access: 'read' }, schema: { tags, summary: 'Devices, filtered, by bookmark pages', querystring: ListQuery } }, (request) => list(request.query));

    app.get(
      '/devices/dms/:id',
      { config: { access: 'read' }, schema: { tags, summary: 'Devices of one DMS', params: IdParams, querystring: ListQuery } },
      (request) => list(request.query, request.params.id),
    );

    app.post('/devices', { config: { access: 'write' }, schema: { tags, summary: 'Pre-register a device', body: CreateDeviceBody } }, async (request, reply) => {
      const b = request.body;
      const created = await devices.create(
        { id: b.id, ...(b.alias !== undefined ? { alias: b.alias } : {}), ...(b.tags ? { tags: b.tags } : {}), ...(b.metadata ? { metadata: b.metadata } : {}), dmsId: b.dms_id ?? null, ...(b.icon === undefined ? {} : { icon: b.icon }), ...(b.icon_color === undefined ? {} : { iconColor: b.icon_color }) },
        actorOf(request),
      );
      return reply.code(201).send(deviceJson(created));
    });

    app.get('/devices/:id', { config: { access: 'read' }, schema: { tags, summary: 'One device with its slots', params: IdParams } }, async (request) =>
      deviceJson(await devices.get(request.params.id)),
    );

    app.get('/devices/:id/events', { config: { access: 'read' }, schema: { tags, summary: "The device's timeline, oldest first", params: IdParams } }, async (request) => ({
      list: (await devices.timelineOf(request.params.id)).map(eventJson),
    }));

    idMetadataRoutes(scope, {
      url: '/devices/:id/metadata',
      tags,
      params: IdParams,
      change: async (id, change, actor) => deviceJson(await devices.changeMetadata(id, change, actor)),
    });

    app.delete(
      '/devices/:id/decommission',
      { config: { access: 'write' }, schema: { tags, summary: 'Decommission (terminal): revokes every slot certificate', params: IdParams } },
      async (request) => deviceJson(await devices.decommission(request.params.id, actorOf(request))),
    );
  };
