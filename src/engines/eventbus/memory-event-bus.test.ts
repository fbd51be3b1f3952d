import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newEvent } from '../../domain/events.ts';
import { ManualClock } from '../../domain/ports/clock.ts';
import type { CloudEvent } from '../../domain/ports/event-bus.ts';
import type { Logger } from '../../domain/ports/logger.ts';
import { MemoryEventBus } from './memory-event-bus.ts';
import { topicMatcher } from './topic-matcher.ts';

let n = 0;
const random = { uuid: () => `id-${++n}`, bytes: (k: number) => new Uint8Array(k) };
const clock = new ManualClock(Date.UTC(2026, 5, 1, 12, 0, 0));
const event = (type: string, data: unknown = {}) => newEvent(type, 'lamassu/test', 'subj', data, 'tester', clock, random);

function recordingLogger(): Logger & { errors: unknown[] } {
  const errors: unknown[] = [];
  const l = { errors, debug() {}, info() {}, warn() {}, error: (o: unknown) => void errors.push(o), child: () => l };
  return l;
}

describe('topicMatcher', () => {
  const table: [string, string, boolean][] = [
    ['certificate.status.update', 'certificate.status.update', true],
    ['certificate.status.update', 'certificate.status', false],
    ['certificate.*', 'certificate.create', true],
    ['certificate.*', 'certificate.status.update', false],
    ['certificate.*', 'certificate', false],
    ['*.create', 'ca.create', true],
    ['*.create', 'create', false],
    ['certificate.#', 'certificate', true],
    ['certificate.#', 'certificate.status.update', true],
    ['certificate.#', 'ca.create', false],
    ['#', 'anything.at.all', true],
    ['#', 'x', true],
    ['#.update', 'certificate.status.update', true],
    ['#.update', 'update', true],
    ['#.update', 'certificate.updated', false],
    ['a.#.b', 'a.b', true],
    ['a.#.b', 'a.x.y.b', true],
    ['a.#.b', 'a.x.y.c', false],
    ['a.*.#', 'a', false],
    ['a.*.#', 'a.b', true],
    ['a.*.#', 'a.b.c.d', true],
    ['#.#', 'a.b', true],
    ['ca.create', 'ca.created', false],
    ['ca.create', 'xca.create', false],
  ];
  for (const [pattern, topic, expected] of table) {
    it(`${pattern} ${expected ? 'matches' : 'does not match'} ${topic}`, () => {
      assert.equal(topicMatcher(pattern)(topic), expected);
    });
  }
});

describe('newEvent', () => {
  it('builds a CloudEvents 1.0 envelope with id and time from the ports', () => {
    assert.deepEqual(newEvent('ca.create', 'lamassu/ca', 'ca-1', { a: 1 }, 'alice', clock, { uuid: () => 'u-1', bytes: () => new Uint8Array() }), {
      specversion: '1.0',
      id: 'u-1',
      source: 'lamassu/ca',
      type: 'ca.create',
      time: '2026-06-01T12:00:00.000Z',
      subject: 'ca-1',
      datacontenttype: 'application/json',
      data: { a: 1 },
      actor: 'alice',
    });
    assert.equal('subject' in newEvent('x', 's', undefined, null, 'system', clock, random), false);
  });
});

describe('MemoryEventBus', () => {
  it('delivers to matching subscriptions only, after publish returns, in publish order', async () => {
    const bus = new MemoryEventBus(recordingLogger());
    const got: string[] = [];
    let published = false;
    await bus.subscribe('certificate.#', 'va', async (e) => {
      assert.ok(published, 'handler ran before the publisher continued');
      await new Promise((r) => setImmediate(r));
      got.push(`va:${e.type}`);
    });
    await bus.subscribe('ca.*', 'alerts', (e) => void got.push(`alerts:${e.type}`));
    await bus.publish([event('certificate.create'), event('ca.create'), event('certificate.status.update'), event('device.create')]);
    published = true;
    await bus.idle();
    assert.deepEqual(got.filter((g) => g.startsWith('va:')), ['va:certificate.create', 'va:certificate.status.update']);
    assert.deepEqual(got.filter((g) => g.startsWith('alerts:')), ['alerts:ca.create']);
    await bus.close();
  });

  it('logs a failing handler and keeps delivering to it and to others', async () => {
    const logger = recordingLogger();
    const bus = new MemoryEventBus(logger);
    const ok: string[] = [];
    const seenByFailing: string[] = [];
    await bus.subscribe('#', 'failing', (e) => {
      seenByFailing.push(e.id);
      throw new Error('handler bug');
    });
    await bus.subscribe('#', 'healthy', (e) => void ok.push(e.id));
    const events: CloudEvent[] = [event('a'), event('b')];
    await bus.publish(events);
    await bus.idle();
    assert.deepEqual(ok, events.map((e) => e.id));
    assert.deepEqual(seenByFailing, events.map((e) => e.id));
    assert.equal(logger.errors.length, 2);
    await bus.close();
  });

  it('stops delivering after unsubscribe and refuses publishing after close', async () => {
    const bus = new MemoryEventBus(recordingLogger());
    const got: string[] = [];
    const unsubscribe = await bus.subscribe('#', 'g', (e) => void got.push(e.type));
    await bus.publish([event('one')]);
    await bus.idle();
    await unsubscribe();
    await bus.publish([event('two')]);
    await bus.idle();
    assert.deepEqual(got, ['one']);
    await bus.close();
    await assert.rejects(bus.publish([event('three')]), /closed/);
  });

  it('close waits for handlers in flight', async () => {
    const bus = new MemoryEventBus(recordingLogger());
    let finished = false;
    await bus.subscribe('#', 'slow', async () => {
      await new Promise((r) => setTimeout(r, 20));
      finished = true;
    });
    await bus.publish([event('x')]);
    await bus.close();
    assert.equal(finished, true);
  });

  it('unorderedConcurrency: up to that many events in the handler at once, every event once, unsubscribe waits for them', async () => {
    const bus = new MemoryEventBus(recordingLogger());
    let inHandler = 0;
    let most = 0;
    const seen: string[] = [];
    const unsubscribe = await bus.subscribe(
      '#',
      'wide',
      async (e) => {
        most = Math.max(most, ++inHandler);
        await new Promise((r) => setTimeout(r, 5));
        seen.push(e.type);
        inHandler--;
      },
      { unorderedConcurrency: 4 },
    );
    // An ordered subscription beside it still gets one at a time.
    let orderedMost = 0;
    let orderedIn = 0;
    await bus.subscribe('#', 'narrow', async () => {
      orderedMost = Math.max(orderedMost, ++orderedIn);
      await new Promise((r) => setTimeout(r, 1));
      orderedIn--;
    });
    await bus.publish(Array.from({ length: 10 }, (_, i) => event(`t${i}`)));
    await bus.idle();
    assert.deepEqual([...seen].sort(), Array.from({ length: 10 }, (_, i) => `t${i}`).sort());
    assert.equal(most, 4);
    assert.equal(orderedMost, 1);
    // Unsubscribing while handlers run: it resolves once they are done, and the rest is dropped.
    await bus.publish(Array.from({ length: 10 }, (_, i) => event(`u${i}`)));
    while (inHandler === 0) await new Promise((r) => setImmediate(r));
    await unsubscribe();
    assert.equal(inHandler, 0, 'unsubscribe resolved with handlers still running');
    assert.equal(seen.filter((t) => t.startsWith('u')).length, 4);
    await bus.close();
  });
});
