/**
 * Device groups end to end (issue 13 part 3) on the real `lamassu serve`, SQLite and PostgreSQL: a three-level
 * hierarchy over pre-registered devices (tags, metadata JSONPath, DMS), members by bookmark pages, stats that
 * follow a decommissioning, a cycle and a delete with children refused, all over HTTPS with the server's token;
 * and `lamassu device-group` as a subprocess (run `npm run build` first).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { admin } from './est-server.ts';
import { cleanEnv, lamassuBin, startLamassu, type LamassuProcess } from '../support/lamassu-process.ts';
import { needPostgres } from '../support/services.ts';
import { freshTestDatabase, storageKinds, type StorageKind } from '../support/storage.ts';

function databaseEnv(kind: StorageKind): { env: Record<string, string>; drop(): Promise<void> } {
  if (kind === 'sqlite') return { env: {}, drop: async () => {} };
  const db = freshTestDatabase('postgres');
  const config = db.config as { url: string; schema: string };
  return { env: { DATABASE_URL: config.url, LAMASSU_POSTGRES_SCHEMA: config.schema }, drop: () => db.drop() };
}

const API = '/api/devmanager/v1';

for (const kind of storageKinds) {
  describe(`device groups over a running server [${kind}]`, { timeout: 120_000 }, () => {
    test('hierarchy, members by pages, stats following a decommission, cycle and delete refusals', async (t) => {
      if (kind === 'postgres' && !(await needPostgres(t))) return;
      const database = databaseEnv(kind);
      let server: LamassuProcess | undefined;
      try {
        server = await startLamassu(database.env);
        const api = (method: string, url: string, body?: unknown, expect?: number) => admin(server!, method, `${API}${url}`, body, expect);
        const devices: [string, string[], Record<string, unknown>, string][] = [
          ['e2e-1', ['fleet'], { site: 'madrid', rack: 1 }, 'line-1'],
          ['e2e-2', ['fleet'], { site: 'madrid', rack: 2 }, 'line-1'],
          ['e2e-3', ['fleet'], { site: 'madrid', rack: 3 }, 'line-2'],
          ['e2e-4', ['fleet'], { site: 'paris' }, 'line-1'],
          ['e2e-5', ['lab'], { site: 'madrid' }, 'line-1'],
        ];
        for (const [id, tags, metadata, dms] of devices) await api('POST', '/devices', { id, tags, metadata, dms_id: dms });

        const fleet = (await api('POST', '/device-groups', { name: 'fleet', criteria: [{ field: 'tags', operand: 'ct', value: 'fleet' }] }, 201)).json;
        const madrid = (await api('POST', '/device-groups', { name: 'madrid', parent_id: fleet.id, criteria: [{ field: 'metadata', operand: 'jsonpath', value: '$.site == "madrid"' }] }, 201)).json;
        const line1 = (await api('POST', '/device-groups', { name: 'madrid line 1', parent_id: madrid.id, criteria: [{ field: 'dms_owner', operand: 'eq', value: 'line-1' }] }, 201)).json;
        assert.equal(line1.parent_id, madrid.id);

        const members = async (groupId: string, pageSize: number) => {
          const seen: string[] = [];
          let next = '';
          do {
            const page = (await api('GET', `/device-groups/${groupId}/devices?sort_by=id&page_size=${pageSize}${next ? `&bookmark=${next}` : ''}`)).json;
            assert.ok(page.list.length <= pageSize);
            seen.push(...page.list.map((d: { id: string }) => d.id));
            next = page.next;
          } while (next !== '');
          return seen;
        };
        assert.deepEqual(await members(fleet.id, 2), ['e2e-1', 'e2e-2', 'e2e-3', 'e2e-4']);
        assert.deepEqual(await members(madrid.id, 1), ['e2e-1', 'e2e-2', 'e2e-3']);
        assert.deepEqual(await members(line1.id, 1), ['e2e-1', 'e2e-2']);

        const before = (await api('GET', `/device-groups/${line1.id}/stats`)).json;
        assert.equal(before.total, 2);
        assert.equal(before.status_distribution.PENDING_PROVISIONING, 2);
        await api('DELETE', '/devices/e2e-2/decommission');
        const after = (await api('GET', `/device-groups/${line1.id}/stats`)).json;
        assert.equal(after.total, 2);
        assert.equal(after.status_distribution.PENDING_PROVISIONING, 1);
        assert.equal(after.status_distribution.DECOMMISSIONED, 1);

        // A child narrowing on status sees the change at once; no membership is stored anywhere.
        const active = (await api('POST', '/device-groups', { name: 'active', parent_id: line1.id, criteria: [{ field: 'status', operand: 'ne', value: 'DECOMMISSIONED' }] }, 201)).json;
        assert.deepEqual(await members(active.id, 10), ['e2e-1']);

        const cycle = await api('PUT', `/device-groups/${fleet.id}`, { name: 'fleet', parent_id: active.id, criteria: fleet.criteria }, 400);
        assert.equal(cycle.json.code, 'DEVICE_GROUP_CYCLE');
        assert.equal((await api('DELETE', `/device-groups/${madrid.id}`, undefined, 409)).json.code, 'DEVICE_GROUP_HAS_CHILDREN');
        assert.equal((await api('POST', '/device-groups', { name: 'bad', criteria: [{ field: 'metadata', operand: 'jsonpath', value: '$.a[*] == 1' }] }, 400)).json.code, 'FILTER_JSONPATH_INVALID');
        await api('DELETE', `/device-groups/${active.id}`, undefined, 204);
        assert.equal((await api('GET', `/device-groups/${active.id}`, undefined, 404)).json.code, 'DEVICE_GROUP_NOT_FOUND');
        const listed = (await api('GET', '/device-groups?sort_by=name')).json;
        assert.deepEqual(listed.list.map((g: { name: string }) => g.name), ['fleet', 'madrid', 'madrid line 1']);
        assert.equal(listed.next, '');
      } finally {
        await server?.stop();
        await database.drop();
      }
    });
  });
}

describe('lamassu device-group (CLI subprocess against a running server)', { timeout: 120_000 }, () => {
  test('create with criteria and a parent, list, show with counts, devices, delete; refusals exit 1 or 2', async () => {
    const server = await startLamassu();
    try {
      const env = { ...cleanEnv(), LAMASSU_DATA_DIR: server.dataDir, LAMASSU_HTTPS_PORT: String(server.httpsPort), LAMASSU_HTTP_PORT: String(server.httpPort) };
      const lamassu = async (...args: string[]) => {
        try {
          const { stdout, stderr } = await promisify(execFile)(process.execPath, [lamassuBin, ...args], { env, timeout: 30_000 });
          return { code: 0, stdout, stderr };
        } catch (e) {
          const err = e as { code?: number; stdout?: string; stderr?: string };
          if (typeof err.code !== 'number') throw e;
          return { code: err.code, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
        }
      };
      const ok = async (...args: string[]) => {
        const r = await lamassu(...args);
        assert.equal(r.code, 0, `lamassu ${args.join(' ')}: ${r.stderr}${r.stdout}`);
        return r.stdout;
      };
      for (const [id, tags, fw] of [['cli-1', 'site:madrid', 2], ['cli-2', 'site:madrid', 1], ['cli-3', 'site:paris', 3]] as const) {
        await admin(server, 'POST', `${API}/devices`, { id, tags: [tags], metadata: { fw: { major: fw } } });
      }
      const madrid = JSON.parse(await ok('device-group', 'create', '--name', 'madrid', '--criterion', 'tags[contains]site:madrid', '--json'));
      assert.deepEqual(madrid.criteria, [{ field: 'tags', operand: 'ct', value: 'site:madrid' }]);
      assert.equal(madrid.stats.total, 2);
      const v2 = JSON.parse(await ok('device-group', 'create', '--name', 'madrid v2', '--parent', madrid.id, '--criterion', 'metadata[jsonpath]$.fw.major >= 2', '--criterion', 'status[ne]DECOMMISSIONED', '--json'));
      assert.equal(v2.parent_id, madrid.id);
      assert.equal(v2.stats.total, 1);

      const table = await ok('device-group', 'list');
      assert.match(table, /NAME/);
      assert.match(table, /madrid v2/);
      assert.match(table, /tags\[ct\]site:madrid/);
      const shown = await ok('device-group', 'show', v2.id);
      assert.match(shown, /devices\s*│\s*1\s/);
      assert.match(shown, /PENDING_PROVISIONING\s*│\s*1\s/);
      assert.deepEqual(JSON.parse(await ok('device-group', 'devices', madrid.id, '--json')).map((d: { id: string }) => d.id), ['cli-1', 'cli-2']);
      assert.match(await ok('device-group', 'devices', v2.id), /cli-1/);

      const refused = await lamassu('device-group', 'create', '--name', 'bad', '--criterion', 'colour[eq]red', '--json');
      assert.equal(refused.code, 1);
      assert.equal(JSON.parse(refused.stderr).code, 'FILTER_FIELD_UNKNOWN');
      assert.equal((await lamassu('device-group', 'create', '--name', 'bad', '--criterion', 'no-brackets')).code, 2);
      const withChildren = await lamassu('device-group', 'delete', madrid.id, '--json');
      assert.equal(withChildren.code, 1);
      assert.equal(JSON.parse(withChildren.stderr).code, 'DEVICE_GROUP_HAS_CHILDREN');
      await ok('device-group', 'delete', v2.id);
      await ok('device-group', 'delete', madrid.id);
      assert.deepEqual(JSON.parse(await ok('device-group', 'list', '--json')), []);
    } finally {
      await server.stop();
    }
  });
});
