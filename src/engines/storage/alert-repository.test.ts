/** The alerts repository on SQLite and PostgreSQL: events recorded once, deliveries unique and claimed by one worker. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { it } from 'node:test';
import type { NewDelivery } from '../../domain/alerts/alert-repository.ts';
import type { Subscription } from '../../domain/alerts/subscription.ts';
import type { CloudEvent } from '../../domain/ports/event-bus.ts';
import { forEachStorage } from '../../../test/support/storage.ts';

const t0 = new Date(Date.UTC(2026, 0, 1));
const at = (ms: number) => new Date(t0.getTime() + ms);

const subscription = (userId: string, createdAt = t0): Subscription => ({
  id: randomUUID(),
  userId,
  eventType: 'certificate.#',
  conditions: [{ type: 'JSON-PATH', condition: '$.data.status' }],
  conditionMode: 'all',
  channel: { type: 'WEBHOOK', name: 'hook', config: { webhook_url: 'http://127.0.0.1:1/hook', webhook_method: 'POST' } },
  secret: 'ab'.repeat(32),
  createdAt,
});

const event = (type = 'certificate.status.update'): CloudEvent => ({
  specversion: '1.0',
  id: randomUUID(),
  source: 'lamassu/ca',
  type,
  time: t0.toISOString(),
  data: { status: 'REVOKED' },
});

const delivery = (s: Subscription, e: CloudEvent, createdAt = t0): NewDelivery => ({
  id: randomUUID(),
  subscriptionId: s.id,
  eventId: e.id,
  eventType: e.type,
  channelType: s.channel.type,
  createdAt,
});

forEachStorage('alert repository', (ctx) => {
  it('stores subscriptions and lists them per user; deleting one removes its deliveries', async () => {
    const repo = ctx.storage.alerts;
    const a1 = subscription('alice', at(1));
    const a2 = subscription('alice', at(2));
    const b1 = subscription('bob', at(3));
    for (const s of [a2, b1, a1]) await repo.insertSubscription(s);
    assert.deepEqual(await repo.getSubscription(a1.id), a1);
    assert.deepEqual((await repo.listSubscriptions('alice')).map((s) => s.id), [a1.id, a2.id]);
    assert.ok((await repo.listSubscriptions()).length >= 3);
    const e = event();
    await ctx.storage.transaction((tx) => tx.alerts.recordEvent(e, t0));
    await repo.insertDeliveries([delivery(a2, e)]);
    assert.equal(await repo.deleteSubscription(a2.id), true);
    assert.equal(await repo.deleteSubscription(a2.id), false);
    assert.deepEqual(await repo.listDeliveries(a2.id, 10), []);
    assert.equal(await repo.getSubscription(a2.id), undefined);
  });

  it('records an event once, keeping the latest per type and a count of first sightings', async () => {
    const repo = ctx.storage.alerts;
    const type = `test.${randomUUID().slice(0, 8)}`;
    const first = event(type);
    const second = event(type);
    assert.equal(await ctx.storage.transaction((tx) => tx.alerts.recordEvent(first, at(10))), true);
    assert.equal(await ctx.storage.transaction((tx) => tx.alerts.recordEvent(second, at(20))), true);
    assert.equal(await ctx.storage.transaction((tx) => tx.alerts.recordEvent(first, at(30))), false, 'a redelivered event is known');
    const latest = (await repo.latestEvents()).find((l) => l.eventType === type)!;
    assert.deepEqual(latest, { eventType: type, event: second, seenAt: at(20), count: 2 });
    assert.deepEqual(await repo.getEvent(first.id), first);
  });

  it('records a batch in a few statements: each id once (within the batch and across batches), the latest per type moved by its new events only', async () => {
    const repo = ctx.storage.alerts;
    const [x, y] = [`test.${randomUUID().slice(0, 8)}`, `test.${randomUUID().slice(0, 8)}`];
    const [x1, x2, y1, x3] = [event(x), event(x), event(y), event(x)];
    const first = await ctx.storage.transaction((tx) => tx.alerts.recordEvents([x1, y1, x2, x1], at(10)));
    assert.deepEqual(first, new Set([x1.id, y1.id, x2.id]));
    // Seen ones are not new again; the type's latest is the last new event of the batch, counted once each.
    const second = await ctx.storage.transaction((tx) => tx.alerts.recordEvents([x2, x3, y1], at(20)));
    assert.deepEqual(second, new Set([x3.id]));
    const latest = new Map((await repo.latestEvents()).map((l) => [l.eventType, l]));
    assert.deepEqual(latest.get(x), { eventType: x, event: x3, seenAt: at(20), count: 3 });
    assert.deepEqual(latest.get(y), { eventType: y, event: y1, seenAt: at(10), count: 1 });
    assert.deepEqual(await repo.getEvents([x1.id, x3.id, randomUUID()]), new Map([[x1.id, x1], [x3.id, x3]]));
    assert.deepEqual(await ctx.storage.transaction((tx) => tx.alerts.recordEvents([], at(30))), new Set());
  });

  it('keeps one delivery per (event, subscription)', async () => {
    const repo = ctx.storage.alerts;
    const s = subscription('carol');
    await repo.insertSubscription(s);
    const e = event();
    await ctx.storage.transaction((tx) => tx.alerts.recordEvent(e, t0));
    await repo.insertDeliveries([delivery(s, e)]);
    await repo.insertDeliveries([delivery(s, e), delivery(s, e)]);
    const log = await repo.listDeliveries(s.id, 10);
    assert.equal(log.length, 1);
    assert.equal(log[0].status, 'pending');
    assert.equal(log[0].attempts, 0);
  });

  it('lets one worker claim a due delivery; a lapsed claim is due again; only the claimer records the outcome', async () => {
    const repo = ctx.storage.alerts;
    const s = subscription('dave');
    await repo.insertSubscription(s);
    const e = event();
    await ctx.storage.transaction((tx) => tx.alerts.recordEvent(e, t0));
    const d = delivery(s, e, at(100));
    await repo.insertDeliveries([d]);
    assert.equal((await repo.dueDeliveries(at(99), 1000)).some((x) => x.id === d.id), false, 'not due before its time');
    assert.equal((await repo.dueDeliveries(at(100), 1000)).some((x) => x.id === d.id), true);

    const claim = async (worker: string, now: Date, until: Date) => (await repo.claimDeliveries([d.id], worker, now, until)).length === 1;
    const claims = await Promise.all([claim('w1', at(100), at(1100)), claim('w2', at(100), at(1100))]);
    assert.deepEqual(claims.filter(Boolean).length, 1, 'exactly one worker gets it');
    const winner = claims[0] ? 'w1' : 'w2';
    const loser = claims[0] ? 'w2' : 'w1';
    assert.equal((await repo.dueDeliveries(at(500), 1000)).some((x) => x.id === d.id), false, 'claimed: not due');
    await repo.finishAttempt(d.id, loser, { status: 'delivered', attempts: 1, at: at(200), error: null });
    assert.equal((await repo.listDeliveries(s.id, 10))[0].status, 'sending', 'a worker without the claim changes nothing');

    // The claimer died: after the claim runs out, another worker takes it (attempts counted at each claim).
    const lapsed = (await repo.dueDeliveries(at(1100), 1000)).find((x) => x.id === d.id)!;
    assert.equal(lapsed.attempts, 1);
    assert.equal(await claim('w3', at(1100), at(2100)), true);
    await repo.finishAttempt(d.id, 'w3', { status: 'pending', attempts: 2, at: at(1200), error: 'HTTP 503', nextAttemptAt: at(1300) });
    assert.equal(await claim('w3', at(1299), at(2000)), false, 'not before the back-off ends');
    assert.equal(await claim(winner, at(1300), at(2300)), true);
    await repo.finishAttempt(d.id, winner, { status: 'failed', attempts: 3, at: at(1400), error: 'HTTP 503' });
    const [row] = await repo.listDeliveries(s.id, 10);
    assert.deepEqual(
      { status: row.status, attempts: row.attempts, lastAttemptAt: row.lastAttemptAt, lastError: row.lastError },
      { status: 'failed', attempts: 3, lastAttemptAt: at(1400), lastError: 'HTTP 503' },
    );
    assert.equal((await repo.dueDeliveries(at(1_000_000), 1000)).some((x) => x.id === d.id), false, 'failed rows are never due');
  });
  it('records many outcomes in one statement, each its own, only under the claimer; gives back unsent rows uncounted', async () => {
    const repo = ctx.storage.alerts;
    const s = subscription('fred');
    await repo.insertSubscription(s);
    const es = [event(), event(), event(), event()];
    await ctx.storage.transaction(async (tx) => {
      for (const e of es) await tx.alerts.recordEvent(e, at(0));
    });
    const rows = es.map((e) => delivery(s, e, at(0)));
    await repo.insertDeliveries(rows);
    const [a, b, c, d] = rows.map((r) => r.id) as [string, string, string, string];
    assert.deepEqual((await repo.claimDeliveries([a, b, c], 'w', at(10), at(1010))).sort(), [a, b, c].sort());
    assert.deepEqual(await repo.claimDeliveries([d], 'other', at(10), at(1010)), [d]);
    await repo.finishAttempts('w', [
      { id: a, outcome: { status: 'delivered', attempts: 1, at: at(20), error: null } },
      { id: b, outcome: { status: 'pending', attempts: 1, at: at(30), error: "HTTP 503 it's down", nextAttemptAt: at(5030) } },
      { id: d, outcome: { status: 'delivered', attempts: 1, at: at(40), error: null } },
    ]);
    await repo.releaseDeliveries([c, d], 'w', at(50));
    const byId = new Map((await repo.listDeliveries(s.id, 10)).map((r) => [r.id, r]));
    const view = (id: string) => {
      const r = byId.get(id)!;
      return { status: r.status, attempts: r.attempts, next: r.nextAttemptAt.getTime(), last: r.lastAttemptAt?.getTime() ?? null, error: r.lastError };
    };
    assert.deepEqual(view(a), { status: 'delivered', attempts: 1, next: at(20).getTime(), last: at(20).getTime(), error: null });
    assert.deepEqual(view(b), { status: 'pending', attempts: 1, next: at(5030).getTime(), last: at(30).getTime(), error: "HTTP 503 it's down" });
    assert.deepEqual(view(c), { status: 'pending', attempts: 0, next: at(50).getTime(), last: null, error: null }, 'given back: due now, attempt not counted');
    assert.deepEqual(view(d), { status: 'sending', attempts: 1, next: at(1010).getTime(), last: null, error: null }, "another worker's claim: untouched");
    assert.equal((await repo.dueDeliveries(at(50), 1000)).some((x) => x.id === c), true);
  });
  it('prunes finished deliveries and unneeded events older than the cutoff, keeping what is unfinished and the latest per type', async () => {
    const repo = ctx.storage.alerts;
    const s = subscription('erin');
    await repo.insertSubscription(s);
    const [oldDone, oldFailed, oldPending, recent, bare] = [event(), event(), event(), event(), event()];
    await ctx.storage.transaction(async (tx) => {
      for (const e of [oldDone, oldFailed, oldPending, bare]) await tx.alerts.recordEvent(e, at(0));
      await tx.alerts.recordEvent(recent, at(5000));
    });
    const rows = [delivery(s, oldDone, at(0)), delivery(s, oldFailed, at(0)), delivery(s, oldPending, at(0)), delivery(s, recent, at(5000))];
    await repo.insertDeliveries(rows);
    const finish = async (d: NewDelivery, status: 'delivered' | 'failed') => {
      assert.deepEqual(await repo.claimDeliveries([d.id], 'w', at(6000), at(7000)), [d.id]);
      await repo.finishAttempt(d.id, 'w', { status, attempts: 1, at: at(6000), error: null });
    };
    await finish(rows[0], 'delivered');
    await finish(rows[1], 'failed');
    await finish(rows[3], 'delivered');

    const gone = await repo.prune(at(1000));
    assert.ok(gone.deliveries >= 2 && gone.events >= 3, JSON.stringify(gone));
    assert.deepEqual((await repo.listDeliveries(s.id, 10)).map((d) => d.eventId).sort(), [oldPending.id, recent.id].sort());
    assert.equal(await repo.getEvent(oldDone.id), undefined);
    assert.equal(await repo.getEvent(bare.id), undefined);
    assert.deepEqual(await repo.getEvent(oldPending.id), oldPending, 'a pending delivery keeps its event');
    assert.deepEqual(await repo.getEvent(recent.id), recent);
    assert.ok((await repo.latestEvents()).some((l) => l.eventType === 'certificate.status.update'));
    assert.deepEqual(await repo.prune(at(1000)), { deliveries: 0, events: 0 });
  });
});
