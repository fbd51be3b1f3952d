import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { buildHttpsApp } from './build-https-app.ts';
import { HttpMetrics } from './metrics.ts';

test("Lamassu's per-service health: /api/<prefix>/health for each service that runs, none for the others", async () => {
  const app = await buildHttpsApp({
    logger: pino({ level: 'silent' }),
    metrics: new HttpMetrics(),
    auth: { adminTokens: { findByHash: async () => undefined } as never },
    services: [{ name: 'ca' }, { name: 'va' }, { name: 'devices' }],
    version: '9.8.7',
  });
  try {
    for (const prefix of ['ca', 'va', 'devmanager']) {
      const res = await app.inject({ url: `/api/${prefix}/health` });
      assert.equal(res.statusCode, 200, prefix);
      const body = res.json();
      assert.deepEqual(Object.keys(body).sort(), ['build', 'build_time', 'health', 'version']);
      assert.equal(body.version, '9.8.7');
      assert.equal(body.health, true);
      assert.ok(!Number.isNaN(Date.parse(body.build_time)), body.build_time);
    }
    for (const prefix of ['dmsmanager', 'alerts', 'kms']) assert.equal((await app.inject({ url: `/api/${prefix}/health` })).statusCode, 404, prefix);
  } finally {
    await app.close();
  }
});
