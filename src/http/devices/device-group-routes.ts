/** Lamassu's device groups (v3.7, RFC-004) at /api/devmanager/v1/device-groups: definitions, members, stats. */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from 'typebox';
import { MAX_GROUP_CRITERIA, type DeviceGroup } from '../../domain/devices/device-group.ts';
import { DEVICE_GROUP_SORT_KEYS } from '../../domain/devices/device-group-repository.ts';
import { DEVICE_FILTER_FIELDS, DEVICE_SORT_ALIASES, DEVICE_SORT_KEYS } from '../../domain/devices/device-repository.ts';
import { ID_MAX_LENGTH } from '../../domain/id-limit.ts';
import type { DeviceGroupInput, DeviceGroupService } from '../../services/devices/device-group-service.ts';
import { actorOf } from '../auth/identity.ts';
import { FilterParam, filtersOf, pageJson, sortByParam, sortKeyOf } from '../list-query.ts';
import { deviceJson } from './device-routes.ts';

const tags = ['device-groups'];
const opt = Type.Optional;
const SortMode = opt(Type.Union([Type.Literal('asc'), Type.Literal('desc')]));
const PageSize = opt(Type.Integer({ minimum: 1, maximum: 1000 }));

const Criterion = Type.Object(
  {
    field: Type.String({ minLength: 1, maxLength: 64, description: 'id, dms_owner, creation_timestamp, status, tags or metadata' }),
    operand: Type.String({ minLength: 1, maxLength: 32, description: "a list filter operator (eq, ne, ct, ct_ic, ...) for the field's type; jsonpath for metadata" }),
    value: Type.String({ maxLength: 1024, description: 'the filter value; for jsonpath: a predicate of the list filter subset, e.g. exists($.a.b) or $.a.b == "x"' }),
  },
  { additionalProperties: false },
);

const GroupBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 256 }),
  description: opt(Type.String({ maxLength: 1024 })),
  parent_id: opt(Type.Union([Type.String({ minLength: 1, maxLength: ID_MAX_LENGTH }), Type.Null()], { description: 'absent or null: a root group' })),
  criteria: opt(Type.Array(Criterion, { maxItems: MAX_GROUP_CRITERIA, description: 'ANDed with each other and with every ancestor group\'s criteria' })),
});

const ListQuery = Type.Object({
  parent_id: opt(Type.String({ maxLength: ID_MAX_LENGTH, description: 'only the children of this group; empty: only root groups' })),
  sort_by: sortByParam(DEVICE_GROUP_SORT_KEYS, {}),
  sort_mode: SortMode,
  page_size: PageSize,
  bookmark: opt(Type.String()),
});

const MembersQuery = Type.Object({
  sort_by: sortByParam(DEVICE_SORT_KEYS, DEVICE_SORT_ALIASES),
  sort_mode: SortMode,
  page_size: PageSize,
  bookmark: opt(Type.String()),
  filter: FilterParam,
});

const IdParams = Type.Object({ id: Type.String() });

export const deviceGroupJson = (g: DeviceGroup) => ({
  id: g.id,
  name: g.name,
  description: g.description,
  parent_id: g.parentId,
  criteria: g.criteria,
  created_at: g.createdAt.toISOString(),
  updated_at: g.updatedAt.toISOString(),
});

const inputOf = (b: Static<typeof GroupBody>): DeviceGroupInput => ({
  name: b.name,
  ...(b.description === undefined ? {} : { description: b.description }),
  parentId: b.parent_id ?? null,
  criteria: b.criteria ?? [],
});

export const deviceGroupRoutes =
  (groups: DeviceGroupService): FastifyPluginAsync =>
  async (scope) => {
    const app = scope.withTypeProvider<TypeBoxTypeProvider>();

    app.post('/device-groups', { config: { access: 'write' }, schema: { tags, summary: 'Create a device group', body: GroupBody } }, async (request, reply) =>
      reply.code(201).send(deviceGroupJson(await groups.create(inputOf(request.body), actorOf(request)))),
    );

    app.get('/device-groups', { config: { access: 'read' }, schema: { tags, summary: 'Device groups, by bookmark pages', querystring: ListQuery } }, async (request) => {
      const q = request.query;
      const page = await groups.list({
        ...(q.parent_id === undefined ? {} : { parentId: q.parent_id === '' ? null : q.parent_id }),
        ...(q.sort_by ? { sortBy: q.sort_by as (typeof DEVICE_GROUP_SORT_KEYS)[number] } : {}),
        ...(q.sort_mode ? { sortMode: q.sort_mode } : {}),
        ...(q.page_size ? { pageSize: q.page_size } : {}),
        ...(q.bookmark ? { bookmark: q.bookmark } : {}),
      });
      return pageJson(page, deviceGroupJson);
    });

    app.get('/device-groups/:id', { config: { access: 'read' }, schema: { tags, summary: 'One device group', params: IdParams } }, async (request) =>
      deviceGroupJson(await groups.get(request.params.id)),
    );

    app.put(
      '/device-groups/:id',
      { config: { access: 'write' }, schema: { tags, summary: 'Replace a device group (name, description, parent, criteria); a cycle is refused', params: IdParams, body: GroupBody } },
      async (request) => deviceGroupJson(await groups.update(request.params.id, inputOf(request.body), actorOf(request))),
    );

    app.delete(
      '/device-groups/:id',
      { config: { access: 'write' }, schema: { tags, summary: 'Delete a device group without child groups (devices are not touched)', params: IdParams } },
      async (request, reply) => {
        await groups.delete(request.params.id, actorOf(request));
        return reply.code(204).send();
      },
    );

    app.get(
      '/device-groups/:id/devices',
      { config: { access: 'read' }, schema: { tags, summary: "The group's devices (its and its ancestors' criteria), by bookmark pages", params: IdParams, querystring: MembersQuery } },
      async (request) => {
        const q = request.query;
        const page = await groups.devices(request.params.id, {
          ...(q.sort_by ? { sortBy: sortKeyOf(q.sort_by, DEVICE_SORT_ALIASES) } : {}),
          ...(q.sort_mode ? { sortMode: q.sort_mode } : {}),
          ...(q.page_size ? { pageSize: q.page_size } : {}),
          ...(q.bookmark ? { bookmark: q.bookmark } : {}),
          ...(q.filter ? { filters: filtersOf(q.filter, DEVICE_FILTER_FIELDS) ?? [] } : {}),
        });
        return pageJson(page, deviceJson);
      },
    );

    app.get(
      '/device-groups/:id/stats',
      { config: { access: 'read' }, schema: { tags, summary: "The group's device count and status distribution", params: IdParams } },
      async (request) => {
        const s = await groups.stats(request.params.id);
        return { total: s.total, status_distribution: s.statusDistribution };
      },
    );
  };
