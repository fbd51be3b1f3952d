/** The cloud proxy's repository on SQLite and PostgreSQL: registry rows, jobs queued once and run in order, cloud resources. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { it } from 'node:test';
import type { JobKind, NewConnectorJob } from '../../domain/cloud/connector.ts';
import { forEachStorage } from '../../../test/support/storage.ts';

const t0 = new Date(Date.UTC(2026, 0, 1));
const at = (ms: number) => new Date(t0.getTime() + ms);
const job = (connectorId: string, eventId: string, kind: JobKind, key: string, deviceId: string | null = null): NewConnectorJob => ({
  id: randomUUID(),
  connectorId,
  eventId,
  kind,
  key,
  deviceId,
  payload: { n: key },
  createdAt: t0,
});

forEachStorage('cloud connector repository', (ctx) => {
  it('registers a connector once; a re-registration keeps its config and status; backlog and failures are counted', async () => {
    const repo = ctx.storage.connectors;
    const id = `c-${randomUUID().slice(0, 8)}`;
    await repo.register({ id, type: 'AWS_IOT', settings: { region: 'eu-west-1' }, now: t0 });
    assert.equal(await repo.setConfig(id, { enabled: false }), true);
    assert.equal(await repo.setConfig('nobody', {}), false);
    await repo.setStatus(id, 'DISCONNECTED', 'ECONNREFUSED', at(1));
    await repo.register({ id, type: 'AWS_IOT', settings: { region: 'eu-central-1' }, now: at(2) });
    const c = (await repo.get(id))!;
    assert.deepEqual(
      { config: c.config, settings: c.settings, status: c.status, detail: c.statusDetail, registered: c.registeredAt, seen: c.lastSeenAt, backlog: c.backlog },
      { config: { enabled: false }, settings: { region: 'eu-central-1' }, status: 'DISCONNECTED', detail: 'ECONNREFUSED', registered: t0, seen: at(2), backlog: 0 },
    );
    const [a, b] = [job(id, 'e1', 'ENROLL', 's1', 'd1'), job(id, 'e2', 'CERT_STATUS', 's1')];
    assert.equal(await repo.enqueue([a, b]), 2);
    assert.equal(await repo.enqueue([{ ...a, id: randomUUID() }]), 0, 'the same event, kind and key queue nothing');
    await repo.finishJob(b.id, { status: 'FAILED', at: at(3), error: 'refused' });
    const counted = (await repo.list()).find((x) => x.id === id)!;
    assert.deepEqual([counted.backlog, counted.failed], [1, 1]);
    await repo.setLastSync(id, at(4));
    assert.deepEqual((await repo.get(id))!.lastSyncAt, at(4));
  });

  it('hands out the oldest pending job first, keeps progress, retries and finishes it', async () => {
    const repo = ctx.storage.connectors;
    const id = `c-${randomUUID().slice(0, 8)}`;
    await repo.register({ id, type: 'AWS_IOT', settings: {}, now: t0 });
    const jobs = [job(id, 'e1', 'ENROLL', 's1', 'dev-1'), job(id, 'e2', 'CERT_STATUS', 's1'), job(id, 'e3', 'DECOMMISSION', 'dev-1', 'dev-1')];
    for (const j of jobs) await repo.enqueue([j]);
    const head = (await repo.headJob(id))!;
    assert.equal(head.id, jobs[0]!.id);
    assert.deepEqual(head.payload, { n: 's1' });
    await repo.addProgress(head.id, 'thing');
    await repo.addProgress(head.id, 'thing');
    await repo.addProgress(head.id, 'certificate');
    await repo.retryJob(head.id, { at: at(1), nextAttemptAt: at(1000), error: 'ECONNREFUSED' });
    const again = (await repo.headJob(id))!;
    assert.deepEqual([again.id, again.attempts, again.progress, again.nextAttemptAt, again.lastError], [head.id, 1, ['thing', 'certificate'], at(1000), 'ECONNREFUSED']);
    await repo.finishJob(head.id, { status: 'DONE', at: at(2000), error: null });
    assert.equal((await repo.headJob(id))!.id, jobs[1]!.id);
    assert.equal(await repo.hasJob(id, 'ENROLL', { key: 's1' }), true);
    assert.equal(await repo.hasJob(id, 'ENROLL', { deviceId: 'dev-1' }), true);
    assert.equal(await repo.hasJob(id, 'ENROLL', { deviceId: 'dev-2' }), false);
    assert.deepEqual((await repo.listJobs(id, { deviceId: 'dev-1', limit: 10 })).map((j) => j.kind), ['DECOMMISSION', 'ENROLL']);
    assert.deepEqual((await repo.listJobs(id, { key: 's1', kind: 'CERT_STATUS', limit: 10 })).map((j) => j.id), [jobs[1]!.id]);
  });

  it('keeps one row per cloud resource, found by device and kind', async () => {
    const repo = ctx.storage.connectors;
    const id = `c-${randomUUID().slice(0, 8)}`;
    const base = { connectorId: id, kind: 'CERTIFICATE' as const, deviceId: 'dev-1', cloudId: 'abc', arn: 'arn:cert/abc', thingName: 'dev-1', details: { ca_id: 'ca' }, updatedAt: t0, recheckAt: null };
    await repo.putResource({ ...base, key: 's1', status: 'ACTIVE' });
    await repo.putResource({ ...base, key: 's1', status: 'REVOKED', updatedAt: at(5) });
    await repo.putResource({ ...base, key: 's2', status: 'ACTIVE', cloudId: 'def', updatedAt: at(6) });
    await repo.putResource({ ...base, kind: 'CA', key: 'ca', deviceId: null, thingName: null, status: 'ACTIVE' });
    assert.equal((await repo.getResource(id, 'CERTIFICATE', 's1'))!.status, 'REVOKED');
    assert.deepEqual((await repo.resourcesOfDevice(id, 'dev-1')).map((r) => r.key), ['s2', 's1']);
    assert.deepEqual((await repo.listResources(id, 'CA')).map((r) => r.key), ['ca']);
    assert.equal(await repo.getResource(id, 'CA', 'nope'), undefined);
  });

  it('finds the resources due for a recheck, soonest first; a cleared recheck is no longer found (superseded certificates, migration 0015)', async () => {
    const repo = ctx.storage.connectors;
    const id = `c-${randomUUID().slice(0, 8)}`;
    const base = { connectorId: id, kind: 'CERTIFICATE' as const, deviceId: 'dev-1', cloudId: 'abc', arn: 'arn:cert/abc', thingName: 'dev-1', status: 'ACTIVE', details: {}, updatedAt: t0 };
    await repo.putResource({ ...base, key: 'late', recheckAt: at(3000) });
    await repo.putResource({ ...base, key: 'soon', recheckAt: at(1000) });
    await repo.putResource({ ...base, key: 'none', recheckAt: null });
    await repo.putResource({ ...base, connectorId: `${id}-other`, key: 'other', recheckAt: at(0) });
    assert.deepEqual((await repo.resourcesToRecheck(id, at(999), 10)).map((r) => r.key), []);
    assert.deepEqual((await repo.resourcesToRecheck(id, at(1000), 10)).map((r) => r.key), ['soon']);
    assert.deepEqual((await repo.resourcesToRecheck(id, at(5000), 10)).map((r) => r.key), ['soon', 'late']);
    assert.deepEqual((await repo.resourcesToRecheck(id, at(5000), 1)).map((r) => r.key), ['soon']);
    assert.deepEqual((await repo.getResource(id, 'CERTIFICATE', 'late'))!.recheckAt, at(3000));
    await repo.putResource({ ...base, key: 'soon', status: 'INACTIVE', recheckAt: null });
    assert.deepEqual((await repo.resourcesToRecheck(id, at(5000), 10)).map((r) => r.key), ['late']);
  });

  it("keeps a job's result and finds a job by id within its connector", async () => {
    const repo = ctx.storage.connectors;
    const id = `c-${randomUUID().slice(0, 8)}`;
    const sync = job(id, 'e1', 'SYNC', id);
    await repo.enqueue([sync]);
    assert.equal((await repo.getJob(id, sync.id))!.result, null);
    await repo.setJobResult(sync.id, { certificates_checked: 3 });
    await repo.setJobResult(sync.id, { certificates_checked: 4, things_created: 1 });
    assert.deepEqual((await repo.getJob(id, sync.id))!.result, { certificates_checked: 4, things_created: 1 });
    assert.equal(await repo.getJob(`${id}-other`, sync.id), undefined);
    assert.equal(await repo.getJob(id, randomUUID()), undefined);
  });
});
