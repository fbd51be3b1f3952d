/** VA settings per CA: read through a short cache, created with defaults on first need. */
import { notFound } from '../../domain/errors.ts';
import type { Clock } from '../../domain/ports/clock.ts';
import type { VaRoleRepository } from '../../domain/va/va-role-repository.ts';
import { checkVaRoleSettings, DEFAULT_VA_ROLE_SETTINGS, type VaRole, type VaRoleSettings } from '../../domain/va/va-role.ts';
import type { VaCaGateway } from './va-ca-gateway.ts';

export class VaRoles {
  private readonly cache = new Map<string, { role: VaRole; loadedAt: number }>();
  private readonly listeners: ((caId: string) => void)[] = [];

  constructor(
    private readonly repo: VaRoleRepository,
    private readonly ca: VaCaGateway,
    private readonly clock: Clock,
    /** How long a replica trusts its copy (a PUT on another replica shows after at most this long). */
    private readonly ttlMs: number,
  ) {}

  /** Called with the CA id whenever a role changes here. */
  onChange(listener: (caId: string) => void): void {
    this.listeners.push(listener);
  }

  /** The CA's role; a CA without one gets the defaults stored. Throws VA_CA_NOT_FOUND for an unknown CA. */
  async get(caId: string): Promise<VaRole> {
    const now = this.clock.now().getTime();
    const hit = this.cache.get(caId);
    if (hit && now - hit.loadedAt < this.ttlMs) return hit.role;
    const role = (await this.repo.get(caId)) ?? (await this.ensure(caId));
    this.cache.set(caId, { role, loadedAt: now });
    return role;
  }

  /** Stores the defaults for a CA that has no role yet (on ca.create, or lazily). */
  async ensure(caId: string): Promise<VaRole> {
    if (!(await this.ca.getCa(caId))) throw notFound('VA_CA_NOT_FOUND', `no CA "${caId}"`, { ca_id: caId });
    const now = this.clock.now();
    return this.repo.insertIfAbsent({ caId, settings: DEFAULT_VA_ROLE_SETTINGS, createdAt: now, updatedAt: now });
  }

  async put(caId: string, settings: VaRoleSettings): Promise<VaRole> {
    checkVaRoleSettings(settings);
    const current = await this.get(caId);
    const role: VaRole = { caId, settings, createdAt: current.createdAt, updatedAt: this.clock.now() };
    await this.repo.put(role);
    this.cache.set(caId, { role, loadedAt: this.clock.now().getTime() });
    for (const l of this.listeners) l(caId);
    return role;
  }
}
