import { DMS_MANAGER_CA_NAME, type CertificateAuthority } from '../../domain/ca/ca.ts';
import { isDomainError } from '../../domain/errors.ts';
import type { KeySpec } from '../../domain/ports/key-engine.ts';
import type { CaServiceDeps } from './ca-service-deps.ts';
import { createCa } from './create-ca.ts';
import type { IssuingCaCache } from './issuing-ca-cache.ts';

export interface InternalCaOptions {
  keySpec: KeySpec;
  /** e.g. "10y". */
  validity: string;
}

export const DEFAULT_INTERNAL_CA: InternalCaOptions = { keySpec: { type: 'ECDSA', bits: 256 }, validity: '10y' };

/**
 * Creates LAMASSU-DMS-MANAGER on first start; later starts find it. Its id is its name, so replicas
 * starting together race on the primary key and the loser simply reads the winner's CA.
 */
export async function ensureInternalCa(
  deps: CaServiceDeps,
  cache: IssuingCaCache,
  options: InternalCaOptions = DEFAULT_INTERNAL_CA,
): Promise<CertificateAuthority> {
  const existing = await deps.storage.cas.get(DMS_MANAGER_CA_NAME);
  if (existing) return existing;
  try {
    return await createCa(deps, cache, {
      id: DMS_MANAGER_CA_NAME,
      subject: { common_name: DMS_MANAGER_CA_NAME, organization: 'Lamassu' },
      keySpec: options.keySpec,
      validity: { type: 'Duration', duration: options.validity },
      internal: true,
      actor: 'system',
    });
  } catch (err) {
    if (isDomainError(err) && err.code === 'CA_EXISTS') {
      const winner = await deps.storage.cas.get(DMS_MANAGER_CA_NAME);
      if (winner) return winner;
    }
    throw err;
  }
}
