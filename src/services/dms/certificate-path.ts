/**
 * The status of every certificate on an authentication path, leaf first: a certificate authenticates only
 * while none on its way to the trust anchor is revoked, on hold, expired or not yet valid. Time comes from
 * the certificates themselves (the CA service's status may lag behind its sweep); revocation from the CA
 * service, for the certificates our CAs issued and for our CAs' own certificates.
 */
import type { CertificateAuthority } from '../../domain/ca/ca.ts';
import type { Certificate } from '../../domain/ca/certificate.ts';
import type { CertificateAuthorityGateway } from '../../domain/dms/certificate-authority-gateway.ts';

export type PathFault = 'REVOKED' | 'ON_HOLD' | 'EXPIRED' | 'NOT_YET_VALID';

export interface PathCertificate {
  serialNumber: string;
  commonName: string | undefined;
  notBefore: Date;
  notAfter: Date;
  /** What the CA service holds for it; undefined when none of our CAs issued it. */
  stored: Pick<Certificate, 'status' | 'revocationReason'> | undefined;
}

export interface FoundFault {
  fault: PathFault;
  certificate: PathCertificate;
  /** 0 for the leaf, then towards the anchor. */
  position: number;
}

/** The first fault of one certificate: a revocation outranks time; `allowExpired` waives expiry only. */
export function faultOf(cert: PathCertificate, now: Date, allowExpired: boolean): PathFault | undefined {
  if (cert.stored?.status === 'REVOKED') return cert.stored.revocationReason === 'CertificateHold' ? 'ON_HOLD' : 'REVOKED';
  if (now.getTime() < cert.notBefore.getTime()) return 'NOT_YET_VALID';
  if (!allowExpired && (cert.stored?.status === 'EXPIRED' || now.getTime() > cert.notAfter.getTime())) return 'EXPIRED';
  return undefined;
}

/** The first faulty certificate of `path` (leaf first), or undefined when all of them are good. */
export function firstFault(path: PathCertificate[], now: Date, allowExpired: boolean): FoundFault | undefined {
  for (const [position, certificate] of path.entries()) {
    const fault = faultOf(certificate, now, allowExpired);
    if (fault) return { fault, certificate, position };
  }
  return undefined;
}

export const storedPathCertificate = (c: Certificate): PathCertificate => ({
  serialNumber: c.serialNumber,
  commonName: c.subjectCommonName || undefined,
  notBefore: c.notBefore,
  notAfter: c.notAfter,
  stored: c,
});

/** Bounds a walk up a CA hierarchy that a corrupt parent link could make endless. */
const MAX_CA_DEPTH = 16;

/** The certificates of a CA of ours and of its issuers up to the root, the CA's own first. */
export async function caPath(ca: CertificateAuthorityGateway, first: CertificateAuthority | string): Promise<PathCertificate[]> {
  const path: PathCertificate[] = [];
  const seen = new Set<string>();
  let current: CertificateAuthority | undefined = typeof first === 'string' ? await ca.getCa(first) : first;
  while (current && !seen.has(current.id) && seen.size < MAX_CA_DEPTH) {
    seen.add(current.id);
    path.push(storedPathCertificate(current.certificate));
    current = current.parentId === null ? undefined : await ca.getCa(current.parentId);
  }
  return path;
}

/** `certificate 1f2e (CN=dev-1)` for messages. */
export const describeCertificate = (c: Pick<PathCertificate, 'serialNumber' | 'commonName'>) =>
  `certificate ${c.serialNumber}${c.commonName ? ` (CN=${c.commonName})` : ''}`;

const FAULT_WORDS: Record<PathFault, string> = {
  REVOKED: 'is revoked',
  ON_HOLD: 'is on hold',
  EXPIRED: 'has expired',
  NOT_YET_VALID: 'is not valid yet',
};

/** "certificate 1f2e (CN=Sub CA), at position 1 of the path (0: the leaf), is on hold". */
export function describeFault(f: FoundFault): string {
  const where = f.position === 0 ? 'the leaf' : `at position ${f.position} of the path (0: the leaf)`;
  return `${describeCertificate(f.certificate)}, ${where}, ${FAULT_WORDS[f.fault]}`;
}

/** Details for the error: which certificate failed, and where on the path. */
export const faultDetails = (f: FoundFault) => ({ serialNumber: f.certificate.serialNumber, position: f.position, fault: f.fault });
