import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { systemClock } from '../../domain/ports/clock.ts';
import type { CloudEvent, EventBus } from '../../domain/ports/event-bus.ts';
import { silentLogger } from '../../domain/ports/logger.ts';
import { MemoryEventBus } from '../eventbus/memory-event-bus.ts';
import { forEachStorage } from '../../../test/support/storage.ts';
import { OutboxEventBus, onceById } from './outbox-event-bus.ts';
import { OutboxRelay } from './outbox-relay.ts';
import { SeenIds } from './seen-ids.ts';

const event = (subject: string, n: number): CloudEvent => ({
  specversion: '1.0',
  id: randomUUID(),
  source: 'test',
  type: 'certificate.status.update',
  time: new Date().toISOString(),
  subject,
  data: { n },
});

const waitFor = async (what: string, cond: () => boolean | Promise<boolean>, ms = 10_000) => {
  const until = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

/** A bus that takes what it is sent while `up`, and refuses otherwise (a broker that is away). */
class SwitchableBus implements EventBus {
  up = true;
  attempts = 0;
  readonly taken: CloudEvent[] = [];
  async publish(events: CloudEvent[]): Promise<void> {
    this.attempts++;
    if (!this.up) throw new Error('broker away');
    this.taken.push(...events);
  }
  async subscribe(): Promise<() => Promise<void>> {
    return async () => undefined;
  }
  async close(): Promise<void> {}
}

const relayOn = (ctx: { storage: import('../../domain/ports/storage.ts').Storage }, bus: EventBus, holder: string) =>
  new OutboxRelay({
    outbox: ctx.storage.outbox,
    leases: ctx.storage.leases,
    bus,
    clock: systemClock,
    logger: silentLogger,
    holder,
    batchSize: 7,
    pollMs: 20,
    leaseTtlMs: 3000,
    retryDelayMs: { initial: 20, max: 80 },
  });

forEachStorage('transactional outbox', (ctx) => {
  test('rows commit and roll back with the transaction of their change, and read back in write order', async () => {
    const kept = [event('a', 1), event('b', 2), event('a', 3)];
    await ctx.storage.transaction((tx) => tx.outbox.append(kept));
    await assert.rejects(
      ctx.storage.transaction(async (tx) => {
        await tx.outbox.append([event('lost', 9)]);
        throw new Error('the change failed');
      }),
      /the change failed/,
    );
    const rows = await ctx.storage.outbox.oldest(100);
    assert.deepEqual(rows.map((r) => r.event), kept);
    assert.ok(rows[0]!.seq < rows[1]!.seq && rows[1]!.seq < rows[2]!.seq);
    // Read-ahead: the rows after those in flight.
    assert.deepEqual((await ctx.storage.outbox.oldest(2, [rows[0]!.seq])).map((r) => r.event), kept.slice(1));
    const backlog = await ctx.storage.outbox.backlog();
    assert.equal(backlog.count, 3);
    assert.ok(backlog.oldestCreatedAt !== null && Date.now() - backlog.oldestCreatedAt < 60_000);
    await ctx.storage.outbox.remove(rows.map((r) => r.seq));
    assert.deepEqual(await ctx.storage.outbox.backlog(), { count: 0, oldestCreatedAt: null });
  });

  test('the relay keeps rows while the bus refuses, backs off, then sends each once in order and deletes them', async () => {
    const bus = new SwitchableBus();
    bus.up = false;
    const relay = relayOn(ctx, bus, 'replica-1');
    const written: CloudEvent[] = [];
    for (let i = 0; i < 30; i++) written.push(event(`cert-${i % 4}`, i));
    // In several transactions, as separate changes would be.
    for (let i = 0; i < written.length; i += 5) await ctx.storage.transaction((tx) => tx.outbox.append(written.slice(i, i + 5)));
    relay.start();
    try {
      await waitFor('a few refused attempts', () => bus.attempts >= 3);
      const attemptsAt = bus.attempts;
      await new Promise((r) => setTimeout(r, 200));
      // Back-off (20, 40, 80, 80 ms ...): a handful of attempts in 200 ms, not a busy loop.
      assert.ok(bus.attempts - attemptsAt <= 6, `${bus.attempts - attemptsAt} attempts in 200 ms`);
      assert.equal((await ctx.storage.outbox.backlog()).count, 30, 'nothing deleted while refused');
      assert.equal(relay.state().leader, true);
      bus.up = true;
      await waitFor('the backlog to drain', async () => (await ctx.storage.outbox.backlog()).count === 0);
      assert.deepEqual(bus.taken.map((e) => e.id), written.map((e) => e.id), 'each once, in write order');
      // On SQLite the deletion is visible before its fsync returns, and the relay counts a batch after that.
      await waitFor('the relay to count what it deleted', () => relay.state().relayed >= 30);
      assert.equal(relay.state().relayed, 30);
    } finally {
      await relay.stop();
    }
  });

  test('one relay runs across replicas; when its holder stops, another takes over', async () => {
    const [b1, b2] = [new SwitchableBus(), new SwitchableBus()];
    const [r1, r2] = [relayOn(ctx, b1, 'replica-a'), relayOn(ctx, b2, 'replica-b')];
    r1.start();
    await waitFor('replica a to lead', () => r1.state().leader);
    r2.start();
    try {
      const first = Array.from({ length: 20 }, (_, i) => event('x', i));
      await ctx.storage.transaction((tx) => tx.outbox.append(first));
      r2.kick();
      await waitFor('the first rows to go out', async () => (await ctx.storage.outbox.backlog()).count === 0);
      assert.deepEqual([b1.taken.length, b2.taken.length], [20, 0]);
      assert.equal(r2.state().leader, false);
      await r1.stop(); // releases the lease
      const second = Array.from({ length: 5 }, (_, i) => event('y', i));
      await ctx.storage.transaction((tx) => tx.outbox.append(second));
      await waitFor('replica b to take over and send', () => b2.taken.length === 5, 5000);
      assert.deepEqual(b2.taken.map((e) => e.id), second.map((e) => e.id));
    } finally {
      await r1.stop();
      await r2.stop();
    }
  });

  test('in process: a committed event reaches a subscriber through the relay at once, and a repeat of its id is skipped', async () => {
    const memory = new MemoryEventBus(silentLogger);
    const relay = relayOn(ctx, memory, 'replica-m');
    const bus = new OutboxEventBus(memory, relay, silentLogger);
    const got: string[] = [];
    await bus.subscribe('#', 'g', (e) => void got.push(e.id));
    relay.start();
    try {
      await waitFor('the lease', () => relay.state().leader);
      const e = event('z', 1);
      await ctx.storage.transaction((tx) => tx.outbox.append([e]));
      const t0 = performance.now();
      await bus.publish([e]);
      await waitFor('delivery', () => got.length === 1);
      assert.ok(performance.now() - t0 < 150, 'woken by the commit, not the next poll');
      // The relay sending it again (it died before deleting the row) changes nothing for the subscriber.
      await memory.publish([e]);
      await memory.idle();
      assert.deepEqual(got, [e.id]);
    } finally {
      await relay.stop();
      await memory.close();
    }
  });
});

test('onceById: a repeated id is skipped; a failed run forgets the id so a retry runs; the window is bounded', async () => {
  const runs: string[] = [];
  let fail = true;
  const handler = onceById(
    async (e) => {
      runs.push(e.id);
      if (fail) throw new Error('boom');
    },
    new SeenIds(2),
    'g',
    silentLogger,
  );
  const [a, b, c] = [event('s', 1), event('s', 2), event('s', 3)];
  await assert.rejects(async () => handler(a));
  fail = false;
  await handler(a);
  await handler(a);
  assert.deepEqual(runs, [a.id, a.id]);
  await handler(b);
  await handler(c); // a leaves the window of 2
  await handler(b);
  await handler(a);
  assert.deepEqual(runs, [a.id, a.id, b.id, c.id, a.id]);
});
