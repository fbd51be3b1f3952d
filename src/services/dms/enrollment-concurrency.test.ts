import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Repositories } from '../../domain/ports/storage.ts';
import { DeviceService } from '../devices/device-service.ts';
import { enrollmentWorld, type EnrollmentWorld } from '../../../test/support/enrollment-fixture.ts';
import { EnrollmentService } from './enrollment-service.ts';

let w: EnrollmentWorld;

/**
 * A CA gateway whose issuances start when `go()` is called and answer together once `n` have been issued,
 * so every enrollment reaches the binding in the same tick whatever order the (asynchronous) signatures
 * finish in.
 */
function heldGateway(n: number) {
  let go!: () => void;
  const gate = new Promise<void>((r) => (go = r));
  let issued = 0;
  let allIssued!: () => void;
  const together = new Promise<void>((r) => (allIssued = r));
  const ca = {
    ...w.gateway,
    issue: async (req: Parameters<typeof w.gateway.issue>[0]) => {
      await gate;
      const result = await w.gateway.issue(req);
      if (++issued === n) allIssued();
      await together;
      return result;
    },
  };
  return { ca, go };
}
before(async () => {
  w = await enrollmentWorld();
});
after(async () => w?.dispose());

test('concurrent enrollments bind in shared transactions; one refused in the batch fails alone and its certificate is revoked', async () => {
  await w.createDms('conc', w.settings({ allowReplacement: true }));
  await w.devices.create({ id: 'conc-dead', dmsId: 'conc' }, 'admin');
  const { ca, go } = heldGateway(9);
  let transactions = 0;
  const storage = { ...w.storage, transaction: <T>(fn: (tx: Repositories) => Promise<T>) => (transactions++, w.storage.transaction(fn)) };
  const devices = new DeviceService({ storage, events: w.bus, clock: w.clock, random: w.deps.random, logger: w.deps.logger, ca });
  const enrollment = new EnrollmentService({ ...w.deps, ca }, devices);
  const ids = [...Array.from({ length: 8 }, (_, i) => `conc-${i}`), 'conc-dead'];
  const csrs = await Promise.all(ids.map((id) => w.csr(id)));
  const runs = ids.map((id, i) => enrollment.enroll({ label: 'conc', csrDer: csrs[i]!, credentials: {} }));
  // Decommissioned after its checks passed, before its certificate is bound.
  await w.devices.decommission('conc-dead', 'admin');
  go();
  const outcomes = await Promise.allSettled(runs);
  assert.deepEqual(outcomes.map((o) => o.status), [...Array(8).fill('fulfilled'), 'rejected']);
  assert.equal((outcomes[8] as PromiseRejectedResult).reason.code, 'DEVICE_DECOMMISSIONED');
  // One batch rolled back for the refusal, then one transaction each.
  assert.equal(transactions, 1 + ids.length);
  for (const [i, id] of ids.slice(0, 8).entries()) {
    const d = await w.devices.get(id);
    assert.equal(d.status, 'FULLY_PROVISIONED');
    assert.equal(d.slots[0]?.active.serialNumber, (outcomes[i] as PromiseFulfilledResult<{ certificate: { serialNumber: string } }>).value.certificate.serialNumber);
    assert.deepEqual((await w.devices.timelineOf(id)).map((e) => e.type), ['CREATED', 'PROVISIONED', 'STATUS-UPDATED']);
  }
  const dead = (await w.storage.certificates.list({ issuerCaId: 'factory-ca', pageSize: 1000 })).list.filter((c) => c.subjectCommonName === 'conc-dead');
  assert.equal(dead.length, 1);
  assert.equal(dead[0]!.status, 'REVOKED');
  assert.equal((await w.devices.get('conc-dead')).slots.length, 0);
});

test('without refusals a burst costs one binding transaction', async () => {
  await w.createDms('burst');
  const { ca, go } = heldGateway(6);
  let transactions = 0;
  const storage = { ...w.storage, transaction: <T>(fn: (tx: Repositories) => Promise<T>) => (transactions++, w.storage.transaction(fn)) };
  const devices = new DeviceService({ storage, events: w.bus, clock: w.clock, random: w.deps.random, logger: w.deps.logger, ca });
  const enrollment = new EnrollmentService({ ...w.deps, ca }, devices);
  const csrs = await Promise.all(Array.from({ length: 6 }, (_, i) => w.csr(`burst-${i}`)));
  const runs = csrs.map((csrDer) => enrollment.enroll({ label: 'burst', csrDer, credentials: {} }));
  go();
  await Promise.all(runs);
  assert.equal(transactions, 1);
  assert.equal((await w.devices.list({ id: 'burst-*' })).list.filter((d) => d.status === 'FULLY_PROVISIONED').length, 6);
});
