/**
 * Who is enrolling: the credential checks of each DMS authentication mode. Every failure throws before
 * anything is issued or stored.
 */
import type { CertificateFacts } from '../../domain/dms/certificate-inspector.ts';
import { constantTimeEqual } from '../../domain/dms/dms-rules.ts';
import type { Dms } from '../../domain/dms/dms.ts';
import { forbidden, unauthenticated } from '../../domain/errors.ts';
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

/**
 * The DMS certificate check: the client certificate must be byte for byte the DMS's current certificate,
 * which the CA service reports neither revoked nor expired.
 */
export async function authenticateDmsCertificate(deps: DmsServiceDeps, dms: Dms, leaf: CertificateFacts): Promise<void> {
  const current = dms.certificate;
  const refuse = (code: string, why: string) => unauthenticated(code, `DMS certificate refused: ${why}`, { dmsId: dms.id });
  if (!current || current.serialNumber !== leaf.serialNumber) throw refuse('ENROLL_DMS_CERTIFICATE_INVALID', `not the current certificate of DMS "${dms.id}"`);
  const since = deps.verifiedDmsCertificates?.snapshot() ?? 0;
  const stored = await deps.ca.getCertificate(current.serialNumber, current.issuerCaId);
  if (!stored || !sameBytes(stored.der, leaf.der)) throw refuse('ENROLL_DMS_CERTIFICATE_INVALID', 'not a certificate the DMS manager issued');
  if (stored.status === 'REVOKED') throw refuse('ENROLL_DMS_CERTIFICATE_REVOKED', 'revoked');
  if (stored.status === 'EXPIRED' || deps.clock.now() > stored.notAfter) throw refuse('ENROLL_DMS_CERTIFICATE_EXPIRED', 'expired');
  deps.verifiedDmsCertificates?.remember(dms.id, stored, since);
}

/**
 * A bootstrap certificate (e.g. an IDevID) must chain, through the intermediates the client sent, to one of
 * the DMS's validation CAs; every certificate on the path must be in its validity period unless the DMS
 * accepts expired ones; a certificate issued by one of our CAs must not be revoked.
 */
export async function authenticateClientCertificate(
  deps: DmsServiceDeps,
  validationCaIds: string[],
  allowExpired: boolean,
  chain: CertificateFacts[],
): Promise<CertificateFacts> {
  const anchors: { caId: string; cert: CertificateFacts }[] = [];
  for (const caId of validationCaIds) {
    const ca = await deps.ca.getCa(caId);
    if (ca && ca.certificate.status !== 'REVOKED') anchors.push({ caId, cert: deps.inspector.parse(ca.certificate.der) });
  }
  const refuse = (code: string, why: string) => unauthenticated(code, `client certificate refused: ${why}`);
  const now = deps.clock.now();
  const leaf = chain[0]!;
  let current = leaf;
  const intermediates = chain.slice(1);
  for (let depth = 0; depth < 8; depth++) {
    if (!allowExpired && (now < current.notBefore || now > current.notAfter)) {
      throw refuse('ENROLL_CLIENT_CERTIFICATE_EXPIRED', `certificate ${current.serialNumber} is outside its validity period`);
    }
    for (const anchor of anchors) {
      if (await deps.inspector.issued(anchor.cert, current)) {
        const ours = await deps.ca.getCertificate(current.serialNumber, anchor.caId);
        if (ours?.status === 'REVOKED') throw refuse('ENROLL_CLIENT_CERTIFICATE_REVOKED', `certificate ${current.serialNumber} is revoked`);
        return leaf;
      }
    }
    let next: CertificateFacts | undefined;
    for (const candidate of intermediates) {
      if (candidate.isCa && candidate !== current && (await deps.inspector.issued(candidate, current))) {
        next = candidate;
        break;
      }
    }
    if (!next) break;
    current = next;
  }
  throw refuse('ENROLL_CLIENT_CERTIFICATE_UNTRUSTED', 'it does not chain to a validation CA of this DMS');
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
