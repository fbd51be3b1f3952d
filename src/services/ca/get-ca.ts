import type { CaQuery } from '../../domain/ca/ca-repository.ts';
import type { CertificateAuthority } from '../../domain/ca/ca.ts';
import type { Page } from '../../domain/ca/page.ts';
import { notFound } from '../../domain/errors.ts';
import type { CaServiceDeps } from './ca-service-deps.ts';

export async function getCa(deps: Pick<CaServiceDeps, 'storage'>, id: string): Promise<CertificateAuthority> {
  const ca = await deps.storage.cas.get(id);
  if (!ca) throw notFound('CA_NOT_FOUND', `no CA "${id}"`, { id });
  return ca;
}

export const listCas = (deps: Pick<CaServiceDeps, 'storage'>, query: CaQuery): Promise<Page<CertificateAuthority>> =>
  deps.storage.cas.list(query);

/** The CA's certificate followed by its issuers up to the root (as far as we know them), DER. */
export async function caChain(deps: Pick<CaServiceDeps, 'storage'>, id: string): Promise<Uint8Array[]> {
  const chain: Uint8Array[] = [];
  const seen = new Set<string>();
  for (let ca: CertificateAuthority | undefined = await getCa(deps, id); ca && !seen.has(ca.id); ) {
    seen.add(ca.id);
    chain.push(ca.certificate.der);
    ca = ca.parentId === null ? undefined : await deps.storage.cas.get(ca.parentId);
  }
  return chain;
}
