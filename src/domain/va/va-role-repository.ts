import type { VaRole } from './va-role.ts';

export interface VaRoleRepository {
  get(caId: string): Promise<VaRole | undefined>;
  /** Inserts unless a role exists already; returns the stored one either way (two replicas may race). */
  insertIfAbsent(role: VaRole): Promise<VaRole>;
  /** Insert or replace. */
  put(role: VaRole): Promise<void>;
}
