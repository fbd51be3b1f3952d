import assert from 'node:assert/strict';
import { getRandomValues, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { pino } from 'pino';
import { RecordingBus } from '../../../test/support/ca-service-fixture.ts';
import { ManualClock } from '../../domain/ports/clock.ts';
import { silentLogger } from '../../domain/ports/logger.ts';
import type { Storage } from '../../domain/ports/storage.ts';
import { createStorage } from '../../engines/storage/create-storage.ts';
import { DeviceGroupService } from '../../services/devices/device-group-service.ts';
import { adminApiScope } from '../auth/admin-auth.ts';
import { hashToken } from '../auth/admin-token.ts';
import { buildHttpsApp } from '../build-https-app.ts';
import { HttpMetrics } from '../metrics.ts';
import type { ServicePlugin } from '../service-plugin.ts';
import { deviceGroupRoutes } from './device-group-routes.ts';
import { DEVICES_API_PREFIX } from './devices-plugin.ts';

describe('device groups REST API /api/devmanager/v1/device-groups', () => {
  let dir: string;
  let storage: Storage;
  let app: FastifyInstance;
  const events = new RecordingBus();
  const admin = 'A'.repeat(43);
  const viewer = 'V'.repeat(43);

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'lamassu-groups-http-'));
    storage = await createStorage({ kind: 'sqlite', file: path.join(dir, 'db.sqlite') });
    const now = new Date();
    await storage.adminTokens.insert({ id: 'a', tokenHash: hashToken(admin), subject: 'alice', role: 'pki-admin', createdAt: now });
    await storage.adminTokens.insert({ id: 'v', tokenHash: hashToken(viewer), subject: 'victor', role: 'pki-viewer', createdAt: now });
    const groups = new DeviceGroupService({
      storage,
      events,
      clock: new ManualClock(now),
      random: { uuid: () => randomUUID(), bytes: (n) => getRandomValues(new Uint8Array(n)) },
      logger: silentLogger,
    });
    const service: ServicePlugin = {
      name: 'devices',
      https: async (a: FastifyInstance) => {
        await a.register(adminApiScope({ adminTokens: storage.adminTokens }, [deviceGroupRoutes(groups)]), { prefix: DEVICES_API_PREFIX });
      },
    };
    app = await buildHttpsApp({ logger: pino({ level: 'silent' }), metrics: new HttpMetrics(), auth: { adminTokens: storage.adminTokens }, services: [service], version: 'test' });
    for (const [id, status, tags] of [['d1', 'FULLY_PROVISIONED', ['x']], ['d2', 'REQUIRES_ACTION', ['x']], ['d3', 'FULLY_PROVISIONED', []]] as const) {
      await storage.devices.insert({ id, alias: '', tags: [...tags], metadata: { n: id === 'd1' ? 1 : 2 }, dmsId: null, icon: '', iconColor: '', status, createdAt: now, updatedAt: now });
    }
  });
  after(async () => {
    await app?.close();
    await storage?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const call = async (method: InjectOptions['method'], url: string, payload?: unknown, token = admin) => {
    const res = await app.inject({ method, url: `/api/devmanager/v1${url}`, headers: { authorization: `Bearer ${token}` }, ...(payload === undefined ? {} : { payload: payload as object }) });
    return { status: res.statusCode, body: res.body ? (JSON.parse(res.body) as Record<string, any>) : undefined };
  };

  it('create, read, list, members, stats, replace, delete; events written', async () => {
    const root = await call('POST', '/device-groups', { name: 'tagged', description: 'x tags', criteria: [{ field: 'tags', operand: 'contains', value: 'x' }] });
    assert.equal(root.status, 201, JSON.stringify(root.body));
    assert.deepEqual(root.body!.criteria, [{ field: 'tags', operand: 'ct', value: 'x' }]);
    assert.equal(root.body!.parent_id, null);
    const child = await call('POST', '/device-groups', { name: 'ok', parent_id: root.body!.id, criteria: [{ field: 'status', operand: 'eq', value: 'FULLY_PROVISIONED' }] });
    assert.equal(child.status, 201);
    assert.deepEqual((await call('GET', `/device-groups/${child.body!.id}`)).body, child.body);

    const members = await call('GET', `/device-groups/${root.body!.id}/devices?sort_by=id&page_size=1`);
    assert.equal(members.status, 200);
    assert.deepEqual(members.body!.list.map((d: { id: string }) => d.id), ['d1']);
    assert.notEqual(members.body!.next, '');
    const rest = await call('GET', `/device-groups/${root.body!.id}/devices?sort_by=id&bookmark=${members.body!.next}`);
    assert.deepEqual(rest.body!.list.map((d: { id: string }) => d.id), ['d2']);
    assert.equal(rest.body!.next, '');
    assert.deepEqual((await call('GET', `/device-groups/${child.body!.id}/devices`)).body!.list.map((d: { id: string }) => d.id), ['d1']);
    const filtered = await call('GET', `/device-groups/${root.body!.id}/devices?filter=status[eq]REQUIRES_ACTION`);
    assert.deepEqual(filtered.body!.list.map((d: { id: string }) => d.id), ['d2']);

    const stats = await call('GET', `/device-groups/${root.body!.id}/stats`);
    assert.equal(stats.body!.total, 2);
    assert.equal(stats.body!.status_distribution.FULLY_PROVISIONED, 1);
    assert.equal(stats.body!.status_distribution.REQUIRES_ACTION, 1);

    const list = await call('GET', '/device-groups?sort_by=name');
    assert.deepEqual(list.body!.list.map((g: { name: string }) => g.name), ['ok', 'tagged']);
    assert.deepEqual((await call('GET', '/device-groups?parent_id=')).body!.list.map((g: { name: string }) => g.name), ['tagged']);
    assert.deepEqual((await call('GET', `/device-groups?parent_id=${root.body!.id}`)).body!.list.map((g: { name: string }) => g.name), ['ok']);

    const moved = await call('PUT', `/device-groups/${child.body!.id}`, { name: 'ok', criteria: [{ field: 'metadata', operand: 'jsonpath', value: '$.n == 2' }] });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    assert.equal(moved.body!.parent_id, null);
    assert.deepEqual((await call('GET', `/device-groups/${child.body!.id}/devices?sort_by=id`)).body!.list.map((d: { id: string }) => d.id), ['d2', 'd3']);

    assert.equal((await call('DELETE', `/device-groups/${child.body!.id}`)).status, 204);
    assert.equal((await call('GET', `/device-groups/${child.body!.id}`)).status, 404);
    assert.deepEqual(
      events.published.filter((e) => e.type.startsWith('device-group.')).map((e) => e.type),
      ['device-group.create', 'device-group.create', 'device-group.update', 'device-group.delete'],
    );
  });

  it('pki-viewer reads but cannot write', async () => {
    const g = await call('POST', '/device-groups', { name: 'viewer-test' });
    assert.equal((await call('GET', '/device-groups', undefined, viewer)).status, 200);
    assert.equal((await call('GET', `/device-groups/${g.body!.id}/stats`, undefined, viewer)).status, 200);
    assert.equal((await call('GET', `/device-groups/${g.body!.id}/devices`, undefined, viewer)).status, 200);
    for (const [method, url, body] of [
      ['POST', '/device-groups', { name: 'v' }],
      ['PUT', `/device-groups/${g.body!.id}`, { name: 'v' }],
      ['DELETE', `/device-groups/${g.body!.id}`, undefined],
    ] as const) {
      const r = await call(method, url, body, viewer);
      assert.equal(r.status, 403, `${method} ${url}`);
    }
    assert.equal((await call('GET', '/device-groups', undefined, 'nope')).status, 401);
  });

  it('bad input is a 4xx with a stable code, never a 500', async () => {
    const a = (await call('POST', '/device-groups', { name: 'cycle-a' })).body!;
    const b = (await call('POST', '/device-groups', { name: 'cycle-b', parent_id: a.id })).body!;
    const cases: [InjectOptions['method'], string, unknown, number, string][] = [
      ['PUT', `/device-groups/${a.id}`, { name: 'cycle-a', parent_id: b.id }, 400, 'DEVICE_GROUP_CYCLE'],
      ['POST', '/device-groups', { name: 'cycle-a' }, 409, 'DEVICE_GROUP_NAME_TAKEN'],
      ['POST', '/device-groups', { name: 'p', parent_id: 'nope' }, 404, 'DEVICE_GROUP_PARENT_NOT_FOUND'],
      ['DELETE', `/device-groups/${a.id}`, undefined, 409, 'DEVICE_GROUP_HAS_CHILDREN'],
      ['GET', '/device-groups/nope', undefined, 404, 'DEVICE_GROUP_NOT_FOUND'],
      ['GET', '/device-groups/nope/devices', undefined, 404, 'DEVICE_GROUP_NOT_FOUND'],
      ['GET', '/device-groups/nope/stats', undefined, 404, 'DEVICE_GROUP_NOT_FOUND'],
      ['POST', '/device-groups', { name: 'f', criteria: [{ field: 'colour', operand: 'eq', value: 'red' }] }, 400, 'FILTER_FIELD_UNKNOWN'],
      ['POST', '/device-groups', { name: 'f', criteria: [{ field: 'status', operand: 'gt', value: 'x' }] }, 400, 'FILTER_OPERATOR_INVALID'],
      ['POST', '/device-groups', { name: 'f', criteria: [{ field: 'metadata', operand: 'jsonpath', value: '$.a[*] == 1' }] }, 400, 'FILTER_JSONPATH_INVALID'],
      ['POST', '/device-groups', { name: 'f', criteria: [{ field: 'metadata', operand: 'jsonpath', value: 'a ==' }] }, 400, 'FILTER_JSONPATH_INVALID'],
      ['POST', '/device-groups', { name: 'f', criteria: [{ field: 'status', operand: 'eq' }] }, 400, 'VALIDATION_FAILED'],
      ['POST', '/device-groups', { name: 'f', criteria: [{ field: 'status', operand: 'eq', value: 7 }] }, 400, 'VALIDATION_FAILED'],
      ['POST', '/device-groups', { name: '   ' }, 400, 'DEVICE_GROUP_INVALID'],
      ['POST', '/device-groups', {}, 400, 'VALIDATION_FAILED'],
      ['GET', `/device-groups/${a.id}/devices?bookmark=junk`, undefined, 400, 'BOOKMARK_INVALID'],
      ['GET', `/device-groups/${a.id}/devices?filter=colour[eq]x`, undefined, 400, 'FILTER_FIELD_UNKNOWN'],
      ['GET', '/device-groups?page_size=0', undefined, 400, 'VALIDATION_FAILED'],
      ['GET', '/device-groups?sort_by=size', undefined, 400, 'VALIDATION_FAILED'],
    ];
    for (const [method, url, body, status, code] of cases) {
      const r = await call(method, url, body);
      assert.equal(r.status, status, `${method} ${url} ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body!.code, code, `${method} ${url} ${JSON.stringify(body)}`);
    }
  });
});
