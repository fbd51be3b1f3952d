import { canSign, dmsManagerCaGeneration, dmsManagerCaId, type CertificateAuthority } from '../../domain/ca/ca.ts';
import { MAX_PAGE_SIZE } from '../../domain/ca/page.ts';
import { conflict, isDomainError } from '../../domain/errors.ts';
import type { CaServiceDeps } from './ca-service-deps.ts';
import { createCa } from './create-ca.ts';
import type { IssuingCaCache } from './issuing-ca-cache.ts';

/** Metadata of an internal CA made by a rotation: the id of the internal CA it took over from. */
export const REPLACES_METADATA_KEY = 'lamassu.io/internal-ca/replaces';

/** How many ids taken by someone else (a CA or DMS named LAMASSU-DMS-MANAGER-n) a new generation skips. */
const MAX_TAKEN_IDS = 100;

/**
 * The internal CA that issues DMS certificates: the internal CA of the highest generation (see
 * dmsManagerCaId), or undefined before the first start. Older generations are not consulted: the DMS
 * certificates they issued are checked against their own issuer, which each DMS records.
 */
export async function currentInternalCa(deps: Pick<CaServiceDeps, 'storage'>): Promise<CertificateAuthority | undefined> {
  let current: CertificateAuthority | undefined;
  let currentGeneration = 0;
  let bookmark: string | null = null;
  do {
    const page = await deps.storage.cas.list({ internal: true, pageSize: MAX_PAGE_SIZE, ...(bookmark ? { bookmark } : {}) });
    for (const ca of page.list) {
      const generation = dmsManagerCaGeneration(ca.id) ?? 0;
      if (generation > currentGeneration) [current, currentGeneration] = [ca, generation];
    }
    bookmark = page.next;
  } while (bookmark);
  return current;
}

/** Whether the internal CA can issue now: key held, not revoked or on hold, not past its notAfter. */
const canIssueNow = (ca: CertificateAuthority, now: Date) => canSign(ca) && now.getTime() <= ca.certificate.notAfter.getTime();

/**
 * Creates the internal CA of the generation after `previous` (the first without one). Its id is its name,
 * so replicas creating the same generation together race on the primary key and the loser reads the
 * winner's CA (`created: false`). An id someone else's CA or DMS already has is skipped.
 */
export async function createNextInternalCa(
  deps: CaServiceDeps,
  cache: IssuingCaCache,
  previous: CertificateAuthority | undefined,
  actor: string,
): Promise<{ ca: CertificateAuthority; created: boolean }> {
  const { keySpec, validity } = deps.settings.internalCa;
  const first = previous ? dmsManagerCaGeneration(previous.id)! + 1 : 1;
  for (let generation = first; generation < first + MAX_TAKEN_IDS; generation++) {
    const id = dmsManagerCaId(generation);
    try {
      const ca = await createCa(deps, cache, {
        id,
        subject: { common_name: id, organization: 'Lamassu' },
        keySpec,
        validity: { type: 'Duration', duration: validity },
        internal: true,
        ...(previous ? { metadata: { [REPLACES_METADATA_KEY]: previous.id } } : {}),
        actor,
      });
      return { ca, created: true };
    } catch (err) {
      if (!isDomainError(err) || err.code !== 'CA_EXISTS') throw err;
      const taken = await deps.storage.cas.get(id);
      if (taken?.internal) return { ca: taken, created: false };
    }
  }
  throw conflict('CA_EXISTS', `no free id for a new internal CA after "${dmsManagerCaId(first)}"`, { id: dmsManagerCaId(first) });
}

/**
 * The internal CA that signs DMS certificates, created on first start; later starts (and every DMS
 * certificate request) find the current one. One that can no longer issue (revoked before internal CAs
 * refused status changes, or expired) is replaced by the next generation, so DMS certificates can always
 * be issued again; the DMS certificates it issued keep their own status.
 */
export async function ensureInternalCa(deps: CaServiceDeps, cache: IssuingCaCache): Promise<CertificateAuthority> {
  const current = await currentInternalCa(deps);
  if (current && canIssueNow(current, deps.clock.now())) return current;
  const next = await createNextInternalCa(deps, cache, current, 'system');
  if (current && next.created) {
    deps.logger.warn(
      { previous: current.id, status: current.certificate.status, notAfter: current.certificate.notAfter.toISOString(), current: next.ca.id },
      'the internal CA can no longer issue DMS certificates; a new internal CA takes over',
    );
  }
  return next.ca;
}
