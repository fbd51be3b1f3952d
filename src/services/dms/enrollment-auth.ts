/**
 * Who is enrolling: the credential checks of each DMS authentication mode. Every failure throws before
 * anything is issued or stored.
 */
import type { CertificateAuthority } from '../../domain/ca/ca.ts';
import type { Certificate } from '../../domain/ca/certificate.ts';
import type { CertificateFacts } from '../../domain/dms/certificate-inspector.ts';
import { constantTimeEqual } from '../../domain/dms/dms-rules.ts';
import type { Dms } from '../../domain/dms/dms.ts';
import { forbidden, unauthenticated } from '../../domain/errors.ts';
import { caPath, describeFault, faultDetails, firstFault, storedPathCertificate, type PathCertificate, type PathFault } from './certificate-path.ts';
import type { DmsServiceDeps } from './dms-service-deps.ts';

/** What the EST front-end saw of the caller: the TLS client chain (leaf first) and/or HTTP Basic credentials. */
export interface EnrollmentCredentials {
  clientCertificateChain?: Uint8Array[];
  basic?: { username: string; password: string };
}

const missing = (what: string, details?: Record<string, unknown>) =>
  unauthenticated('ENROLL_UNAUTHENTICATED', `${what} is required to enroll`, details);

export function leafOf(deps: DmsServiceDeps, credentials: EnrollmentCredentials, what: string): { leaf: CertificateFacts; chain: CertificateFacts[] } {
  const chain = (credentials.clientCertificateChain ?? []).map((der) => deps.inspector.parse(der));
  if (chain.length === 0) throw missing(what);
  return { leaf: chain[0]!, chain };
}

// The code of each fault, per mode, spelled out so that every code can be found as written (docs/errors.md).
const DMS_CERTIFICATE_FAULTS: Record<PathFault, string> = {
  REVOKED: 'ENROLL_DMS_CERTIFICATE_REVOKED',
  ON_HOLD: 'ENROLL_DMS_CERTIFICATE_ON_HOLD',
  EXPIRED: 'ENROLL_DMS_CERTIFICATE_EXPIRED',
  NOT_YET_VALID: 'ENROLL_DMS_CERTIFICATE_NOT_YET_VALID',
};
const CLIENT_CERTIFICATE_FAULTS: Record<PathFault, string> = {
  REVOKED: 'ENROLL_CLIENT_CERTIFICATE_REVOKED',
  ON_HOLD: 'ENROLL_CLIENT_CERTIFICATE_ON_HOLD',
  EXPIRED: 'ENROLL_CLIENT_CERTIFICATE_EXPIRED',
  NOT_YET_VALID: 'ENROLL_CLIENT_CERTIFICATE_NOT_YET_VALID',
};
export const REENROLL_CERTIFICATE_FAULTS: Record<PathFault, string> = {
  REVOKED: 'REENROLL_CERTIFICATE_REVOKED',
  ON_HOLD: 'REENROLL_CERTIFICATE_ON_HOLD',
  EXPIRED: 'REENROLL_CERTIFICATE_EXPIRED',
  NOT_YET_VALID: 'REENROLL_CERTIFICATE_NOT_YET_VALID',
};

/**
 * The DMS certificate check: the client certificate must be byte for byte the DMS's current certificate;
 * neither it nor the CA that issued it (and that CA's issuers) may be revoked, on hold, expired or not yet
 * valid. Certificates the client sent along are not needed: the path is the one the CA service knows.
 */
export async function authenticateDmsCertificate(deps: DmsServiceDeps, dms: Dms, leaf: CertificateFacts): Promise<void> {
  const current = dms.certificate;
  const refuse = (code: string, why: string, details: Record<string, unknown> = {}) =>
    unauthenticated(code, `DMS certificate refused: ${why}`, { dmsId: dms.id, ...details });
  if (!current || current.serialNumber !== leaf.serialNumber) throw refuse('ENROLL_DMS_CERTIFICATE_INVALID', `not the current certificate of DMS "${dms.id}"`);
  const since = deps.verifiedDmsCertificates?.snapshot() ?? 0;
  const stored = await deps.ca.getCertificate(current.serialNumber, current.issuerCaId);
  if (!stored || !sameBytes(stored.der, leaf.der)) throw refuse('ENROLL_DMS_CERTIFICATE_INVALID', 'not a certificate the DMS manager issued');
  const path = [storedPathCertificate(stored), ...(await caPath(deps.ca, current.issuerCaId))];
  const found = firstFault(path, deps.clock.now(), false);
  if (found) throw refuse(DMS_CERTIFICATE_FAULTS[found.fault], describeFault(found), faultDetails(found));
  deps.verifiedDmsCertificates?.remember(dms.id, stored, since);
}

/**
 * A bootstrap certificate (e.g. an IDevID) must chain, through the intermediates the client sent, to one of
 * the DMS's validation CAs. Every certificate on that path, leaf first, then the validation CA and its
 * issuers, must be in its validity period (expiry is waived when the DMS accepts expired ones) and, where
 * one of our CAs issued it or it is one of our CAs, neither revoked nor on hold.
 *
 * `chainLevels` is Lamassu's chain_level_validation: above 0, only that many certificates of the presented
 * chain (leaf first) are used to reach a validation CA (1: the leaf must be issued by a validation CA
 * itself); 0 or -1: no limit beyond our own.
 */
