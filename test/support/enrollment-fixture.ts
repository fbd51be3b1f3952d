/**
 * Test support: the DMS manager, enrollment and device manager over real storage, the real CA service,
 * an in-process bus and a ManualClock, with a factory CA and a bootstrap (IDevID) CA. Not imported by
 * production code.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { statusAt } from '../../src/domain/ca/certificate-status.ts';
import type { Certificate } from '../../src/domain/ca/certificate.ts';
import { DEFAULT_REENROLLMENT, DEFAULT_SERVER_KEYGEN } from '../../src/domain/dms/dms.ts';
import { ManualClock } from '../../src/domain/ports/clock.ts';
import type { RandomSource } from '../../src/domain/ports/id-generator.ts';
import { silentLogger } from '../../src/domain/ports/logger.ts';
import { MemoryKeyEngine } from '../../src/engines/crypto/memory/memory-key-engine.ts';
import { KeyEngineSet } from '../../src/engines/crypto/registry.ts';
import { HttpEnrollmentWebhook } from '../../src/engines/dms/http-enrollment-webhook.ts';
import { ScryptPasswordHasher } from '../../src/engines/dms/scrypt-password-hasher.ts';
import { SoftwareServerKeyGenerator } from '../../src/engines/dms/software-server-key-generator.ts';
import { X509CertificateInspector } from '../../src/engines/dms/x509-certificate-inspector.ts';
import { MemoryEventBus } from '../../src/engines/eventbus/memory-event-bus.ts';
import { after, before, describe } from 'node:test';
import { needPostgres } from './services.ts';
import { openTestStorage, storageKinds, type StorageKind } from './storage.ts';
import { buildName, type SubjectFields } from '../../src/x509/name.ts';
import { octetString, oid, sequence } from '../../src/x509/der.ts';
import { caEvent, CaEventType, certificateEventData } from '../../src/services/ca/ca-events.ts';
import { DEFAULT_CA_SETTINGS } from '../../src/services/ca/ca-service-deps.ts';
import { CaService } from '../../src/services/ca/ca-service.ts';
import { DeviceService } from '../../src/services/devices/device-service.ts';
import { withCachedDms } from '../../src/services/dms/cached-dms-repository.ts';
import type { DmsServiceDeps } from '../../src/services/dms/dms-service-deps.ts';
import { caServiceGateway } from '../../src/services/dms/ca-service-gateway.ts';
import { DmsService, type DmsInput, type DmsSettingsInput } from '../../src/services/dms/dms-service.ts';
import { EnrollmentService } from '../../src/services/dms/enrollment-service.ts';
import { VerifiedDmsCertificates } from '../../src/services/dms/verified-dms-certificates.ts';

export const T0 = Date.UTC(2026, 0, 1);
export const DAY = 86_400_000;

export async function enrollmentWorld(kind: StorageKind = 'sqlite') {
  const opened = await openTestStorage(kind);
  const storage = opened.storage;
  const clock = new ManualClock(T0);
  const bus = new MemoryEventBus(silentLogger);
  const random: RandomSource = { uuid: () => randomUUID(), bytes: (n) => new Uint8Array(randomBytes(n)) };
  const engine = new MemoryKeyEngine({ id: 'memory' });
  const keyGenerator = new SoftwareServerKeyGenerator();
  const ca = new CaService({
    storage,
    keyEngines: KeyEngineSet.of([engine]),
    events: bus,
    clock,
    random,
    logger: silentLogger,
    settings: { ...DEFAULT_CA_SETTINGS },
  });
  const gateway = caServiceGateway(ca);
  const deps: DmsServiceDeps = {
    storage: withCachedDms(storage, clock),
    events: bus,
    clock,
    random,
    logger: silentLogger,
    ca: gateway,
    passwords: new ScryptPasswordHasher(),
    webhook: new HttpEnrollmentWebhook(),
    inspector: new X509CertificateInspector(),
    keyGenerator,
    verifiedDmsCertificates: new VerifiedDmsCertificates(clock),
  };
  const unfollowDmsCertificates = await deps.verifiedDmsCertificates!.follow(bus, 'dms-certificates');
  const devices = new DeviceService({ storage, events: bus, clock, random, logger: silentLogger, ca: gateway });
  const unfollow = await devices.followCertificateStatus();
  const dms = new DmsService(deps);
  const enrollment = new EnrollmentService(deps, devices);
  const published: string[] = [];
  await bus.subscribe('#', 'recorder', (e) => void published.push(`${e.type}@${e.actor}`));

  const tenYears = { type: 'Duration' as const, duration: '10y' };
  const factoryCa = await ca.createCa({ id: 'factory-ca', subject: { common_name: 'Factory CA' }, keySpec: { type: 'ECDSA', bits: 256 }, validity: tenYears, actor: 'test' });
  const otherCa = await ca.createCa({ id: 'other-ca', subject: { common_name: 'Other CA' }, keySpec: { type: 'ECDSA', bits: 256 }, validity: tenYears, actor: 'test' });
  const idevidCa = await ca.createCa({ id: 'idevid-ca', subject: { common_name: 'IDevID CA' }, keySpec: { type: 'ECDSA', bits: 256 }, validity: tenYears, actor: 'test' });

  /** A fresh P-256 key and a CSR signed by it; `san` is GeneralNames DER. */
  const csr = async (subject: SubjectFields | string, san?: Uint8Array) => {
    const fields = typeof subject === 'string' ? { common_name: subject } : subject;
    const extensions = san ? sequence(sequence(oid('2.5.29.17'), octetString(san))) : undefined;
    const g = await keyGenerator.generate({ type: 'ECDSA', bits: 256 }, buildName(fields), extensions);
    return g.csrDer;
  };

  /** A certificate issued straight by a CA (bootstrap certificates, certificates of foreign devices). */
  const issueDirect = async (caId: string, cn: string, validity = '1y'): Promise<Certificate> =>
    ca.signCertificate({ caId, csr: await csr(cn), profile: { inline: { ...DEFAULT_CA_SETTINGS.defaultIssuance, validity: { type: 'Duration', duration: validity } } }, actor: 'test' });

  const settings = (over: Partial<DmsSettingsInput['enrollment']> = {}, rest: Partial<Omit<DmsSettingsInput, 'enrollment'>> = {}): DmsSettingsInput => ({
    enrollment: {
      enrollmentCaId: 'factory-ca',
      registrationMode: 'JITP',
      authMode: 'NO_AUTH',
      clientCertificate: { validationCaIds: [], allowExpired: false },
      httpBasic: null,
      webhook: null,
      verifyCsrSignature: true,
      allowReplacement: false,
      deviceIdSource: 'common_name',
      deviceProfile: { tags: ['jitp'], metadata: { line: 1 } },
      ...over,
    },
    reenrollment: DEFAULT_REENROLLMENT,
    serverKeygen: DEFAULT_SERVER_KEYGEN,
    caDistribution: { includeEnrollmentCa: true, includeChain: true, managedCaIds: [] },
    issuanceProfileId: null,
    ...rest,
  });

  const createDms = (id: string, s: DmsSettingsInput = settings(), authorizedCaIds = ['factory-ca']): ReturnType<DmsService['create']> => {
    const input: DmsInput = { id, name: `DMS ${id}`, authorizedCaIds, settings: s };
    return dms.create(input, 'admin');
  };

  /** What the CA service's status sweep does, until its job lands: time-driven statuses, one event each. */
  const sweep = async () => {
    const now = clock.now();
    for (const status of ['ACTIVE', 'ABOUT_TO_EXPIRE'] as const) {
      for (const c of (await storage.certificates.list({ status: [status], pageSize: 1000 })).list) {
        const next = statusAt(now, c.notAfter, c.aboutToExpireAt);
        if (next === c.status) continue;
        await storage.certificates.updateStatus(c.id, c.status, { status: next, revokedAt: null, revocationReason: null });
        await bus.publish([caEvent(ca.deps, CaEventType.certificateStatusUpdate, c.id, certificateEventData({ ...c, status: next }, c.status), 'system')]);
      }
    }
    await bus.idle();
  };

  const issuedBy = async (caId: string) => (await storage.certificates.list({ issuerCaId: caId, pageSize: 1000 })).list.length;

  return {
    storage,
    clock,
    bus,
    ca,
    gateway,
    deps,
    devices,
    dms,
    enrollment,
    published,
    factoryCa,
    otherCa,
    idevidCa,
    csr,
    issueDirect,
    settings,
    createDms,
    sweep,
    issuedBy,
    async dispose() {
      await unfollow();
      await unfollowDmsCertificates();
      await bus.close();
      await opened.dispose();
    },
  };
}

export type EnrollmentWorld = Awaited<ReturnType<typeof enrollmentWorld>>;

/**
 * Declares `describe('<name> [sqlite]')` and `describe('<name> [postgres]')`, each with an enrollment world of
 * its own; `world()` gives it while the suite runs. Without PostgreSQL the postgres half is skipped loudly.
 */
export function forEachEnrollmentWorld(name: string, fn: (world: () => EnrollmentWorld, kind: StorageKind) => void): void {
  for (const kind of storageKinds) {
    describe(`${name} [${kind}]`, async () => {
      if (kind === 'postgres' && !(await needPostgres())) {
        describe('runs on PostgreSQL', { skip: 'SERVICE MISSING: PostgreSQL' }, () => {});
        return;
      }
      let w: EnrollmentWorld | undefined;
      before(async () => {
        w = await enrollmentWorld(kind);
      });
      after(async () => w?.dispose());
      fn(() => {
        if (!w) throw new Error('the enrollment world exists only while the suite runs');
        return w;
      }, kind);
    });
  }
}
