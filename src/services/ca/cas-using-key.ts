import type { Storage } from '../../domain/ports/storage.ts';

/** Ids of the CAs (at most 100) whose key is `keyId`: what the KMS asks before it deletes a key. */
export async function casUsingKey(storage: Pick<Storage, 'cas'>, keyId: string): Promise<string[]> {
  const page = await storage.cas.list({ keyId, pageSize: 100 });
  return page.list.map((ca) => ca.id);
}
