import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { buildHttpApp } from './build-http-app.ts';
import { HttpMetrics, type EventBusStatus } from './metrics.ts';

describe('/health and /metrics follow the message broker link', () => {
  const bus: EventBusStatus = { connected: true, disconnects: 0, reconnects: 0, bufferedEvents: 0, droppedEvents: 0 };
  let databaseUp = true;
  const build = async (withBus: boolean) => {
    const metrics = new HttpMetrics();
    if (withBus) metrics.followEventBus(() => bus);
    return buildHttpApp({
      logger: pino({ level: 'silent' }),
      metrics,
      health: {
        database: async () => {
          if (!databaseUp) throw new Error('down');
        },
        keyEngines: [{ id: 'files', health: async () => ({ ok: true }) }],
        ...(withBus ? { eventBus: () => bus } : {}),
      },
      services: [],
    });
  };

  it('ok with the link up; degraded (still 200) with it down; down (503) only for the database or key engines', async () => {
    const app = await build(true);
    try {
      let res = await app.inject({ url: '/health' });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), { status: 'ok', database: { ok: true }, eventBus: { ok: true }, keyEngines: [{ id: 'files', ok: true }] });

      bus.connected = false;
      res = await app.inject({ url: '/health' });
      assert.equal(res.statusCode, 200);
      assert.equal(res.json().status, 'degraded');
      assert.deepEqual(res.json().eventBus, { ok: false, detail: 'message broker unreachable; reconnecting' });

      databaseUp = false;
      res = await app.inject({ url: '/health' });
      assert.equal(res.statusCode, 503);
      assert.equal(res.json().status, 'down');
    } finally {
      bus.connected = true;
      databaseUp = true;
      await app.close();
    }
  });

  it('an in-process bus (nothing to lose) shows no eventBus entry', async () => {
    const app = await build(false);
    try {
      const res = await app.inject({ url: '/health' });
      assert.equal(res.json().status, 'ok');
      assert.equal(res.json().eventBus, undefined);
      assert.doesNotMatch((await app.inject({ url: '/metrics' })).body, /lamassu_event_bus/);
    } finally {
      await app.close();
    }
  });

  it('/metrics carries the link gauge, loss and return counters, buffered and dropped events', async () => {
    const app = await build(true);
    try {
      Object.assign(bus, { connected: false, disconnects: 2, reconnects: 1, bufferedEvents: 7, droppedEvents: 3 });
      let body = (await app.inject({ url: '/metrics' })).body;
      assert.match(body, /^lamassu_event_bus_connected 0$/m);
      assert.match(body, /^lamassu_event_bus_disconnects_total 2$/m);
      assert.match(body, /^lamassu_event_bus_reconnects_total 1$/m);
      assert.match(body, /^lamassu_event_bus_buffered_events 7$/m);
      assert.match(body, /^lamassu_event_bus_dropped_events_total 3$/m);
      Object.assign(bus, { connected: true, reconnects: 2, bufferedEvents: 0 });
      body = (await app.inject({ url: '/metrics' })).body;
      assert.match(body, /^lamassu_event_bus_connected 1$/m);
      assert.match(body, /^lamassu_event_bus_reconnects_total 2$/m);
    } finally {
      Object.assign(bus, { connected: true, disconnects: 0, reconnects: 0, bufferedEvents: 0, droppedEvents: 0 });
      await app.close();
    }
  });
});
