import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { forEachStorage } from '../../../test/support/storage.ts';
import { ManualClock } from '../../domain/ports/clock.ts';
import { silentLogger } from '../../domain/ports/logger.ts';
import { MemoryKeyEngine } from '../../engines/crypto/memory/memory-key-engine.ts';
import { KeyEngineSet } from '../../engines/crypto/registry.ts';
import { opensslCsr } from '../../../test/support/csr-fixture.ts';
import { RecordingBus, testCaService } from '../../../test/support/ca-service-fixture.ts';
import { DEFAULT_CA_SETTINGS } from './ca-service-deps.ts';
import { CaService } from './ca-service.ts';

const p256 = { type: 'ECDSA' as const, bits: 256 };

forEachStorage('CA issuance under load', (ctx) => {
  test('1,000 concurrent issuances: 1,000 distinct serials, all stored, one event each', async () => {
    const { service, events } = testCaService(ctx.storage, new ManualClock(Date.now()));
    const ca = await service.createCa({ subject: { common_name: 'Load CA' }, keySpec: p256, validity: { type: 'Duration', duration: '1y' }, actor: 'load' });
    const csr = opensslCsr({ key: 'p256', subj: '/CN=load-device' });
    const certs = await Promise.all(
      Array.from({ length: 1000 }, () => service.signCertificate({ caId: ca.id, csr, profile: { caDefault: true }, actor: 'load' })),
    );
    assert.equal(new Set(certs.map((c) => c.serialNumber)).size, 1000);
    let stored = 0;
    for (let bookmark: string | undefined, first = true; first || bookmark; first = false) {
      const page = await ctx.storage.certificates.list({ issuerCaId: ca.id, isCa: false, pageSize: 300, bookmark });
      stored += page.list.length;
      bookmark = page.next ?? undefined;
    }
    assert.equal(stored, 1000);
    assert.equal(events.ofType('certificate.create').length, 1000);
  });

  test('a serial that clashes with another is drawn again, also inside one group commit', async () => {
    const clashing = new Uint8Array(randomBytes(16));
    let serialDraws = 0;
    const engine = new MemoryKeyEngine({ id: 'memory' });
    const service = new CaService({
      storage: ctx.storage,
      keyEngines: KeyEngineSet.of([engine]),
      events: new RecordingBus(),
      clock: new ManualClock(Date.now()),
      // The first two certificate serials are the same 16 bytes; every later draw is fresh.
      random: { uuid: () => randomUUID(), bytes: (n) => (n === 16 && ++serialDraws >= 2 && serialDraws <= 3 ? clashing.slice() : new Uint8Array(randomBytes(n))) },
      logger: silentLogger,
      settings: DEFAULT_CA_SETTINGS,
    });
    const ca = await service.createCa({ subject: { common_name: 'Clash CA' }, keySpec: p256, validity: { type: 'Duration', duration: '1y' }, actor: 't' });
    const csr = opensslCsr({ key: 'p256', subj: '/CN=clash' });
    // Concurrent, so both land in one group commit: the batch fails, is written one by one, the loser redraws.
    const [a, b] = await Promise.all([
      service.signCertificate({ caId: ca.id, csr, profile: { caDefault: true }, actor: 't' }),
      service.signCertificate({ caId: ca.id, csr, profile: { caDefault: true }, actor: 't' }),
    ]);
    assert.ok([a.serialNumber, b.serialNumber].includes(Buffer.from(clashing).toString('hex').replace(/^0+/, '')));
    assert.notEqual(b.serialNumber, a.serialNumber);
    assert.ok(await ctx.storage.certificates.get(a.id));
    assert.ok(await ctx.storage.certificates.get(b.id));
    assert.equal(serialDraws, 4);
  });
});
