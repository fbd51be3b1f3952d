/**
 * Dynamic device groups (Lamassu v3.7, RFC-004): a group is a named list of criteria over devices, and its
 * members are the devices that meet all of them and all of its ancestors' (a child narrows its parent).
 * Nothing is stored per device: membership is a query, so a device joins or leaves a group the moment its
 * status, tags, DMS or metadata change. Criteria are Lamassu's list filters given as `{field, operand, value}`
 * (operands `eq`, `ct`, ... as in `filter=field[operand]value`), including `metadata` with operand `jsonpath`
 * (the list filter's jsonpath subset, domain/jsonpath-filter.ts).
 */
import { invalid } from '../errors.ts';
import { filterOf, type FieldFilter, type FilterFields } from '../list-filter.ts';
import { DEVICE_FILTER_FIELDS } from './device-repository.ts';

export interface GroupCriterion {
  field: string;
  operand: string;
  value: string;
}

export interface DeviceGroup {
  id: string;
  name: string;
  description: string;
  parentId: string | null;
  /** Canonical form (short operand names), as parseCriteria checked them. */
  criteria: GroupCriterion[];
  createdAt: Date;
  updatedAt: Date;
}

/** What a set of criteria asks of a device, in the form the device repository filters by. */
export interface DeviceConditions {
  filters: FieldFilter[];
}

export const MAX_GROUP_CRITERIA = 16;
/** Levels from a root group down to its deepest descendant (RFC-004: bounded, so resolution stays cheap). */
export const MAX_GROUP_DEPTH = 8;

/** The device fields a criterion may name: the device list's, without identity_slot. */
export const GROUP_CRITERION_FIELDS: FilterFields = Object.fromEntries(Object.entries(DEVICE_FILTER_FIELDS).filter(([name]) => name !== 'identity_slot'));

/**
 * Device groups' jsonpath criteria were once parsed by a parser of their own that took `.key` with `-` in
 * it (`$.a-b`), which jsonpath (and the list filter) read as a subtraction. Such a bare key is quoted
 * (`$."a-b"`) before parsing, so stored criteria keep their meaning; strings and quoted keys are left alone.
 */
export function quoteHyphenatedKeys(expression: string): string {
  return expression.replace(/"(?:[^"\\]|\\.)*"?|\.([A-Za-z_][A-Za-z0-9_]*-[A-Za-z0-9_-]*)/g, (match, key: string | undefined) => (key === undefined ? match : `."${key}"`));
}

/** Checks one criterion and returns it in canonical form with the condition it stands for. */
function checkCriterion(c: GroupCriterion): { canonical: GroupCriterion; condition: FieldFilter } {
  const json = Object.hasOwn(GROUP_CRITERION_FIELDS, c.field) && GROUP_CRITERION_FIELDS[c.field]!.type === 'json';
  const filter = filterOf(c.field, c.operand, json ? quoteHyphenatedKeys(c.value) : c.value, GROUP_CRITERION_FIELDS);
  return { canonical: { field: c.field, operand: filter.op, value: c.value }, condition: filter };
}

/** Checks a group's own criteria (400 with a FILTER_* code); returns them in canonical form. */
export function checkCriteria(criteria: readonly GroupCriterion[]): GroupCriterion[] {
  if (criteria.length > MAX_GROUP_CRITERIA) throw invalid('DEVICE_GROUP_INVALID', `a group has at most ${MAX_GROUP_CRITERIA} criteria`);
  return criteria.map((c) => checkCriterion(c).canonical);
}

/** The conditions of a group and its ancestors (`chain`: the group first, then its parent, up to the root), all ANDed. */
export function conditionsOf(chain: readonly DeviceGroup[]): DeviceConditions {
  return { filters: chain.flatMap((group) => group.criteria.map((c) => checkCriterion(c).condition)) };
}

export function checkGroupName(name: string): void {
  if (name.trim() === '' || name.length > 256) throw invalid('DEVICE_GROUP_INVALID', 'a group name is 1-256 characters, not only spaces');
}

/**
 * Refuses a parent that would make `groupId` its own ancestor; `parentChain` is the new parent and its
 * ancestors (parent first), `subtreeHeight` the levels of the group itself and its descendants (1: none).
 */
export function checkParent(groupId: string | undefined, parentChain: readonly DeviceGroup[], subtreeHeight: number): void {
  if (groupId !== undefined && parentChain.some((g) => g.id === groupId)) {
    throw invalid('DEVICE_GROUP_CYCLE', `group ${groupId} cannot be placed under its own descendant (or itself)`, { id: groupId });
  }
  if (parentChain.length + subtreeHeight > MAX_GROUP_DEPTH) {
    throw invalid('DEVICE_GROUP_TOO_DEEP', `groups nest at most ${MAX_GROUP_DEPTH} levels deep`, { depth: parentChain.length + subtreeHeight });
  }
}
