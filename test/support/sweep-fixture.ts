/**
 * Test and benchmark support: many synthetic certificate rows with chosen validity ends, inserted in bulk
 * (not through issuance), and the status each should have at a given time. Not imported by production code.
 */
import { statusAt, type CertificateStatus } from '../../src/domain/ca/certificate-status.ts';
import type { Certificate } from '../../src/domain/ca/certificate.ts';
import type { Storage } from '../../src/domain/ports/storage.ts';

export const DAY = 86_400_000;

export interface SyntheticSpec {
  issuerCaId: string;
  notAfter: number;
  thresholdMs: number;
  status: CertificateStatus;
  /** For REVOKED rows. */
  revocationReason?: 'CertificateHold' | 'KeyCompromise';
}

const DER = Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x01);

export function syntheticCertificate(i: number, s: SyntheticSpec, idPrefix = 'synthetic'): Certificate {
  const notAfter = new Date(s.notAfter);
  return {
    id: `${idPrefix}-${i}`,
    // Unique per prefix and cheap to make; real serials are 128 random bits.
    serialNumber: `${Buffer.from(idPrefix).toString('hex')}${(i + 1).toString(16).padStart(16, '0')}`,
    issuerCaId: s.issuerCaId,
    caId: null,
    status: s.status,
    notBefore: new Date(s.notAfter - 365 * DAY),
    notAfter,
    aboutToExpireAt: new Date(s.notAfter - s.thresholdMs),
    revokedAt: s.status === 'REVOKED' ? new Date(s.notAfter - 100 * DAY) : null,
    revocationReason: s.status === 'REVOKED' ? (s.revocationReason ?? 'KeyCompromise') : null,
    subjectCommonName: `device-${i}`,
    subjectKeyId: i.toString(16).padStart(40, '0'),
    authorityKeyId: null,
    keyType: 'ECDSA',
    keyBits: 256,
    isCa: false,
    type: 'MANAGED',
    engineId: null,
    createdAt: new Date(s.notAfter - 365 * DAY),
    der: DER,
    details: { subject: { common_name: `device-${i}` }, issuer: { common_name: s.issuerCaId }, keyUsage: [], extendedKeyUsage: [], metadata: {} },
  };
}

/**
 * Inserts with insertMany in transactions of `chunk` rows, three at a time: PostgreSQL then loads on both
 * cores (SQLite runs them one after the other on its single connection).
 */
export async function insertSynthetic(storage: Storage, specs: SyntheticSpec[], opts: { idPrefix?: string; chunk?: number } = {}): Promise<Certificate[]> {
  const certs = specs.map((s, i) => syntheticCertificate(i, s, opts.idPrefix));
  const chunk = opts.chunk ?? 5_000;
  let next = 0;
  const worker = async () => {
    for (let i = next; i < certs.length; i = next) {
      next += chunk;
      await storage.certificates.insertMany(certs.slice(i, i + chunk));
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  return certs;
}

/** The status a sweep at `now` must leave: REVOKED stays, the rest follows time (never backwards). */
export function expectedStatus(c: Pick<Certificate, 'status' | 'notAfter' | 'aboutToExpireAt'>, now: Date): CertificateStatus {
  if (c.status === 'REVOKED' || c.status === 'EXPIRED') return c.status;
  const byTime = statusAt(now, c.notAfter, c.aboutToExpireAt);
  return c.status === 'ABOUT_TO_EXPIRE' && byTime === 'ACTIVE' ? 'ABOUT_TO_EXPIRE' : byTime;
}
