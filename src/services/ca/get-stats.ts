import type { CertificateStatus } from '../../domain/ca/certificate-status.ts';
import type { FieldFilter } from '../../domain/list-filter.ts';
import type { CaServiceDeps } from './ca-service-deps.ts';
import { getCa } from './get-ca.ts';

export interface CaStats {
  cas: { total: number; engine_distribution: Record<string, number>; status_distribution: Partial<Record<CertificateStatus, number>> };
  certificates: { total: number; ca_distribution: Record<string, number>; status_distribution: Partial<Record<CertificateStatus, number>> };
}

const add = <K extends string>(m: Partial<Record<K, number>>, k: K, n: number) => {
  m[k] = (m[k] ?? 0) + n;
};

/**
 * What the stats count: the CAs matching `cas` and the certificates matching `certificates` (Lamassu list
 * filters over CA_FILTER_FIELDS and CERTIFICATE_FILTER_FIELDS); absent: everything.
 */
export interface StatsFilters {
  cas?: FieldFilter[];
  certificates?: FieldFilter[];
}

/** Lamassu's stats shape: counts per engine and status for CAs, per issuing CA and status for certificates. */
export async function getStats(deps: Pick<CaServiceDeps, 'storage'>, filters: StatsFilters = {}): Promise<CaStats> {
  const [caCounts, certCounts] = await Promise.all([
    deps.storage.cas.countByEngineAndStatus(filters.cas ? { filters: filters.cas } : {}),
    deps.storage.certificates.countByIssuerAndStatus(filters.certificates ? { filters: filters.certificates } : {}),
  ]);
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
export async function getCaStats(deps: Pick<CaServiceDeps, 'storage'>, caId: string, filters: StatsFilters = {}): Promise<CaStats> {
  const ca = await getCa(deps, caId);
  const subtree = await deps.storage.cas.subtreeIds(ca.id);
  const [caCounts, certCounts] = await Promise.all([
    deps.storage.cas.countByEngineAndStatus({ ids: subtree, ...(filters.cas ? { filters: filters.cas } : {}) }),
    deps.storage.certificates.countByIssuerAndStatus({ issuerCaIds: [ca.id], ...(filters.certificates ? { filters: filters.certificates } : {}) }),
  ]);
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
    add(stats.certificates.ca_distribution, ca.id, c.count);
    add(stats.certificates.status_distribution, c.status, c.count);
  }
  return stats;
}
