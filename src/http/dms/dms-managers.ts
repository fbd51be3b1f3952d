/**
 * Builds the DMS manager, enrollment and device manager once per server (per ServiceDeps), so that the
 * `dms` and `devices` plugins and the EST front-end share one instance of each.
 */
import type { CertificateAuthorityGateway } from '../../domain/dms/certificate-authority-gateway.ts';
import type { CertificateInspector } from '../../domain/dms/certificate-inspector.ts';
import type { EnrollmentWebhook } from '../../domain/dms/enrollment-webhook.ts';
import type { PasswordHasher } from '../../domain/dms/password-hasher.ts';
import type { ServerKeyGenerator } from '../../domain/dms/server-key-generator.ts';
import { DeviceService } from '../../services/devices/device-service.ts';
import { withCachedDms, type CachedDmsRepository } from '../../services/dms/cached-dms-repository.ts';
import { IdentityBinding } from '../../services/dms/bind-identity.ts';
import { caServiceGateway } from '../../services/dms/ca-service-gateway.ts';
import { DmsService } from '../../services/dms/dms-service.ts';
import { EnrollmentService } from '../../services/dms/enrollment-service.ts';
import { VerifiedDmsCertificates } from '../../services/dms/verified-dms-certificates.ts';
import { caServiceFor } from '../ca/ca-plugin.ts';
import type { ServiceDeps } from '../service-plugin.ts';
import { systemTlsCaCertificates } from '../tls/server-tls.ts';

/** The concrete adapters app.ts chooses for the DMS manager. */
export interface DmsAdapters {
  passwords: PasswordHasher;
  webhook: EnrollmentWebhook;
  inspector: CertificateInspector;
  keyGenerator: ServerKeyGenerator;
}

/**
 * SQLite commits stall the event loop (fsync inside a synchronous driver): enrollments arriving within this
 * long issue and bind together, one commit pair per group. Measured on the EST benchmark (bench/est.bench.ts).
 */
const SQLITE_ISSUANCE_WINDOW_MS = 10;

const gateways = new WeakMap<ServiceDeps, CertificateAuthorityGateway>();
const deviceServices = new WeakMap<ServiceDeps, DeviceService>();
interface DmsServices {
  dms: DmsService;
  enrollment: EnrollmentService;
  /** Lamassu's bind-identity (manual identity assignment). */
  binding: IdentityBinding;
  /** Checked DMS certificates; the dms plugin makes it follow certificate status events. */
  verifiedDmsCertificates: VerifiedDmsCertificates;
  /** The DMS reads both share; the dms plugin makes it follow other replicas' DMS events. */
  dmsCache: CachedDmsRepository;
}

const dmsServices = new WeakMap<ServiceDeps, DmsServices>();

/** The server's one CA service (shared issuing-CA cache) as the DMS and device managers see it. */
export function caGatewayFor(deps: ServiceDeps): CertificateAuthorityGateway {
  let gateway = gateways.get(deps);
  if (!gateway) {
    gateway = caServiceGateway(caServiceFor(deps));
    gateways.set(deps, gateway);
  }
  return gateway;
}

export function deviceServiceFor(deps: ServiceDeps): DeviceService {
  let devices = deviceServices.get(deps);
  if (!devices) {
    devices = new DeviceService({ ...deps, ca: caGatewayFor(deps) });
    deviceServices.set(deps, devices);
  }
  return devices;
}

export function dmsServicesFor(deps: ServiceDeps, adapters: DmsAdapters, defaultDmsId?: string): DmsServices {
  let built = dmsServices.get(deps);
  if (!built) {
    // One DMS read cache for the DMS manager and enrollment: the manager's writes clear it at once.
    const csrVerifier = caServiceFor(deps).deps.csrVerifier;
    const storage = withCachedDms(deps.storage, deps.clock);
    const dmsDeps = {
      ...deps,
      ...adapters,
      storage,
      ca: caGatewayFor(deps),
      ...(csrVerifier ? { csrVerifier } : {}),
      verifiedDmsCertificates: new VerifiedDmsCertificates(deps.clock),
      systemCaCertificates: () => systemTlsCaCertificates({ dataDir: deps.config.dataDir, certFile: deps.config.tlsCertFile }),
    };
    built = {
      verifiedDmsCertificates: dmsDeps.verifiedDmsCertificates,
      dmsCache: storage.dms,
      dms: new DmsService(dmsDeps),
      binding: new IdentityBinding(dmsDeps, deviceServiceFor(deps)),
      enrollment: new EnrollmentService(dmsDeps, deviceServiceFor(deps), {
        ...(defaultDmsId === undefined ? {} : { defaultDmsId }),
        // Only SQLite stalls the event loop for its commits; PostgreSQL gains nothing from waiting.
        issuanceWindowMs: deps.storage.dialect === 'sqlite' ? SQLITE_ISSUANCE_WINDOW_MS : 0,
      }),
    };
    dmsServices.set(deps, built);
  }
  return built;
}