export async function authenticateClientCertificate(
  deps: DmsServiceDeps,
  validationCaIds: string[],
  allowExpired: boolean,
  chain: CertificateFacts[],
  chainLevels = -1,
): Promise<CertificateFacts> {
  const refuse = (code: string, why: string, details?: Record<string, unknown>) => unauthenticated(code, `client certificate refused: ${why}`, details);
  const levels = chainLevels > 0 ? Math.min(chainLevels, MAX_PRESENTED_DEPTH) : MAX_PRESENTED_DEPTH;
  const found = await pathToAnchor(deps, validationCaIds, chain, levels);
  if (!found) {
    // Said apart, so that an operator sees the DMS's depth limit rather than a wrong validation CA.
    if (levels < MAX_PRESENTED_DEPTH && (await pathToAnchor(deps, validationCaIds, chain, MAX_PRESENTED_DEPTH))) {
      throw refuse('ENROLL_CLIENT_CERTIFICATE_CHAIN_TOO_LONG', `its path to a validation CA is longer than the ${levels} level(s) this DMS validates (chain_level_validation)`, { chainLevelValidation: levels });
    }
    throw refuse('ENROLL_CLIENT_CERTIFICATE_UNTRUSTED', 'it does not chain to a validation CA of this DMS');
  }
  const fault = firstFault(await statusesOf(deps, found.path, found.anchor), deps.clock.now(), allowExpired);
  if (fault) throw refuse(CLIENT_CERTIFICATE_FAULTS[fault.fault], describeFault(fault), faultDetails(fault));
  return chain[0]!;
}

/** Longest path accepted from the leaf to the certificate a validation CA issued. */
const MAX_PRESENTED_DEPTH = 8;

/** The presented certificates from the leaf up to the one a validation CA signed (at most `levels`), and that CA. */
async function pathToAnchor(
  deps: DmsServiceDeps,
  validationCaIds: string[],
  chain: CertificateFacts[],
  levels: number,
): Promise<{ path: CertificateFacts[]; anchor: CertificateAuthority } | undefined> {
  const anchors: { ca: CertificateAuthority; cert: CertificateFacts }[] = [];
  for (const caId of validationCaIds) {
    const ca = await deps.ca.getCa(caId);
    if (ca) anchors.push({ ca, cert: deps.inspector.parse(ca.certificate.der) });
  }
  const path = [chain[0]!];
  const intermediates = chain.slice(1);
  while (path.length <= levels) {
    const current = path.at(-1)!;
    for (const anchor of anchors) if (await deps.inspector.issued(anchor.cert, current)) return { path, anchor: anchor.ca };
    if (path.length === levels) return undefined;
    let next: CertificateFacts | undefined;
    for (const candidate of intermediates) {
      if (candidate.isCa && !path.includes(candidate) && (await deps.inspector.issued(candidate, current))) {
        next = candidate;
        break;
      }
    }
    if (!next) return undefined;
    path.push(next);
  }
  return undefined;
}

/**
 * The path with what the CA service says of each certificate, then the anchor and its issuers. Walks down
 * from the anchor: the anchor issued the top certificate; when that one is the certificate of one of our
 * CAs, that CA issued the next, and so on. Below a certificate that is none of ours, nothing is ours.
 */
async function statusesOf(deps: DmsServiceDeps, path: CertificateFacts[], anchor: CertificateAuthority): Promise<PathCertificate[]> {
  const stored: (Certificate | undefined)[] = new Array(path.length).fill(undefined);
  let issuerCaId: string | null = anchor.id;
  for (let i = path.length - 1; i >= 0 && issuerCaId !== null; i--) {
    // Revocation goes by issuer and serial number (RFC 5280 5.3): the bytes need not match.
    stored[i] = await deps.ca.getCertificate(path[i]!.serialNumber, issuerCaId);
    issuerCaId = stored[i]?.caId ?? null;
  }
  const presented = path.map((c, i): PathCertificate => ({
    serialNumber: c.serialNumber,
    commonName: c.commonName,
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    stored: stored[i],
  }));
  return [...presented, ...(await caPath(deps.ca, anchor))];
}

/** HTTP Basic (RFC 7030 3.2.3): both comparisons always run, so timing tells nothing about which failed. */
export async function authenticateBasic(deps: DmsServiceDeps, dms: Dms, credentials: EnrollmentCredentials): Promise<void> {
  const expected = dms.settings.enrollment.httpBasic;
  if (!credentials.basic) throw missing('HTTP Basic authentication', { basicRealm: dms.id });
  const userOk = constantTimeEqual(credentials.basic.username, expected?.username ?? '');
  const passwordOk = expected ? await deps.passwords.verify(credentials.basic.password, expected.passwordHash) : false;
  if (!(userOk && passwordOk)) throw unauthenticated('ENROLL_AUTH_FAILED', 'wrong username or password', { basicRealm: dms.id });
}

export const webhookRefused = (dmsId: string) => forbidden('ENROLL_WEBHOOK_REFUSED', `the enrollment webhook of DMS "${dmsId}" refused the request`);

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
