/**
 * Test support for a describe() that needs keys on a PKCS#11 token: before() creates a SoftHSM2 token,
 * opens an engine on it and a SQLite test storage; after() closes the engine, removes the token and
 * disposes of the storage. Register it before the describe's own hooks, which may then use its fields.
 */
import { after, before } from 'node:test';
import { Pkcs11KeyEngine, type Pkcs11KeyEngineConfig } from '../../src/engines/crypto/pkcs11/pkcs11-key-engine.ts';
import { createSoftHsmToken, type SoftHsmToken } from './softhsm-test-token.ts';
import { openTestStorage } from './storage.ts';

export interface SoftHsmEngine {
  token: SoftHsmToken;
  engine: Pkcs11KeyEngine;
  opened: Awaited<ReturnType<typeof openTestStorage>>;
}

export function softHsmEngineOnSqlite(overrides?: Partial<Pkcs11KeyEngineConfig>): SoftHsmEngine {
  const fixture = {} as SoftHsmEngine;
  before(async () => {
    fixture.token = await createSoftHsmToken();
    fixture.engine = await Pkcs11KeyEngine.open(fixture.token.config(overrides));
    fixture.opened = await openTestStorage('sqlite');
  });
  after(async () => {
    await fixture.engine?.close();
    await fixture.token?.remove();
    await fixture.opened?.dispose();
  });
  return fixture;
}
