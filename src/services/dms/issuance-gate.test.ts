import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IssuanceGate } from './issuance-gate.ts';

const tick = () => new Promise((r) => setImmediate(r));

test('an enrollment alone passes at once; a window of 0 never holds anyone', async () => {
  const gate = new IssuanceGate(60_000);
  let passed = false;
  await gate.track(async () => {
    await gate.pass();
    passed = true;
  });
  assert.ok(passed);
  const open = new IssuanceGate(0);
  await Promise.all([1, 2].map(() => open.track(() => open.pass())));
});

test('concurrent enrollments are held until the group is full, then pass together', async () => {
  const gate = new IssuanceGate(60_000, 3);
  const passed: number[] = [];
  const runs = [0, 1, 2].map((i) =>
    gate.track(async () => {
      await gate.pass();
      passed.push(i);
    }),
  );
  await tick();
  // The first saw nobody else in the service; the second waits for company.
  assert.deepEqual(passed, [0]);
  const fourth = gate.track(async () => {
    await gate.pass();
    passed.push(3);
  });
  await Promise.all([...runs, fourth]);
  assert.deepEqual(passed.sort(), [0, 1, 2, 3]);
});

test('the window ends the wait when the group does not fill', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const gate = new IssuanceGate(5, 100);
  let release!: () => void;
  const busy = gate.track(() => new Promise<void>((r) => (release = r)));
  let passed = false;
  const waiting = gate.track(async () => {
    await gate.pass();
    passed = true;
  });
  await tick();
  t.mock.timers.tick(4);
  await tick();
  assert.equal(passed, false, 'held inside the window');
  t.mock.timers.tick(1);
  await waiting;
  assert.ok(passed);
  release();
  await busy;
});
