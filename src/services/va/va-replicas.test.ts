/**
 * Two replicas over one PostgreSQL and one RabbitMQ: a revocation made through replica A's CA service
 * reaches replica B's OCSP cache through the bus (broadcast subscription), well within a second.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { removeTestTopology } from '../../../test/support/amqp-topology.ts';
import { teardown } from '../../../test/support/bounded.ts';
import { ocspRequestsFor } from '../../../test/support/ocsp-test-pki.ts';
import { amqpUrl, needPostgres, needRabbitMq } from '../../../test/support/services.ts';
import { openTestStorage } from '../../../test/support/storage.ts';
import { systemClock } from '../../domain/ports/clock.ts';
import { silentLogger, type Logger } from '../../domain/ports/logger.ts';
import { MemoryKeyEngine } from '../../engines/crypto/memory/memory-key-engine.ts';
import { KeyEngineSet } from '../../engines/crypto/registry.ts';
import { AmqpEventBus } from '../../engines/eventbus/amqp-event-bus.ts';
import { DEFAULT_CA_SETTINGS } from '../ca/ca-service-deps.ts';
import { CaService } from '../ca/ca-service.ts';
import { CaServiceVaGateway } from '../ca/va-gateway.ts';
import type { OcspAnswer } from './ocsp-responder.ts';
import { PublishTap } from './publish-tap.ts';
import { DEFAULT_VA_SETTINGS, VaService } from './va-service.ts';

const saysRevoked = (der: Uint8Array) => der.some((b, i) => b === 0xa1 && der[i + 2] === 0x18 && der[i + 3] === 0x0f);

describe('VA replicas on PostgreSQL and RabbitMQ', async () => {
  if (!(await needPostgres()) || !(await needRabbitMq())) {
    it('runs with PostgreSQL and RabbitMQ', { skip: 'SERVICE MISSING: PostgreSQL or RabbitMQ' }, () => {});
    return;
  }
  const exchange = `lamassu-test-${randomUUID()}`;
  const queuePrefix = `test-${randomUUID()}`;
  let opened: Awaited<ReturnType<typeof openTestStorage>>;
  const buses: AmqpEventBus[] = [];
  const replicas: { ca: CaService; va: VaService }[] = [];
  // One key engine shared in memory stands in for a shared HSM or Vault.
  const engines = KeyEngineSet.of([new MemoryKeyEngine({ id: 'memory' })]);
  // What a replica logged, so that an unexpected OCSP error status names its cause.
  const logged: unknown[] = [];
  const logger: Logger = { debug() {}, info() {}, warn: (o) => void logged.push(o), error: (o) => void logged.push(o), child: () => logger };
  const explain = (answer: OcspAnswer) =>
    `${answer.kind === 'error' ? `error ${answer.status}` : 'a response'}; logged: ${logged.map((l) => inspect(l, { depth: 4 })).join('\n') || 'nothing'}`;

  before(async () => {
    opened = await openTestStorage('postgres');
    for (let i = 0; i < 2; i++) {
      const bus = new AmqpEventBus({ url: amqpUrl(), exchange, queuePrefix, logger: silentLogger });
      await bus.connect();
      buses.push(bus);
      const events = new PublishTap(bus);
      const random = { uuid: () => randomUUID(), bytes: (n: number) => new Uint8Array(randomBytes(n)) };
      const ca = new CaService({ storage: opened.storage, keyEngines: engines, events, clock: systemClock, random, logger: silentLogger, settings: DEFAULT_CA_SETTINGS });
      const va = new VaService({ ca: new CaServiceVaGateway(ca), storage: opened.storage, events, clock: systemClock, logger, settings: DEFAULT_VA_SETTINGS, replicaId: `r${i}` });
      events.listen(va.onPublished);
      await va.start();
      replicas.push({ ca, va });
    }
  });
  after(async () => {
    await teardown([
      ...replicas.map((r, i) => [`replica ${i} va.close()`, () => r.va.close()] as const),
      ...buses.map((b, i) => [`replica ${i} bus.close()`, () => b.close()] as const),
      ['removing the test topology', () => removeTestTopology({ exchange, queuePrefix, groups: ['va.crl', 'va.roles'] })],
      ['disposing the test storage', () => opened?.dispose()],
    ]);
  });

  it('a revocation on replica A is answered as revoked by replica B within a second', async () => {
    const [a, b] = replicas as [(typeof replicas)[0], (typeof replicas)[0]];
    const caRec = await a.ca.createCa({ subject: { common_name: 'Replica CA' }, keySpec: { type: 'ECDSA', bits: 256 }, validity: { type: 'Duration', duration: '1y' }, actor: 't' });
    const leaf = (await a.ca.generateCertificate({ caId: caRec.id, keySpec: { type: 'ECDSA', bits: 256 }, engineId: 'memory', subject: { common_name: 'replica-leaf' }, profile: { caDefault: true }, actor: 't' })).certificate;
    const request = ocspRequestsFor(caRec.certificate.der)(leaf.serialNumber);

    const first = await b.va.ocsp.respond(request); // B caches "good"
    assert.ok(first.kind === 'response' && !saysRevoked(first.body), `replica B's first answer: ${explain(first)}`);
    await a.ca.updateCertificateStatus({ serialNumber: leaf.serialNumber, issuerCaId: caRec.id, request: { status: 'REVOKED', reason: 'KeyCompromise' }, actor: 't' });
    const revokedAt = performance.now();
    const onA = await a.va.ocsp.respond(request);
    assert.ok(onA.kind === 'response' && saysRevoked(onA.body), `replica A at once (in-process): ${explain(onA)}`);
    for (;;) {
      const answer = await b.va.ocsp.respond(request);
      if (answer.kind === 'response' && saysRevoked(answer.body)) break;
      assert.ok(performance.now() - revokedAt < 1000, 'replica B still says good after 1 s');
      await new Promise((r) => setTimeout(r, 5));
    }
  });
});
