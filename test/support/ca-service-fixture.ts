/**
 * Test support: a CaService over real storage, a MemoryKeyEngine and an in-process bus that records what
 * it published. Not imported by production code.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Clock } from '../../src/domain/ports/clock.ts';
import type { CloudEvent, EventBus } from '../../src/domain/ports/event-bus.ts';
import type { KeyEngine } from '../../src/domain/ports/key-engine.ts';
import { silentLogger } from '../../src/domain/ports/logger.ts';
import type { Storage } from '../../src/domain/ports/storage.ts';
import { MemoryKeyEngine } from '../../src/engines/crypto/memory/memory-key-engine.ts';
import { KeyEngineSet } from '../../src/engines/crypto/registry.ts';
import { toPem } from '../../src/x509/pem.ts';
import { DEFAULT_CA_SETTINGS, type CaServiceDeps, type CaSettings } from '../../src/services/ca/ca-service-deps.ts';
import { CaService } from '../../src/services/ca/ca-service.ts';

export class RecordingBus implements EventBus {
  readonly published: CloudEvent[] = [];
  async publish(events: CloudEvent[]): Promise<void> {
    this.published.push(...events);
  }
  async subscribe(): Promise<() => Promise<void>> {
    return async () => {};
  }
  async close(): Promise<void> {}
  ofType(type: string): CloudEvent[] {
    return this.published.filter((e) => e.type === type);
  }
}

export function testCaService(
  storage: Storage,
  clock: Clock,
  opts: { engines?: KeyEngine[]; settings?: Partial<CaSettings>; deps?: Pick<CaServiceDeps, 'csrVerifier' | 'issuedCertificates'> } = {},
) {
  const engines = opts.engines ?? [new MemoryKeyEngine({ id: 'memory' })];
  const events = new RecordingBus();
  const service = new CaService({
    storage,
    keyEngines: KeyEngineSet.of(engines),
    events,
    clock,
    random: { uuid: () => randomUUID(), bytes: (n) => new Uint8Array(randomBytes(n)) },
    logger: silentLogger,
    settings: { ...DEFAULT_CA_SETTINGS, vaBaseUrls: ['http://va.example:8080', 'http://va2.example'], ...opts.settings },
    ...opts.deps,
  });
  return { service, events };
}

/** `openssl verify -x509_strict` of leaf against root with the intermediates; returns openssl's output. */
export function opensslVerify(root: Uint8Array, intermediates: Uint8Array[], leaf: Uint8Array): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'lamassu-verify-'));
  try {
    const file = (name: string, ders: Uint8Array[]) => {
      const p = path.join(dir, name);
      writeFileSync(p, ders.map((d) => toPem(d, 'CERTIFICATE')).join(''));
      return p;
    };
    const args = ['verify', '-x509_strict', '-CAfile', file('root.pem', [root])];
    if (intermediates.length) args.push('-untrusted', file('sub.pem', intermediates));
    args.push(file('leaf.pem', [leaf]));
    return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function opensslText(der: Uint8Array): string {
  return execFileSync('openssl', ['x509', '-inform', 'DER', '-noout', '-text'], { input: der, encoding: 'utf8' });
}
