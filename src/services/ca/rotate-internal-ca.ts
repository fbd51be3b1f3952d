import type { CertificateAuthority } from '../../domain/ca/ca.ts';
import { conflict } from '../../domain/errors.ts';
import type { CaServiceDeps } from './ca-service-deps.ts';
import { createNextInternalCa, currentInternalCa } from './ensure-internal-ca.ts';
import { getCa } from './get-ca.ts';
import type { IssuingCaCache } from './issuing-ca-cache.ts';

export interface RotateInternalCaInput {
  /** The internal CA to replace: it must be the current one (a compare-and-set against concurrent rotations). */
  id: string;
  actor: string;
}

const superseded = (id: string, current: string | undefined) =>
  conflict('CA_INTERNAL_SUPERSEDED', `internal CA "${id}" has already been replaced${current ? ` by "${current}"` : ''}; rotate the current one`, {
    id,
    ...(current ? { current } : {}),
  });

/**
 * Rotation, the way to replace an internal CA (they refuse status changes): a new internal CA, with a new
 * key, takes over issuing DMS certificates. The replaced one stays as it is, so the DMS certificates it
 * issued keep authenticating until they expire or are replaced (POST /dms/{id}/certificate).
 */
export async function rotateInternalCa(deps: CaServiceDeps, cache: IssuingCaCache, input: RotateInternalCaInput): Promise<CertificateAuthority> {
  const ca = await getCa(deps, input.id);
  if (!ca.internal) {
    throw conflict('CA_NOT_INTERNAL', `CA "${ca.id}" is not internal to Lamassu; only internal CAs rotate (replace a CA of your own by creating a new one)`, { id: ca.id });
  }
  const current = await currentInternalCa(deps);
  if (current?.id !== ca.id) throw superseded(ca.id, current?.id);
  const next = await createNextInternalCa(deps, cache, current, input.actor);
  if (!next.created) throw superseded(ca.id, next.ca.id);
  return next.ca;
}
