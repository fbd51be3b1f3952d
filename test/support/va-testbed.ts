/**
 * Test support: a real VA over a real CA service (SQLite, memory key engine, in-process bus behind the
 * PublishTap as in app.ts), served by fastify on a random local port so that openssl and curl can connect.
 * Not imported by production code.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fastify, { type FastifyInstance } from 'fastify';
import { openTestStorage } from './storage.ts';
import type { CertificateAuthority } from '../../src/domain/ca/ca.ts';
import type { Certificate } from '../../src/domain/ca/certificate.ts';
import { systemClock, type Clock } from '../../src/domain/ports/clock.ts';
import type { KeyEngine } from '../../src/domain/ports/key-engine.ts';
import { silentLogger } from '../../src/domain/ports/logger.ts';
import { MemoryKeyEngine } from '../../src/engines/crypto/memory/memory-key-engine.ts';
import { KeyEngineSet } from '../../src/engines/crypto/registry.ts';
import { MemoryEventBus } from '../../src/engines/eventbus/memory-event-bus.ts';
import { DEFAULT_CA_SETTINGS } from '../../src/services/ca/ca-service-deps.ts';
import { CaService } from '../../src/services/ca/ca-service.ts';
import { CaServiceVaGateway } from '../../src/services/ca/va-gateway.ts';
import { PublishTap } from '../../src/services/va/publish-tap.ts';
import { DEFAULT_VA_SETTINGS, VaService, type VaSettings } from '../../src/services/va/va-service.ts';
import { toPem } from '../../src/x509/pem.ts';
import { registerErrorHandling } from '../../src/http/errors.ts';
import { crlRoutes } from '../../src/http/va/crl-routes.ts';
import { ocspRoutes } from '../../src/http/va/ocsp-routes.ts';

export const VA_BASE = 'http://va.test';

/** A serial as openssl prints it: upper-case hex of whole bytes (a leading 0 for an odd number of digits). */
export const opensslSerial = (hex: string) => (hex.length % 2 ? `0${hex}` : hex).toUpperCase();

/** Runs a command without blocking the event loop (the server under test lives in this process). */
export function run(cmd: string, args: string[], opts: { cwd?: string; input?: Uint8Array } = {}): Promise<{ code: number; out: string; stdout: Buffer }> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { cwd: opts.cwd, encoding: 'buffer', maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, out: `${stdout.toString('latin1')}${stderr.toString('latin1')}`, stdout });
    });
    if (opts.input) child.stdin!.end(opts.input);
  });
}

export interface Testbed {
  dir: string;
  url: string;
  app: FastifyInstance;
  ca: CaService;
  va: VaService;
  bus: MemoryEventBus;
  root: CertificateAuthority;
  sub: CertificateAuthority;
  leaves: Certificate[];
  /** Writes DER certificates as one PEM file in `dir`; returns its path. */
  pem(name: string, ...ders: Uint8Array[]): string;
  /** Waits for bus delivery and pending CRL publications. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export async function startTestbed(opts: { leaves?: number; engines?: KeyEngine[]; clock?: Clock; settings?: Partial<VaSettings>; caKeyEngine?: string } = {}): Promise<Testbed> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lamassu-va-'));
  const opened = await openTestStorage('sqlite');
  const clock = opts.clock ?? systemClock;
  const bus = new MemoryEventBus(silentLogger);
  const events = new PublishTap(bus);
  const engines = KeyEngineSet.of(opts.engines ?? [new MemoryKeyEngine({ id: 'memory' })]);
  const random = { uuid: () => randomUUID(), bytes: (n: number) => new Uint8Array(randomBytes(n)) };
  const ca = new CaService({
    storage: opened.storage,
    keyEngines: engines,
    events,
    clock,
    random,
    logger: silentLogger,
    settings: { ...DEFAULT_CA_SETTINGS, vaBaseUrls: [VA_BASE] },
  });
  const va = new VaService({
    ca: new CaServiceVaGateway(ca),
    storage: opened.storage,
    events,
    clock,
    logger: silentLogger,
    settings: { ...DEFAULT_VA_SETTINGS, vaBaseUrls: [VA_BASE], crlDebounceMs: 50, ...opts.settings },
    replicaId: 'test',
  });
  events.listen(va.onPublished);
  await va.start();

  const engineId = opts.caKeyEngine;
  const root = await ca.createCa({ subject: { common_name: 'VA Test Root', organization: 'Lamassu' }, keySpec: { type: 'ECDSA', bits: 256 }, validity: { type: 'Duration', duration: '10y' }, ...(engineId ? { engineId } : {}), actor: 'test' });
  const sub = await ca.createCa({ parentId: root.id, subject: { common_name: 'VA Test Issuing CA' }, keySpec: { type: 'RSA', bits: 2048 }, validity: { type: 'Duration', duration: '5y' }, ...(engineId ? { engineId } : {}), actor: 'test' });
  const leaves: Certificate[] = [];
  for (let i = 0; i < (opts.leaves ?? 3); i++) {
    const g = await ca.generateCertificate({ caId: sub.id, keySpec: { type: 'ECDSA', bits: 256 }, engineId: engines.default().id, subject: { common_name: `device-${i}` }, profile: { caDefault: true }, actor: 'test' });
    leaves.push(g.certificate);
  }

  const app = fastify();
  registerErrorHandling(app);
  await app.register(ocspRoutes(va.ocsp, clock));
  await app.register(crlRoutes(va.crls, clock));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address() as { port: number };

  const tb: Testbed = {
    dir,
    url: `http://127.0.0.1:${address.port}`,
    app,
    ca,
    va,
    bus,
    root,
    sub,
    leaves,
    pem(name, ...ders) {
      const file = path.join(dir, name);
      writeFileSync(file, ders.map((d) => toPem(d, 'CERTIFICATE')).join(''));
      return file;
    },
    async settle() {
      await bus.idle();
      await va.crls.flush();
    },
    async close() {
      await app.close();
      await va.close();
      await bus.close();
      await opened.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  tb.pem('root.pem', root.certificate.der);
  tb.pem('ca.pem', sub.certificate.der);
  tb.pem('chain.pem', sub.certificate.der, root.certificate.der);
  leaves.forEach((l, i) => tb.pem(`leaf${i}.pem`, l.der));
  return tb;
}
