/** EST csrattrs from the stored DMS and issuance profile, on SQLite and PostgreSQL. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_ISSUANCE_SETTINGS } from '../../domain/ca/issuance-profile.ts';
import { needPostgres } from '../../../test/support/services.ts';
import { storageKinds } from '../../../test/support/storage.ts';
import { enrollmentWorld } from '../../../test/support/enrollment-fixture.ts';

for (const kind of storageKinds) {
  test(`[${kind}] csrattrs: the key the DMS's profile (or the CA's) accepts, challengePassword for a webhook DMS`, async (t) => {
    if (kind === 'postgres' && !(await needPostgres(t))) return;
    const w = await enrollmentWorld(kind);
    try {
      const enforced = { ...DEFAULT_ISSUANCE_SETTINGS.cryptoEnforcement, enabled: true, allowEcdsaKeys: false, allowedRsaKeySizes: [3072, 4096] };
      const rsa = await w.ca.createProfile({ name: 'rsa-only', settings: { ...DEFAULT_ISSUANCE_SETTINGS, cryptoEnforcement: enforced }, actor: 'test' });
      await w.createDms('rsa-line', w.settings({ deviceIdSource: 'serial_number' }, { issuanceProfileId: rsa.id }));
      assert.deepEqual(await w.enrollment.csrattrs('rsa-line'), { oids: ['2.5.4.5'], key: { type: 'RSA', bits: 3072 } });
      await w.createDms('hook-line', w.settings({ authMode: 'EXTERNAL_WEBHOOK', webhook: { url: 'http://127.0.0.1:9/authorize', timeoutMs: 1000 } }));
      assert.deepEqual(await w.enrollment.csrattrs('hook-line'), { oids: ['1.2.840.113549.1.9.7'], key: { type: 'ECDSA', bits: 256 } });
      // A CA label: the CA's own profile (none here: the built-in default accepts the preferred P-256).
      assert.deepEqual(await w.enrollment.csrattrs('other-ca'), { oids: [], key: { type: 'ECDSA', bits: 256 } });
    } finally {
      await w.dispose();
    }
  });
}
