import assert from 'node:assert/strict';
import { getRandomValues, randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { CompiledQuery, type Kysely, type KyselyPlugin, type QueryId, type RootOperationNode } from 'kysely';
import { RecordingBus } from '../../../test/support/ca-service-fixture.ts';
import { forEachStorage } from '../../../test/support/storage.ts';
import { conditionsOf, type DeviceGroup, type GroupCriterion } from '../../domain/devices/device-group.ts';
import type { DeviceRecord } from '../../domain/devices/device.ts';
import { DomainError } from '../../domain/errors.ts';
import { ManualClock } from '../../domain/ports/clock.ts';
import { silentLogger } from '../../domain/ports/logger.ts';
import { DeviceGroupService } from '../../services/devices/device-group-service.ts';
import { SqlDeviceRepository } from './device-repository.ts';
import { openDatabase } from './open-database.ts';
import type { Database } from './schema.ts';

const T0 = Date.UTC(2026, 0, 1);
const DAY = 86_400_000;
const isCode = (code: string) => (e: unknown) => e instanceof DomainError && e.code === code;
const c = (field: string, operand: string, value: string): GroupCriterion => ({ field, operand, value });

function device(id: string, over: Partial<DeviceRecord> = {}): DeviceRecord {
  return { id, alias: '', tags: [], metadata: {}, dmsId: null, icon: '', iconColor: '', status: 'PENDING_PROVISIONING', createdAt: new Date(T0), updatedAt: new Date(T0), ...over };
}

forEachStorage('device groups', (ctx) => {
  const service = () =>
    new DeviceGroupService({
      storage: ctx.storage,
      events: new RecordingBus(),
      clock: new ManualClock(T0),
      random: { uuid: () => randomUUID(), bytes: (n) => getRandomValues(new Uint8Array(n)) },
      logger: silentLogger,
    });
  /** Member ids among `prefix`'s devices of a group with these criteria (one level). */
  const members = async (prefix: string, criteria: GroupCriterion[]) => {
    const g = await service().create({ name: `g-${randomUUID()}`, criteria }, 'test');
    const page = await service().devices(g.id, { pageSize: 1000, sortBy: 'id' });
    return page.list.map((d) => d.id).filter((id) => id.startsWith(prefix));
  };

  test('membership: every operand of every criterion field, computed by the database', async () => {
    const { storage } = ctx;
    await storage.devices.insert(
      device('m-1', { status: 'FULLY_PROVISIONED', tags: ['site:madrid', 'beta'], dmsId: 'dms-a', metadata: { env: 'prod', version: 3, fw: { major: 2 }, ok: true, arr: [1, 2], nul: null, 'lamassu.io/x': 'y', 'hw-rev': 'b' } }),
    );
    await storage.devices.insert(device('m-2', { status: 'PENDING_PROVISIONING', tags: ['site:paris'], dmsId: 'dms-b', metadata: { env: 'dev', version: 1, ok: false }, createdAt: new Date(T0 + DAY) }));
    await storage.devices.insert(device('m-3', { status: 'REQUIRES_ACTION', tags: ['Site:Madrid'], metadata: { env: 'prod', version: '3', arr: ['2'] }, createdAt: new Date(T0 + 2 * DAY) }));
    await storage.devices.insert(device('m-4', { status: 'DECOMMISSIONED', dmsId: 'dms-a', createdAt: new Date(T0 + 3 * DAY) }));
    const cases: [GroupCriterion[], string[]][] = [
      [[], ['m-1', 'm-2', 'm-3', 'm-4']],
      [[c('status', 'eq', 'FULLY_PROVISIONED')], ['m-1']],
      [[c('status', 'equal', 'fully_provisioned')], ['m-1']],
      [[c('status', 'ne', 'DECOMMISSIONED')], ['m-1', 'm-2', 'm-3']],
      [[c('tags', 'ct', 'site:madrid')], ['m-1']],
      [[c('tags', 'ct_ic', 'site:madrid')], ['m-1', 'm-3']],
      [[c('tags', 'ct', 'site')], []],
      [[c('dms_owner', 'eq', 'dms-a')], ['m-1', 'm-4']],
      [[c('dms_owner', 'ne', 'dms-a')], ['m-2', 'm-3']],
      [[c('dms_owner', 'eq_ic', 'DMS-B')], ['m-2']],
      [[c('dms_owner', 'ne_ic', 'DMS-A')], ['m-2', 'm-3']],
      [[c('dms_owner', 'ct', 'dms')], ['m-1', 'm-2', 'm-4']],
      [[c('dms_owner', 'ct_ic', 'MS-')], ['m-1', 'm-2', 'm-4']],
      [[c('dms_owner', 'nc', '-b')], ['m-1', 'm-3', 'm-4']],
      [[c('dms_owner', 'nc_ic', '-A')], ['m-2', 'm-3']],
      [[c('id', 'eq', 'm-2')], ['m-2']],
      [[c('creation_timestamp', 'af', new Date(T0 + 1.5 * DAY).toISOString())], ['m-3', 'm-4']],
      [[c('creation_timestamp', 'bf', new Date(T0 + DAY).toISOString())], ['m-1']],
      [[c('creation_timestamp', 'eq', new Date(T0 + DAY).toISOString())], ['m-2']],
      [[c('metadata', 'jsonpath', '$.env == "prod"')], ['m-1', 'm-3']],
      [[c('metadata', 'JSONPATH', '$."env" == "dev"')], ['m-2']],
      [[c('metadata', 'jsonpath', '$.env != "prod"')], ['m-2']],
      [[c('metadata', 'jsonpath', '$.version == 3')], ['m-1']],
      [[c('metadata', 'jsonpath', '$.version == "3"')], ['m-3']],
      [[c('metadata', 'jsonpath', '$.version != 3')], ['m-2']],
      [[c('metadata', 'jsonpath', '$.version > 2')], ['m-1']],
      [[c('metadata', 'jsonpath', '$.version >= 1')], ['m-1', 'm-2']],
      [[c('metadata', 'jsonpath', '$.version < 3')], ['m-2']],
      [[c('metadata', 'jsonpath', '$.version <= 1.5')], ['m-2']],
      [[c('metadata', 'jsonpath', 'exists($.ok)')], ['m-1', 'm-2']],
      [[c('metadata', 'jsonpath', '$.ok == true')], ['m-1']],
      [[c('metadata', 'jsonpath', '$.ok != true')], ['m-2']],
      [[c('metadata', 'jsonpath', '$.ok == false')], ['m-2']],
      [[c('metadata', 'jsonpath', '$.fw.major >= 2')], ['m-1']],
      [[c('metadata', 'jsonpath', '$.arr[1] == 2')], ['m-1']],
      [[c('metadata', 'jsonpath', '$.arr[0] == "2"')], ['m-3']],
      // Lamassu's lax jsonpath (the list filter's): an array at the end of a path is compared element by element.
      [[c('metadata', 'jsonpath', '$.arr == 2')], ['m-1']],
      [[c('metadata', 'jsonpath', 'exists($.arr[*] ? (@ == "2"))')], ['m-3']],
      [[c('metadata', 'jsonpath', '$.env == "dev" || $.version == "3"')], ['m-2', 'm-3']],
      [[c('metadata', 'jsonpath', '$.env > "o"')], ['m-1', 'm-3']],
      // Criteria stored before groups used the list filter's parser: bare keys with "-" still name a key.
      [[c('metadata', 'jsonpath', '$.hw-rev == "b"')], ['m-1']],
      [[c('metadata', 'jsonpath', 'exists($.hw-rev)')], ['m-1']],
      [[c('metadata', 'jsonpath', '$.nul == null')], ['m-1']],
      [[c('metadata', 'jsonpath', '$.env != null')], ['m-1', 'm-2', 'm-3']],
      [[c('metadata', 'jsonpath', 'exists($.nul)')], ['m-1']],
      [[c('metadata', 'jsonpath', '$."lamassu.io/x" == "y"')], ['m-1']],
      [[c('status', 'ne', 'DECOMMISSIONED'), c('metadata', 'jsonpath', '$.env == "prod"'), c('tags', 'ct_ic', 'SITE:MADRID')], ['m-1', 'm-3']],
    ];
    for (const [criteria, expected] of cases) assert.deepEqual(await members('m-', criteria), expected, JSON.stringify(criteria));
  });

  test('bad criteria are 400s with stable codes; nothing is stored', async () => {
    const refused: [GroupCriterion, string][] = [
      [c('colour', 'eq', 'red'), 'FILTER_FIELD_UNKNOWN'],
      [c('identity_slot', 'eq', 'x'), 'FILTER_FIELD_UNKNOWN'],
      [c('status', 'ct', 'FULLY'), 'FILTER_OPERATOR_INVALID'],
      [c('tags', 'eq', 'a'), 'FILTER_OPERATOR_INVALID'],
      [c('metadata', 'eq', 'a'), 'FILTER_OPERATOR_INVALID'],
      [c('creation_timestamp', 'af', 'yesterday'), 'FILTER_VALUE_INVALID'],
      [c('metadata', 'jsonpath', 'env == "prod"'), 'FILTER_JSONPATH_INVALID'],
      [c('metadata', 'jsonpath', '$.env == prod'), 'FILTER_JSONPATH_INVALID'],
      [c('metadata', 'jsonpath', '$.tags[*] == "a"'), 'FILTER_JSONPATH_INVALID'],
      [c('metadata', 'jsonpath', '$.ok > true'), 'FILTER_JSONPATH_INVALID'],
      [c('metadata', 'jsonpath', '$.a == [1]'), 'FILTER_JSONPATH_INVALID'],
      [c('metadata', 'jsonpath', '$.a like_regex "x"'), 'FILTER_JSONPATH_INVALID'],
      [c('metadata', 'jsonpath', '$."a\\"b" == 1'), 'FILTER_JSONPATH_INVALID'],
    ];
    const before = (await ctx.storage.deviceGroups.list({ pageSize: 1000 })).list.length;
    for (const [criterion, code] of refused) {
      await assert.rejects(service().create({ name: `bad-${randomUUID()}`, criteria: [criterion] }, 'test'), isCode(code), JSON.stringify(criterion));
    }
    await assert.rejects(service().create({ name: ' ' }, 'test'), isCode('DEVICE_GROUP_INVALID'));
    await assert.rejects(service().create({ name: 'x', criteria: Array(17).fill(c('id', 'eq', 'a')) }, 'test'), isCode('DEVICE_GROUP_INVALID'));
    assert.equal((await ctx.storage.deviceGroups.list({ pageSize: 1000 })).list.length, before);
  });

  test('hierarchy: a child inherits every ancestor criterion (AND); chain goes up from the group', async () => {
    const { storage } = ctx;
    for (const [i, over] of [
      { tags: ['h:fleet'], status: 'FULLY_PROVISIONED', metadata: { temp: 60 } },
      { tags: ['h:fleet'], status: 'FULLY_PROVISIONED', metadata: { temp: 40 } },
      { tags: ['h:fleet'], status: 'REQUIRES_ACTION', metadata: { temp: 70 } },
      { tags: ['h:other'], status: 'FULLY_PROVISIONED', metadata: { temp: 90 } },
    ].entries()) {
      await storage.devices.insert(device(`h-${i}`, over as Partial<DeviceRecord>));
    }
    const s = service();
    const root = await s.create({ name: 'h-root', criteria: [c('tags', 'ct', 'h:fleet')] }, 'test');
    const child = await s.create({ name: 'h-child', parentId: root.id, criteria: [c('status', 'eq', 'FULLY_PROVISIONED')] }, 'test');
    const grandchild = await s.create({ name: 'h-grandchild', parentId: child.id, criteria: [c('metadata', 'jsonpath', '$.temp > 50')] }, 'test');
    const ids = async (g: DeviceGroup) => (await s.devices(g.id, { sortBy: 'id' })).list.map((d) => d.id);
    assert.deepEqual(await ids(root), ['h-0', 'h-1', 'h-2']);
    assert.deepEqual(await ids(child), ['h-0', 'h-1']);
    assert.deepEqual(await ids(grandchild), ['h-0']);
    assert.deepEqual((await storage.deviceGroups.chain(grandchild.id, 8)).map((g) => g.name), ['h-grandchild', 'h-child', 'h-root']);
    assert.equal(conditionsOf(await storage.deviceGroups.chain(grandchild.id, 8)).filters.length, 3);
    assert.equal(await storage.deviceGroups.subtreeHeight(root.id, 9), 3);
    assert.equal(await storage.deviceGroups.subtreeHeight(grandchild.id, 9), 1);

    const stats = await s.stats(root.id);
    assert.equal(stats.total, 3);
    assert.equal(stats.statusDistribution.FULLY_PROVISIONED, 2);
    assert.equal(stats.statusDistribution.REQUIRES_ACTION, 1);
    assert.equal(stats.statusDistribution.DECOMMISSIONED, 0);
    assert.equal((await s.stats(grandchild.id)).total, 1);

    // Membership follows the devices: a status change moves a device out of the child at once.
    await storage.devices.updateStatus('h-1', 'FULLY_PROVISIONED', 'REQUIRES_ACTION', new Date(T0));
    assert.deepEqual(await ids(child), ['h-0']);
    // Moving the child to the root level drops the inherited tag criterion.
    await s.update(child.id, { name: 'h-child', criteria: child.criteria, parentId: null }, 'test');
    assert.ok((await ids(child)).includes('h-3'));
    assert.deepEqual(await ids(grandchild), ['h-0', 'h-3']);
  });

  test('cycles, depth, missing parents, children and names are refused with stable codes', async () => {
    const s = service();
    const a = await s.create({ name: 'c-a' }, 'test');
    const b = await s.create({ name: 'c-b', parentId: a.id }, 'test');
    const cc = await s.create({ name: 'c-c', parentId: b.id }, 'test');
    await assert.rejects(s.update(a.id, { name: 'c-a', parentId: cc.id }, 'test'), isCode('DEVICE_GROUP_CYCLE'));
    await assert.rejects(s.update(a.id, { name: 'c-a', parentId: a.id }, 'test'), isCode('DEVICE_GROUP_CYCLE'));
    await assert.rejects(s.update(b.id, { name: 'c-b', parentId: cc.id }, 'test'), isCode('DEVICE_GROUP_CYCLE'));
    assert.equal((await ctx.storage.deviceGroups.get(a.id))?.parentId, null);
    await assert.rejects(s.create({ name: 'c-x', parentId: 'nope' }, 'test'), isCode('DEVICE_GROUP_PARENT_NOT_FOUND'));
    await assert.rejects(s.create({ name: 'c-a' }, 'test'), isCode('DEVICE_GROUP_NAME_TAKEN'));
    await assert.rejects(s.update(b.id, { name: 'c-a', parentId: a.id }, 'test'), isCode('DEVICE_GROUP_NAME_TAKEN'));
    await assert.rejects(s.delete(a.id, 'test'), isCode('DEVICE_GROUP_HAS_CHILDREN'));
    await assert.rejects(s.get('nope'), isCode('DEVICE_GROUP_NOT_FOUND'));
    await assert.rejects(s.devices('nope', {}), isCode('DEVICE_GROUP_NOT_FOUND'));
    await assert.rejects(s.update('nope', { name: 'n' }, 'test'), isCode('DEVICE_GROUP_NOT_FOUND'));
    await assert.rejects(s.delete('nope', 'test'), isCode('DEVICE_GROUP_NOT_FOUND'));

    // Depth: 8 levels at most, also when a subtree is moved under a deep group.
    let parent = cc;
    for (let level = 4; level <= 8; level++) parent = await s.create({ name: `c-level-${level}`, parentId: parent.id }, 'test');
    await assert.rejects(s.create({ name: 'c-level-9', parentId: parent.id }, 'test'), isCode('DEVICE_GROUP_TOO_DEEP'));
    const other = await s.create({ name: 'c-other' }, 'test');
    await s.create({ name: 'c-other-child', parentId: other.id }, 'test');
    const level7 = (await ctx.storage.deviceGroups.chain(parent.id, 8))[1]!;
    await assert.rejects(s.update(other.id, { name: 'c-other', parentId: level7.id }, 'test'), isCode('DEVICE_GROUP_TOO_DEEP'));
    const level6 = (await ctx.storage.deviceGroups.chain(parent.id, 8))[2]!;
    await s.update(other.id, { name: 'c-other', parentId: level6.id }, 'test');

    await s.delete(parent.id, 'test');
    assert.equal(await ctx.storage.deviceGroups.get(parent.id), undefined);
  });

  test('two concurrent moves that together would close a cycle: exactly one succeeds', async () => {
    const s = service();
    for (let round = 0; round < 5; round++) {
      const x = await s.create({ name: `race-x-${round}` }, 'test');
      const y = await s.create({ name: `race-y-${round}` }, 'test');
      const results = await Promise.allSettled([
        s.update(x.id, { name: x.name, parentId: y.id }, 'test'),
        s.update(y.id, { name: y.name, parentId: x.id }, 'test'),
      ]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, JSON.stringify(results));
      const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      assert.ok(isCode('DEVICE_GROUP_CYCLE')(failed.reason), String(failed.reason));
      assert.equal((await ctx.storage.deviceGroups.chain(x.id, 8)).length + (await ctx.storage.deviceGroups.chain(y.id, 8)).length, 3);
    }
  });

  test('listing groups and a group\'s members visit every row once by bookmark pages', async () => {
    const { storage } = ctx;
    for (let i = 0; i < 23; i++) {
      await storage.devices.insert(device(`p-${String(i).padStart(2, '0')}`, { tags: ['paging'], status: i % 2 ? 'FULLY_PROVISIONED' : 'REQUIRES_ACTION', createdAt: new Date(T0 + (i % 4) * DAY) }));
    }
    const s = service();
    const g = await s.create({ name: 'paging', criteria: [c('tags', 'ct', 'paging')] }, 'test');
    for (const sortMode of ['asc', 'desc'] as const) {
      const seen: string[] = [];
      let bookmark: string | undefined;
      do {
        const page = await s.devices(g.id, { sortBy: 'created_at', sortMode, pageSize: 5, ...(bookmark ? { bookmark } : {}) });
        assert.ok(page.list.length <= 5);
        seen.push(...page.list.map((d) => d.id));
        bookmark = page.next ?? undefined;
      } while (bookmark);
      assert.equal(seen.length, 23);
      assert.equal(new Set(seen).size, 23);
    }
    // Extra list filters narrow the members further.
    assert.equal((await s.devices(g.id, { filters: [{ field: 'status', op: 'eq', value: 'FULLY_PROVISIONED' }] })).list.length, 11);
    await assert.rejects(s.devices(g.id, { bookmark: 'junk' }), isCode('BOOKMARK_INVALID'));

    const groups: string[] = [];
    let bookmark: string | undefined;
    do {
      const page = await storage.deviceGroups.list({ sortBy: 'name', pageSize: 3, ...(bookmark ? { bookmark } : {}) });
      groups.push(...page.list.map((x) => x.name));
      bookmark = page.next ?? undefined;
    } while (bookmark);
    assert.equal(new Set(groups).size, groups.length);
    assert.equal(groups.length, (await storage.deviceGroups.list({ pageSize: 1000 })).list.length);
    assert.ok(groups.includes('paging'));
    const roots = (await storage.deviceGroups.list({ parentId: null, pageSize: 1000 })).list;
    assert.ok(roots.every((x) => x.parentId === null));
  });

  test('EXPLAIN: membership and stats on a large table use the status and DMS indexes, not a full scan', async () => {
    const db = await openDatabase(ctx.config);
    try {
      const rows = [];
      for (let i = 0; i < 20_000; i++) {
        rows.push({
          id: `big-${i}`, alias: '', tags: '[]', metadata: '{}', dms_id: `big-dms-${i % 100}`, icon: '', icon_color: '',
          status: i % 200 === 0 ? 'DECOMMISSIONED' : 'FULLY_PROVISIONED', created_at: T0 + i, updated_at: T0 + i,
        });
      }
      for (let i = 0; i < rows.length; i += 1000) await db.insertInto('devices').values(rows.slice(i, i + 1000)).execute();
      await db.executeQuery(CompiledQuery.raw('analyze'));
      const s = service();
      const byDms = await s.create({ name: 'explain-dms', criteria: [c('dms_owner', 'eq', 'big-dms-7')] }, 'test');
      const byStatus = await s.create({ name: 'explain-status', criteria: [c('status', 'eq', 'DECOMMISSIONED')] }, 'test');
      const plans = async (groupId: string) => {
        const conditions = conditionsOf(await ctx.storage.deviceGroups.chain(groupId, 8));
        const nodes: RootOperationNode[] = [];
        const capture: KyselyPlugin = { transformQuery: (a) => (nodes.push(a.node), a.node), transformResult: async (a) => a.result };
        const repo = new SqlDeviceRepository(db.withPlugin(capture) as Kysely<Database>);
        await repo.list({ ...conditions, pageSize: 50 });
        await repo.countByStatus(conditions);
        const explained = [nodes[0]!, nodes.at(-1)!].map(async (node) => {
          const q = db.getExecutor().compileQuery(node, { queryId: 'explain' } as QueryId);
          const prefix = ctx.kind === 'postgres' ? 'explain ' : 'explain query plan ';
          const res = await db.executeQuery<Record<string, string>>(CompiledQuery.raw(prefix + q.sql, [...q.parameters]));
          return res.rows.map((r) => r['QUERY PLAN'] ?? r['detail']).join('\n');
        });
        return Promise.all(explained);
      };
      const fullScan = ctx.kind === 'postgres' ? /Seq Scan on devices/ : /SCAN d(?! USING)/;
      const [dmsList, dmsStats] = await plans(byDms.id);
      const [statusList, statusStats] = await plans(byStatus.id);
      for (const plan of [dmsList, dmsStats, statusList, statusStats]) assert.doesNotMatch(plan!, fullScan, plan);
      assert.match(dmsStats!, /devices_dms/, dmsStats);
      assert.match(statusStats!, /devices_status/, statusStats);
      assert.match(dmsList!, /devices_(dms|created)/, dmsList);
      assert.equal((await s.stats(byStatus.id)).total, 100 + 1); // and m-4 of the membership test
      assert.equal((await s.stats(byDms.id)).total, 200);
    } finally {
      await db.destroy();
    }
  });
});
