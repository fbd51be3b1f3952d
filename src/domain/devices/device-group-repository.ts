import type { Page, PageRequest } from '../ca/page.ts';
import type { DeviceGroup } from './device-group.ts';

export const DEVICE_GROUP_SORT_KEYS = ['created_at', 'id', 'name'] as const;
export type DeviceGroupSortKey = (typeof DEVICE_GROUP_SORT_KEYS)[number];

export interface DeviceGroupQuery extends PageRequest<DeviceGroupSortKey> {
  /** Only the children of this group; null: only root groups; absent: every group. */
  parentId?: string | null;
}

/** Group definitions. Membership is not stored: DeviceRepository.list filters devices by a group's conditions. */
export interface DeviceGroupRepository {
  /** Throws DEVICE_GROUP_NAME_TAKEN (409) for a name in use. */
  insert(group: DeviceGroup): Promise<void>;
  get(id: string): Promise<DeviceGroup | undefined>;
  list(query: DeviceGroupQuery): Promise<Page<DeviceGroup>>;
  /** Replaces the definition; false when there is no such group. DEVICE_GROUP_NAME_TAKEN for a name in use. */
  update(group: DeviceGroup): Promise<boolean>;
  /** False when there is no such group; DEVICE_GROUP_HAS_CHILDREN (409) when groups sit under it. */
  delete(id: string): Promise<boolean>;
  /** The group and its ancestors, the group first; empty when there is no such group. At most `limit` groups. */
  chain(id: string, limit: number): Promise<DeviceGroup[]>;
  /** Levels of the group's subtree (1: no children), counted up to `limit`. */
  subtreeHeight(id: string, limit: number): Promise<number>;
  /**
   * Serializes changes of the hierarchy until the transaction ends, so that two concurrent moves cannot
   * together close a cycle that each alone would not. Call first in a transaction.
   */
  lockHierarchy(): Promise<void>;
}
