/**
 * Device groups (RFC-004): CRUD of group definitions, and their members and statistics, which the
 * database computes from the criteria of the group and its ancestors (DeviceRepository.list/countByStatus):
 * no device is ever loaded to decide membership.
 */
import type { Page } from '../../domain/ca/page.ts';
import { DEVICE_STATUSES, type Device, type DeviceStatus } from '../../domain/devices/device.ts';
import { checkCriteria, checkGroupName, checkParent, conditionsOf, MAX_GROUP_DEPTH, type DeviceGroup, type GroupCriterion } from '../../domain/devices/device-group.ts';
import type { DeviceGroupQuery } from '../../domain/devices/device-group-repository.ts';
import type { DeviceQuery } from '../../domain/devices/device-repository.ts';
import { invalid, notFound } from '../../domain/errors.ts';
import { newEvent } from '../../domain/events.ts';
import type { Clock } from '../../domain/ports/clock.ts';
import type { CloudEvent, EventBus } from '../../domain/ports/event-bus.ts';
import type { RandomSource } from '../../domain/ports/id-generator.ts';
import type { Logger } from '../../domain/ports/logger.ts';
import type { Repositories, Storage } from '../../domain/ports/storage.ts';
import { DEVICE_EVENT_SOURCE, type DeviceStats } from './device-service.ts';

export const DeviceGroupCloudEvent = { create: 'device-group.create', update: 'device-group.update', delete: 'device-group.delete' } as const;

export interface DeviceGroupServiceDeps {
  storage: Storage;
  events: EventBus;
  clock: Clock;
  random: RandomSource;
  logger: Logger;
}

export interface DeviceGroupInput {
  name: string;
  description?: string;
  parentId?: string | null;
  criteria?: GroupCriterion[];
}

/** Paging and sorting of a group's members; the group's criteria do the filtering. */
export type GroupMembersQuery = Pick<DeviceQuery, 'sortBy' | 'sortMode' | 'pageSize' | 'bookmark' | 'filters'>;

export const deviceGroupData = (g: DeviceGroup) => ({ id: g.id, name: g.name, parent_id: g.parentId, criteria: g.criteria });

export class DeviceGroupService {
  constructor(private readonly deps: DeviceGroupServiceDeps) {}

  async create(input: DeviceGroupInput, actor: string): Promise<DeviceGroup> {
    const now = this.deps.clock.now();
    const group = this.checked({ id: this.deps.random.uuid(), createdAt: now, updatedAt: now }, input);
    await this.write(DeviceGroupCloudEvent.create, group, actor, async (tx) => {
      if (group.parentId !== null) await this.checkPlacement(tx, undefined, group.parentId);
      await tx.deviceGroups.insert(group);
    });
    return group;
  }

  async get(id: string): Promise<DeviceGroup> {
    const group = await this.deps.storage.deviceGroups.get(id);
    if (!group) throw this.missing(id);
    return group;
  }

  list(query: DeviceGroupQuery): Promise<Page<DeviceGroup>> {
    return this.deps.storage.deviceGroups.list(query);
  }

  /** Replaces the definition (name, description, parent, criteria); a move under its own descendant is refused. */
  async update(id: string, input: DeviceGroupInput, actor: string): Promise<DeviceGroup> {
    let updated: DeviceGroup | undefined;
    await this.write(DeviceGroupCloudEvent.update, () => updated!, actor, async (tx) => {
      const current = await tx.deviceGroups.get(id);
      if (!current) throw this.missing(id);
      updated = this.checked({ id, createdAt: current.createdAt, updatedAt: this.deps.clock.now() }, input);
      if (updated.parentId !== null) await this.checkPlacement(tx, id, updated.parentId);
      await tx.deviceGroups.update(updated);
    });
    return updated!;
  }

  async delete(id: string, actor: string): Promise<void> {
    let deleted: DeviceGroup | undefined;
    await this.write(DeviceGroupCloudEvent.delete, () => deleted!, actor, async (tx) => {
      // Serialized with placements, so no child can be created under the group between the check and the delete.
      await tx.deviceGroups.lockHierarchy();
      deleted = await tx.deviceGroups.get(id);
      if (!deleted || !(await tx.deviceGroups.delete(id))) throw this.missing(id);
    });
  }

  /** The group's members, a page at a time; `filters` narrow them further (Lamassu's list filters). */
  async devices(id: string, query: GroupMembersQuery): Promise<Page<Device>> {
    const conditions = await this.conditions(id);
    return this.deps.storage.devices.list({ ...query, filters: [...conditions.filters, ...(query.filters ?? [])] });
  }

  /** The group's members counted by status. */
  async stats(id: string): Promise<DeviceStats> {
    const conditions = await this.conditions(id);
    const counts = await this.deps.storage.devices.countByStatus(conditions);
    const statusDistribution = Object.fromEntries(DEVICE_STATUSES.map((s) => [s, 0])) as Record<DeviceStatus, number>;
    let total = 0;
    for (const { status, count } of counts) {
      statusDistribution[status] = count;
      total += count;
    }
    return { total, statusDistribution };
  }

  private async conditions(id: string) {
    const chain = await this.deps.storage.deviceGroups.chain(id, MAX_GROUP_DEPTH);
    if (chain.length === 0) throw this.missing(id);
    return conditionsOf(chain);
  }

  private checked(base: Pick<DeviceGroup, 'id' | 'createdAt' | 'updatedAt'>, input: DeviceGroupInput): DeviceGroup {
    checkGroupName(input.name);
    if ((input.description?.length ?? 0) > 1024) throw invalid('DEVICE_GROUP_INVALID', 'a group description is at most 1024 characters');
    return {
      ...base,
      name: input.name,
      description: input.description ?? '',
      parentId: input.parentId ?? null,
      criteria: checkCriteria(input.criteria ?? []),
    };
  }

  /** The parent exists, the group is not its own ancestor, and the tree stays within MAX_GROUP_DEPTH. */
  private async checkPlacement(tx: Repositories, groupId: string | undefined, parentId: string): Promise<void> {
    await tx.deviceGroups.lockHierarchy();
    const parentChain = await tx.deviceGroups.chain(parentId, MAX_GROUP_DEPTH + 1);
    if (parentChain.length === 0) throw notFound('DEVICE_GROUP_PARENT_NOT_FOUND', `no device group with id "${parentId}" to be the parent`, { parent_id: parentId });
    const height = groupId === undefined ? 1 : await tx.deviceGroups.subtreeHeight(groupId, MAX_GROUP_DEPTH + 1);
    checkParent(groupId, parentChain, height);
  }

  private missing(id: string) {
    return notFound('DEVICE_GROUP_NOT_FOUND', `no device group with id "${id}"`, { id });
  }

  /** Runs `change` in a transaction that also writes the group's CloudEvent to the outbox; announces it after the commit. */
  private async write(type: string, group: DeviceGroup | (() => DeviceGroup), actor: string, change: (tx: Repositories) => Promise<void>): Promise<void> {
    let events: CloudEvent[] = [];
    await this.deps.storage.transaction(async (tx) => {
      await change(tx);
      const g = typeof group === 'function' ? group() : group;
      events = [newEvent(type, DEVICE_EVENT_SOURCE, g.id, deviceGroupData(g), actor, this.deps.clock, this.deps.random)];
      await tx.outbox.append(events);
    });
    try {
      await this.deps.events.publish(events);
    } catch (err) {
      this.deps.logger.error({ err, types: events.map((e) => e.type) }, 'publishing device group events failed');
    }
  }
}
