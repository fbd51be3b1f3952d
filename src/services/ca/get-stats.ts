import type { CertificateStatus } from '../../domain/ca/certificate-status.ts';
import type { CaServiceDeps } from './ca-service-deps.ts';
import { getCa } from './get-ca.ts';

export interface CaStats {
  cas: { total: number; engine_distribution: Record<string, number>; status_distribution: Partial<Record<CertificateStatus, number>> };
  certificates: { total: number; ca_distribution: Record<string, number>; status_distribution: Partial<Record<CertificateStatus, number>> };
}

const add = <K extends string>(m: Partial<Record<K, number>>, k: K, n: number) => {
  m[k] = (m[k] ?? 0) + n;
};

/** Lamassu's stats shape: counts per engine and status for CAs, per issuing CA and status for certificates. */
export async function getStats(deps: Pick<CaServiceDeps, 'storage'>): Promise<CaStats> {
  const [caCounts, certCounts] = await Promise.all([deps.storage.cas.countByEngineAndStatus(), deps.storage.certificates.countByIssuerAndStatus()]);
  const stats: CaStats = {
    cas: { total: 0, engine_distribution: {}, status_distribution: {} },
    certificates: { total: 0, ca_distribution: {}, status_distribution: {} },
  };
  for (const c of caCounts) {
    stats.cas.total += c.count;
    add(stats.cas.engine_distribution, c.engineId ?? 'none', c.count);
    add(stats.cas.status_distribution, c.status, c.count);
  }
  for (const c of certCounts) {
    stats.certificates.total += c.count;
    add(stats.certificates.ca_distribution, c.issuerCaId ?? 'external', c.count);
    add(stats.certificates.status_distribution, c.status, c.count);
  }
  return stats;
}

/**
 * Lamassu's GET /stats/{caId}: the same shape for one CA: `cas` counts the CA and the CAs below it,
 * `certificates` those the CA itself issued. Throws CA_NOT_FOUND.
 */
export async function getCaStats(deps: Pick<CaServiceDeps, 'storage'>, caId: string): Promise<CaStats> {
  const ca = await getCa(deps, caId);
  const subtree = new Set(await deps.storage.cas.subtreeIds(ca.id));
  const certCounts = await deps.storage.certificates.countByIssuerAndStatus();
  const stats: CaStats = {
    cas: { total: 0, engine_distribution: {}, status_distribution: {} },
    certificates: { total: 0, ca_distribution: {}, status_distribution: {} },
  };
  for (const id of subtree) {
    const member = id === ca.id ? ca : await deps.storage.cas.get(id);
    if (!member) continue;
    stats.cas.total += 1;
    add(stats.cas.engine_distribution, member.engineId ?? 'none', 1);
    add(stats.cas.status_distribution, member.certificate.status, 1);
  }
  for (const c of certCounts) {
    if (c.issuerCaId !== ca.id) continue;
    stats.certificates.total += c.count;
    add(stats.certificates.ca_distribution, ca.id, c.count);
    add(stats.certificates.status_distribution, c.status, c.count);
  }
  return stats;
}
