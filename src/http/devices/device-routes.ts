/** Admin API of the device manager: pre-registration, lookups, lists, stats, timeline, identity slot, decommission, deletion. */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from 'typebox';
import { DEVICE_FILTER_FIELDS, DEVICE_SORT_ALIASES, DEVICE_SORT_KEYS } from '../../domain/devices/device-repository.ts';
import { DEVICE_STATUSES, type Device, type DeviceEvent, type Slot, type SlotCertificate } from '../../domain/devices/device.ts';
import { isSlotBinding, LAMASSU_SLOT_STATUSES, lamassuEventsMap, lamassuSlotStatusOf, slotVersions } from '../../domain/devices/lamassu-slot.ts';
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

/**
 * A slot in our shape (`active`, `archive`) and Lamassu's (`status`, `active_version`, `type`, `versions`,
 * `expiration_date`, and `events` when the device's timeline is at hand).
 */
function slotJson(s: Slot, timeline: readonly DeviceEvent[] | undefined) {
  return {
    status: lamassuSlotStatusOf(s.active),
    active_version: s.active.version,
    type: 'x509',
    versions: slotVersions(s),
    expiration_date: s.active.notAfter.toISOString(),
    ...(timeline ? { events: lamassuEventsMap(timeline.filter((e) => isSlotBinding(e, s.name))) } : {}),
    active: slotCertificateJson(s.active),
    archive: s.archive.map(slotCertificateJson),
  };
}

/** `timeline` (single-device answers): adds Lamassu's `events` maps to the device and its slots. */
export function deviceJson(d: Device, timeline?: readonly DeviceEvent[]) {
  const slots = Object.fromEntries(d.slots.map((s) => [s.name, slotJson(s, timeline)]));
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
    ...(timeline ? { events: lamassuEventsMap(timeline) } : {}),
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
      return pageJson(page, (d) => deviceJson(d));
    };

    /** One device with its timeline, as single-device answers carry it. */
    const full = async (id: string) => {
      const { device, timeline } = await devices.getWithTimeline(id);
      return deviceJson(device, timeline);
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
      return reply.code(201).send(await full(created.id));
    });


    app.get('/devices/:id', { config: { access: 'read' }, schema: { tags, summary: "One device with its slots and Lamassu's events map", params: IdParams } }, async (request) =>
      full(request.params.id),
    );

    app.put(
      '/devices/:id/idslot',
      {
        config: { access: 'write' },
        schema: {
          tags,
          summary: "Update the identity slot (Lamassu's Slot): bind a new version, or set REVOKED",
          description:
            'The slot follows its certificates: `versions` must keep every version it has, and may add the next one with the serial of a certificate ' +
            'the CA service knows (bound as the active identity); `active_version` must be the newest; `status` REVOKED revokes the active certificate, ' +
            'any other status must be the one the certificate gives. `type` is x509; `events` and `expiration_date` are derived and ignored.',
          params: IdParams,
          body: Type.Object({
            status: opt(literals(LAMASSU_SLOT_STATUSES)),
            active_version: opt(Type.Integer({ minimum: 0 })),
            type: opt(Type.String({ maxLength: 16 })),
            versions: opt(Type.Record(Type.String({ pattern: '^[0-9]{1,9}$' }), Type.String({ minLength: 1, maxLength: 64 }), { maxProperties: 10_000 })),
            expiration_date: opt(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
            events: opt(Type.Unknown()),
          }),
        },
      },
      async (request) => {
        const b = request.body;
        await devices.updateIdentitySlot(
          {
            deviceId: request.params.id,
            ...(b.status === undefined ? {} : { status: b.status }),
            ...(b.active_version === undefined ? {} : { activeVersion: b.active_version }),
            ...(b.type === undefined ? {} : { type: b.type }),
            ...(b.versions === undefined ? {} : { versions: Object.fromEntries(Object.entries(b.versions).map(([k, v]) => [Number(k), v])) }),
          },
          actorOf(request),
        );
        return full(request.params.id);
      },
    );

    app.get('/devices/:id/events', { config: { access: 'read' }, schema: { tags, summary: "The device's timeline, oldest first", params: IdParams } }, async (request) => ({
      list: (await devices.timelineOf(request.params.id)).map(eventJson),
    }));

    idMetadataRoutes(scope, {
      url: '/devices/:id/metadata',
      tags,
      params: IdParams,
      change: async (id, change, actor) => {
        await devices.changeMetadata(id, change, actor);
        return full(id);
      },
    });

    app.delete(
      '/devices/:id',
      { config: { access: 'write' }, schema: { tags, summary: 'Delete a decommissioned device with its slots and timeline (Lamassu); 409 DEVICE_NOT_DECOMMISSIONED otherwise', params: IdParams } },
      async (request, reply) => {
        await devices.delete(request.params.id, actorOf(request));
        return reply.code(204).send();
      },
    );

    app.delete(
      '/devices/:id/decommission',
      { config: { access: 'write' }, schema: { tags, summary: 'Decommission (terminal): revokes every slot certificate', params: IdParams } },
      async (request) => {
        await devices.decommission(request.params.id, actorOf(request));
        return full(request.params.id);
      },
    );
  };
