/** The enrollment path end to end on PostgreSQL (the full rule set runs on SQLite in enrollment-service.test.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { needPostgres } from '../../../test/support/services.ts';
import { DAY, enrollmentWorld } from '../../../test/support/enrollment-fixture.ts';

test('PostgreSQL: enroll, about to expire, re-enroll, revoke, decommission', async (t) => {
  if (!(await needPostgres(t))) return;
  const w = await enrollmentWorld('postgres');
  try {
    await w.createDms('pg1', w.settings({ authMode: 'HTTP_BASIC', httpBasic: { username: 'u', password: 'password-1' } }));
    const creds = { basic: { username: 'u', password: 'password-1' } };
    const first = await w.enrollment.enroll({ label: 'pg1', csrDer: await w.csr('pg-dev'), credentials: creds });
    assert.equal((await w.devices.get('pg-dev')).status, 'FULLY_PROVISIONED');
    w.clock.set(first.certificate.notAfter.getTime() - 10 * DAY);
    await w.sweep();
    assert.equal((await w.devices.get('pg-dev')).status, 'REQUIRES_ACTION');
    const second = await w.enrollment.reenroll({ label: 'pg1', csrDer: await w.csr('pg-dev'), credentials: { clientCertificateChain: [first.certificate.der] } });
    await w.bus.idle();
    assert.equal((await w.devices.get('pg-dev')).status, 'FULLY_PROVISIONED');
    await w.gateway.revoke({ serialNumber: second.certificate.serialNumber, issuerCaId: 'factory-ca', reason: 'KeyCompromise', actor: 'admin' });
    await w.bus.idle();
    assert.equal((await w.devices.get('pg-dev')).status, 'PROVISIONED_WITH_WARNINGS');
    assert.equal((await w.devices.decommission('pg-dev', 'admin')).status, 'DECOMMISSIONED');
    assert.equal((await w.devices.stats({ dmsId: 'pg1' })).statusDistribution.DECOMMISSIONED, 1);
  } finally {
    await w.dispose();
  }
});
