import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { forEachStorage } from '../../../test/support/storage.ts';
import type { DeviceRecord, SlotCertificate } from '../../domain/devices/device.ts';
import { DEFAULT_REENROLLMENT, DEFAULT_SERVER_KEYGEN, type Dms } from '../../domain/dms/dms.ts';
import { DomainError } from '../../domain/errors.ts';

const T0 = Date.UTC(2026, 0, 1);
const DAY = 86_400_000;
const isCode = (code: string) => (e: unknown) => e instanceof DomainError && e.code === code;

function dms(id: string, over: Partial<Dms> = {}): Dms {
  return {
    id,
    name: `DMS ${id}`,
    metadata: { site: 'line 1' },
    authorizedCaIds: ['ca-1'],
    settings: {
      enrollment: {
        enrollmentCaId: 'ca-1',
        registrationMode: 'JITP',
        authMode: 'HTTP_BASIC',
        clientCertificate: { validationCaIds: [], allowExpired: false },
        httpBasic: { username: 'factory', passwordHash: 'scrypt$x' },
        webhook: null,
        verifyCsrSignature: true,
        allowReplacement: false,
        deviceIdSource: 'common_name',
        deviceProfile: { tags: ['t'], metadata: {} },
      },
      reenrollment: DEFAULT_REENROLLMENT,
      serverKeygen: DEFAULT_SERVER_KEYGEN,
      caDistribution: { includeEnrollmentCa: true, includeChain: false, managedCaIds: [] },
      issuanceProfileId: null,
    },
    certificate: null,
    createdAt: new Date(T0),
    updatedAt: new Date(T0),
    ...over,
  };
}

function device(id: string, over: Partial<DeviceRecord> = {}): DeviceRecord {
  return {
    id,
    icon: '',
    iconColor: '',
    alias: '',
    tags: [],
    metadata: {},
    dmsId: null,
    status: 'PENDING_PROVISIONING',
    createdAt: new Date(T0),
    updatedAt: new Date(T0),
    ...over,
  };
}

function slotCert(deviceId: string, version: number, over: Partial<SlotCertificate> = {}): SlotCertificate {
  return {
    deviceId,
    slot: 'default',
    version,
    serialNumber: randomUUID().replaceAll('-', ''),
    issuerCaId: 'ca-1',
    status: 'ACTIVE',
    notBefore: new Date(T0),
    notAfter: new Date(T0 + 365 * DAY),
    boundAt: new Date(T0 + version * DAY),
    supersededAt: null,
    ...over,
  };
}

forEachStorage('DMS and device repositories', (ctx) => {
  test('DMS: insert, get, update, find by certificate serial, count, delete; duplicate id is DMS_EXISTS', async () => {
    const { storage } = ctx;
    const a = dms('factory-1');
    await storage.dms.insert(a);
    assert.deepEqual(await storage.dms.get('factory-1'), a);
    await assert.rejects(storage.dms.insert(dms('factory-1')), isCode('DMS_EXISTS'));
    const updated: Dms = { ...a, name: 'renamed', certificate: { serialNumber: 'abc123', issuerCaId: 'dms-ca' }, updatedAt: new Date(T0 + DAY) };
    assert.equal(await storage.dms.update(updated), true);
    assert.deepEqual(await storage.dms.get('factory-1'), updated);
    assert.deepEqual(await storage.dms.findByCertificateSerial('abc123'), updated);
    assert.equal(await storage.dms.findByCertificateSerial('nope'), undefined);
    assert.equal(await storage.dms.update(dms('ghost')), false);
    await storage.dms.insert(dms('factory-2'));
    assert.equal(await storage.dms.count(), 2);
    assert.deepEqual((await storage.dms.list({})).list.map((d) => d.id), ['factory-1', 'factory-2']);
    assert.equal(await storage.dms.delete('factory-2'), true);
    assert.equal(await storage.dms.delete('factory-2'), false);
  });

  test('DMS list: bookmark pages visit every DMS once, in order, for each sort; a bookmark fits only its sort', async () => {
    const { storage } = ctx;
    // Some share a creation time, so the id breaks ties across page boundaries.
    for (let i = 0; i < 7; i++) await storage.dms.insert(dms(`paged-${i}`, { name: `N${6 - i}`, createdAt: new Date(T0 + Math.floor(i / 3) * DAY) }));
    const all = async (q: { sortBy?: 'created_at' | 'id' | 'name'; sortMode?: 'asc' | 'desc' }) => {
      const ids: string[] = [];
      let pages = 0;
      let bookmark: string | undefined;
      do {
        const page = await storage.dms.list({ ...q, pageSize: 3, ...(bookmark ? { bookmark } : {}) });
        assert.ok(page.list.length <= 3);
        ids.push(...page.list.map((d) => d.id));
        pages++;
        bookmark = page.next ?? undefined;
      } while (bookmark);
      assert.equal(new Set(ids).size, ids.length, 'each once');
      assert.ok(pages > 1);
      return ids.filter((id) => id.startsWith('paged-'));
    };
    const asc = ['paged-0', 'paged-1', 'paged-2', 'paged-3', 'paged-4', 'paged-5', 'paged-6'];
    assert.deepEqual(await all({}), asc);
    assert.deepEqual(await all({ sortBy: 'created_at', sortMode: 'desc' }), [...asc].reverse());
    assert.deepEqual(await all({ sortBy: 'name' }), [...asc].reverse());
    assert.deepEqual(await all({ sortBy: 'id', sortMode: 'desc' }), [...asc].reverse());
    assert.equal((await storage.dms.list({ pageSize: 1000 })).list.length, await storage.dms.count());
    const first = await storage.dms.list({ pageSize: 2 });
    await assert.rejects(storage.dms.list({ sortBy: 'name', bookmark: first.next! }), isCode('BOOKMARK_INVALID'));
    await assert.rejects(storage.dms.list({ pageSize: 0 }), isCode('PAGE_SIZE_INVALID'));
    for (let i = 0; i < 7; i++) await storage.dms.delete(`paged-${i}`);
  });

  test('devices: insert, duplicate, slots with archive, status compare-and-set, timeline', async () => {
    const { storage } = ctx;
    const id = `dev-${randomUUID()}`;
    await storage.devices.insert(device(id, { tags: ['a'], metadata: { m: 1 }, dmsId: 'factory-1' }));
    await assert.rejects(storage.devices.insert(device(id)), isCode('DEVICE_EXISTS'));
    const v1 = slotCert(id, 1);
    const v2 = slotCert(id, 2);
    const other = slotCert(id, 1, { slot: 'tls' });
    await storage.transaction(async (tx) => {
      await tx.devices.bindCertificate(v1);
      await tx.devices.bindCertificate(other);
    });
    await storage.devices.bindCertificate(v2);
    const got = await storage.devices.get(id);
    assert.deepEqual(got?.slots.map((s) => [s.name, s.active.serialNumber, s.archive.map((a) => a.serialNumber)]), [
      ['default', v2.serialNumber, [v1.serialNumber]],
      ['tls', other.serialNumber, []],
    ]);
    assert.deepEqual(got?.slots[0]?.archive[0]?.supersededAt, v2.boundAt);
    assert.deepEqual(got?.tags, ['a']);

    const found = await storage.devices.findSlotCertificates(v1.serialNumber);
    assert.equal(found.length, 1);
    assert.equal(found[0]?.version, 1);
    assert.equal((await storage.devices.findSlotCertificates(v1.serialNumber, 'other-ca')).length, 0);
    await storage.devices.updateSlotCertificateStatus(id, 'default', 2, 'REVOKED');
    assert.equal((await storage.devices.get(id))?.slots[0]?.active.status, 'REVOKED');

    assert.equal(await storage.devices.updateStatus(id, 'PENDING_PROVISIONING', 'FULLY_PROVISIONED', new Date(T0 + DAY)), true);
    assert.equal(await storage.devices.updateStatus(id, 'PENDING_PROVISIONING', 'REQUIRES_ACTION', new Date(T0 + DAY)), false);
    assert.equal((await storage.devices.get(id))?.status, 'FULLY_PROVISIONED');

    await storage.devices.addEvent({ id: randomUUID(), deviceId: id, at: new Date(T0 + 2 * DAY), type: 'PROVISIONED', description: 'p', actor: 'x' });
    await storage.devices.addEvent({ id: randomUUID(), deviceId: id, at: new Date(T0), type: 'CREATED', description: 'c', actor: 'x' });
    assert.deepEqual((await storage.devices.listEvents(id)).map((e) => e.type), ['CREATED', 'PROVISIONED']);
  });

  test('devices: insertIfAbsent inserts once and leaves a taken id (and the transaction) alone; timeline entries in one insert', async () => {
    const id = `ifa-${randomUUID()}`;
    const inserted = await ctx.storage.transaction(async (tx) => {
      const first = await tx.devices.insertIfAbsent(device(id, { status: 'FULLY_PROVISIONED' }));
      const second = await tx.devices.insertIfAbsent(device(id, { alias: 'other' }));
      // The transaction is still usable after the ignored conflict (PostgreSQL aborts on a failed statement).
      await tx.devices.addEvents([
        { id: `${id}-2`, deviceId: id, at: new Date(T0 + 1), type: 'PROVISIONED', description: 'p', actor: 'x' },
        { id: `${id}-1`, deviceId: id, at: new Date(T0), type: 'CREATED', description: 'c', actor: 'x' },
      ]);
      return [first, second];
    });
    assert.deepEqual(inserted, [true, false]);
    const got = await ctx.storage.devices.get(id);
    assert.equal(got?.status, 'FULLY_PROVISIONED');
    assert.equal(got?.alias, device(id).alias);
    assert.deepEqual((await ctx.storage.devices.listEvents(id)).map((e) => e.type), ['CREATED', 'PROVISIONED']);
    await ctx.storage.devices.addEvents([]);
  });

  test('devices: filters, tags and bookmark pagination visit every row once; counts by status', async () => {
    const { storage } = ctx;
    const dmsId = `dms-${randomUUID()}`;
    for (let i = 0; i < 23; i++) {
      await storage.devices.insert(
        device(`p${String(i).padStart(2, '0')}_${dmsId}`, {
          dmsId,
          tags: i % 2 ? ['odd', 'x%y'] : ['even'],
          status: i % 3 === 0 ? 'FULLY_PROVISIONED' : 'PENDING_PROVISIONING',
          createdAt: new Date(T0 + (i % 4) * DAY),
        }),
      );
    }
    const seen: string[] = [];
    let bookmark: string | undefined;
    do {
      const page = await storage.devices.list({ dmsId, sortBy: 'created_at', sortMode: 'desc', pageSize: 5, bookmark });
      seen.push(...page.list.map((d) => d.id));
      bookmark = page.next ?? undefined;
    } while (bookmark);
    assert.equal(seen.length, 23);
    assert.equal(new Set(seen).size, 23);
    assert.equal((await storage.devices.list({ dmsId, tags: ['odd'] })).list.length, 11);
    assert.equal((await storage.devices.list({ dmsId, tags: ['x%y', 'odd'] })).list.length, 11);
    assert.equal((await storage.devices.list({ dmsId, tags: ['x_y'] })).list.length, 0);
    assert.equal((await storage.devices.list({ dmsId, tags: ['od'] })).list.length, 0);
    assert.equal((await storage.devices.list({ dmsId, status: ['FULLY_PROVISIONED'] })).list.length, 8);
    assert.equal((await storage.devices.list({ id: `p0*` })).list.length, 10);
    assert.equal((await storage.devices.list({ id: `P0*` })).list.length, 0);
    assert.equal((await storage.devices.list({ id: `p0_*` })).list.length, 0);
    assert.equal((await storage.devices.list({ dmsId, createdAfter: new Date(T0 + 3 * DAY) })).list.length, 5);
    const counts = await storage.devices.countByStatus({ dmsId });
    assert.deepEqual(new Map(counts.map((c) => [c.status, c.count])), new Map([['FULLY_PROVISIONED', 8], ['PENDING_PROVISIONING', 15]]));
    await assert.rejects(storage.devices.list({ bookmark: 'junk' }), isCode('BOOKMARK_INVALID'));
  });
});
