/**
 * The KMS service (Lamassu v3.6 `/api/kms/v1`): keys as objects of their own. Keys are made or imported in
 * a key engine, which keeps the private half; the KMS records their public facts and labels (kms_keys) and
 * signs with them through the engine, so integrations can use a key without ever seeing it. Private keys
 * leave only from the filesystem engine, and only where the operator allowed it.
 */
import type { Page } from '../../domain/ca/page.ts';
import { conflict, forbidden, invalid, isDomainError, notFound } from '../../domain/errors.ts';
import { newEvent } from '../../domain/events.ts';
import { applyMetadataChange, checkMetadata, type MetadataChange } from '../../domain/metadata-patch.ts';
import { BOUND_RESOURCES_KEY, type KmsKey, type KmsKeyOrigin, type KmsKeyQuery } from '../../domain/kms/kms-key.ts';
import type { Clock } from '../../domain/ports/clock.ts';
import type { CloudEvent, EventBus } from '../../domain/ports/event-bus.ts';
import type { RandomSource } from '../../domain/ports/id-generator.ts';
import type { KeyEngine, KeyInfo, KeyType } from '../../domain/ports/key-engine.ts';
import type { Logger } from '../../domain/ports/logger.ts';
import type { Storage } from '../../domain/ports/storage.ts';
import type { KeyEngines } from '../ca/ca-service-deps.ts';
import { listEngines, type EngineDescription } from '../ca/list-engines.ts';
import { parsePublicKey } from '../../x509/public-key.ts';
import { verifyWithAlgorithm } from '../../x509/signing-algorithms.ts';
import { kmsAlgorithm } from './kms-signature.ts';

export const KMS_EVENT_SOURCE = 'lamassu/kms';

/** Lamassu's KMS event types. */
export const KmsEventType = {
  create: 'kms.create',
  import: 'kms.import',
  delete: 'kms.delete',
  sign: 'kms.sign',
  export: 'kms.export',
  metadataUpdate: 'kms.metadata.update',
  nameUpdate: 'kms.name.update',
  tagsUpdate: 'kms.tags.update',
  aliasesUpdate: 'kms.aliases.update',
} as const;

/** Who uses a key, so that a key in use is not deleted; in one process the CA service answers. */
export interface KmsKeyUsers {
  casUsingKey(keyId: string): Promise<string[]>;
}

export interface KmsSettings {
  /**
   * Lets private keys of the filesystem engine be exported (POST /keys/{id}/export); off by default.
   * PKCS#11 and Vault keys never leave, whatever this says.
   */
  allowExport: boolean;
}

export interface KmsServiceDeps {
  storage: Storage;
  keyEngines: KeyEngines;
  events: EventBus;
  clock: Clock;
  random: RandomSource;
  logger: Logger;
  settings: KmsSettings;
  keyUsers?: KmsKeyUsers;
}

export interface KmsLabels {
  name?: string;
  aliases?: string[];
  tags?: string[];
  metadata?: Record<string, unknown>;
}

export interface CreateKmsKeyInput extends KmsLabels {
  algorithm: string;
  size: number;
  engineId?: string;
  actor: string;
}

export interface ImportKmsKeyInput extends KmsLabels {
  /** PKCS#8 PrivateKeyInfo DER, unencrypted. */
  pkcs8: Uint8Array;
  engineId?: string;
  actor: string;
}

export interface SignInput {
  /** Key id, PKCS#11 URI (`pkcs11:...;id=<key id>`), name or alias. */
  key: string;
  algorithm: string;
  messageType: string;
  message: Uint8Array;
}

/** Engines whose keys may be exported when the operator allows it: keys on disk, nothing else. */
const EXPORTABLE_KINDS = new Set(['filesystem']);
const KEY_ID = /^[0-9a-f]{64}$/;
const MAX_LABEL = 128;
const MAX_LABELS = 32;

const echo = (s: unknown) => String(s).slice(0, 80);

function checkLabels(l: KmsLabels): Required<KmsLabels> {
  const name = l.name ?? '';
  const aliases = l.aliases ?? [];
  const tags = l.tags ?? [];
  if (name.length > MAX_LABEL) throw invalid('KMS_KEY_LABEL_INVALID', `name is at most ${MAX_LABEL} characters`);
  for (const [what, list] of [['aliases', aliases], ['tags', tags]] as const) {
    if (list.length > MAX_LABELS) throw invalid('KMS_KEY_LABEL_INVALID', `at most ${MAX_LABELS} ${what}`);
    if (list.some((s) => s.length === 0 || s.length > MAX_LABEL)) throw invalid('KMS_KEY_LABEL_INVALID', `${what} are 1-${MAX_LABEL} characters each`);
  }
  // A key is addressed by id, URI, name or alias: a label that looks like an id or a URI would shadow one.
  for (const label of [name, ...aliases]) {
    if (KEY_ID.test(label) || label.startsWith('pkcs11:')) {
      throw invalid('KMS_KEY_LABEL_INVALID', 'a name or alias may not be a key id (64 hex digits) or a pkcs11: URI');
    }
  }
  return { name, aliases: [...new Set(aliases)], tags: [...new Set(tags)], metadata: checkMetadata(l.metadata ?? {}) };
}

const boundCas = (k: KmsKey): string[] => {
  const bound = k.metadata[BOUND_RESOURCES_KEY] as { cas?: unknown } | undefined;
  return Array.isArray(bound?.cas) ? bound.cas.filter((c): c is string => typeof c === 'string') : [];
};

function withBoundCas(metadata: Record<string, unknown>, cas: string[]): Record<string, unknown> {
  const bound = (metadata[BOUND_RESOURCES_KEY] ?? {}) as Record<string, unknown>;
  return { ...metadata, [BOUND_RESOURCES_KEY]: { ...bound, cas } };
}

/** Lamassu's PKCS#11-style URI of a key. */
export const pkcs11UriOf = (key: Pick<KmsKey, 'engineId' | 'id'>) => `pkcs11:token-id=${key.engineId};id=${key.id};type=private`;

export class KmsService {
  constructor(readonly deps: KmsServiceDeps) {}

  engines(): EngineDescription[] {
    return listEngines(this.deps.keyEngines);
  }

  async createKey(input: CreateKmsKeyInput): Promise<KmsKey> {
    const labels = checkLabels(input);
    const engine = this.engine(input.engineId);
    const spec = { type: String(input.algorithm).toUpperCase() as KeyType, bits: input.size };
    const offered = engine.capabilities().keyTypes.find((k) => k.type === spec.type);
    if (!offered || !offered.sizes.includes(spec.bits)) {
      const choices = engine.capabilities().keyTypes.map((k) => `${k.type} ${k.sizes.join('/')}`).join(', ');
      throw invalid('KMS_KEY_SPEC_INVALID', `key engine ${engine.id} makes ${choices}; not ${echo(input.algorithm)} ${echo(input.size)}`, {
        engineId: engine.id,
      });
    }
    const info = await engine.createKey({ spec, label: labels.name || undefined });
    try {
      return await this.record(info, labels, 'created', KmsEventType.create, input.actor);
    } catch (err) {
      await engine.deleteKey(info.id).catch((e: unknown) => this.deps.logger.warn({ err: e, engineId: engine.id, keyId: info.id }, 'could not delete a key whose record failed'));
      throw err;
    }
  }

  async importKey(input: ImportKmsKeyInput): Promise<KmsKey> {
    const labels = checkLabels(input);
    const engine = this.engine(input.engineId);
    if (!engine.capabilities().importable) {
      throw invalid('KMS_IMPORT_NOT_ALLOWED', `key engine ${engine.id} does not take imported keys`, { engineId: engine.id });
    }
    const info = await engine.importKey({ pkcs8: input.pkcs8, label: labels.name || undefined }).catch((err: unknown) => {
      // A key of a type or size the engine does not take is the caller's input, not a server fault.
      if (isDomainError(err) && err.code === 'KEY_TYPE_UNSUPPORTED') throw invalid('KMS_KEY_SPEC_INVALID', err.message, err.details);
      throw err;
    });
    const existing = await this.deps.storage.kmsKeys.get(info.id);
    if (existing) {
      // The same key (same id) is recorded already; a copy just put in another engine is taken out again.
      if (existing.engineId !== engine.id) await engine.deleteKey(info.id).catch(() => undefined);
      throw conflict('KMS_KEY_EXISTS', `the KMS already has this key (${info.id}, key engine ${existing.engineId})`, { id: info.id });
    }
    return this.record(info, labels, 'imported', KmsEventType.import, input.actor);
  }

  /** By key id, PKCS#11 URI, name or alias; KMS_KEY_NOT_FOUND otherwise. */
  async getKey(ref: string): Promise<KmsKey> {
    const repo = this.deps.storage.kmsKeys;
    const uriId = ref.startsWith('pkcs11:') ? /(?:^|[;:])id=([0-9a-f]{64})(?:;|$)/.exec(ref)?.[1] : undefined;
    const key = uriId ? await repo.get(uriId) : KEY_ID.test(ref) ? await repo.get(ref) : ref.length > 0 ? await repo.findByAlias(ref) : undefined;
    if (!key) throw notFound('KMS_KEY_NOT_FOUND', `no key ${echo(ref)} in the KMS`, { key: echo(ref) });
    return key;
  }

  listKeys(query: KmsKeyQuery): Promise<Page<KmsKey>> {
    return this.deps.storage.kmsKeys.list(query);
  }

  async stats() {
    return this.deps.storage.kmsKeys.stats();
  }

  async sign(input: SignInput & { actor: string }): Promise<Uint8Array> {
    const key = await this.getKey(input.key);
    const alg = kmsAlgorithm(key.type, input.algorithm, input.messageType, input.message);
    const signature = await this.engine(key.engineId).sign({
      keyId: key.id,
      data: input.message,
      ...(alg.hash ? { hash: alg.hash } : {}),
      ...(alg.scheme === 'rsa-pss' ? { rsaPadding: 'pss' as const } : {}),
      ...(input.messageType === 'hash' ? { prehashed: true } : {}),
    });
    await this.announce([this.event(KmsEventType.sign, key.id, { key_id: key.id, algorithm: input.algorithm, message_type: input.messageType }, input.actor)]);
    return signature;
  }

  /** With the recorded public key: no engine round trip, and it works while the engine is down. */
  async verify(input: SignInput & { signature: Uint8Array }): Promise<boolean> {
    const key = await this.getKey(input.key);
    const alg = kmsAlgorithm(key.type, input.algorithm, input.messageType, input.message);
    return verifyWithAlgorithm(parsePublicKey(key.publicKeySpki), alg, input.messageType === 'hash', input.message, input.signature);
  }

  /** Removes the key from its engine and the KMS; refused while a CA uses it (KMS_KEY_IN_USE). */
  async deleteKey(input: { key: string; actor: string }): Promise<void> {
    const key = await this.getKey(input.key);
    const cas = (await this.deps.keyUsers?.casUsingKey(key.id)) ?? [];
    if (cas.length > 0) {
      throw conflict('KMS_KEY_IN_USE', `key ${key.id} is the key of CA ${cas.slice(0, 5).join(', ')}: delete the CA first`, { id: key.id, cas: cas.slice(0, 20) });
    }
    try {
      await this.engine(key.engineId).deleteKey(key.id);
    } catch (err) {
      // Already gone from the engine (removed by hand): the record goes too.
      if (!(isDomainError(err) && err.code === 'KEY_NOT_FOUND')) throw err;
      this.deps.logger.warn({ engineId: key.engineId, keyId: key.id }, 'deleting a KMS key that its engine no longer holds');
    }
    const events = [this.event(KmsEventType.delete, key.id, this.eventData(key), input.actor)];
    await this.deps.storage.transaction(async (tx) => {
      await tx.kmsKeys.delete(key.id);
      await tx.outbox.append(events);
    });
    await this.publish(events);
  }

  /**
   * Changes one of a key's labels (Lamassu's PUT /keys/{id}/name, /tags, /alias, /metadata); the key itself
   * and its engine are untouched.
   */
  async updateLabels(input: { key: string; actor: string } & ({ name: string } | { tags: string[] } | { aliases: string[] } | { metadata: MetadataChange })): Promise<KmsKey> {
    const key = await this.getKey(input.key);
    const current = { name: key.name, aliases: key.aliases, tags: key.tags, metadata: key.metadata };
    let type: string;
    let next: KmsLabels;
    if ('name' in input) [type, next] = [KmsEventType.nameUpdate, { ...current, name: input.name }];
    else if ('tags' in input) [type, next] = [KmsEventType.tagsUpdate, { ...current, tags: input.tags }];
    else if ('aliases' in input) [type, next] = [KmsEventType.aliasesUpdate, { ...current, aliases: input.aliases }];
    else [type, next] = [KmsEventType.metadataUpdate, { ...current, metadata: applyMetadataChange(key.metadata, input.metadata) }];
    const updated: KmsKey = { ...key, ...checkLabels(next) };
    const events = [this.event(type, key.id, { previous: this.labelsOf(key), updated: this.labelsOf(updated) }, input.actor)];
    await this.deps.storage.transaction(async (tx) => {
      if (!(await tx.kmsKeys.update(updated))) throw notFound('KMS_KEY_NOT_FOUND', `no key ${key.id} in the KMS`, { key: key.id });
      await tx.outbox.append(events);
    });
    await this.publish(events);
    return updated;
  }

  /**
   * A CA was created or imported on a key (its `ca.create` / `ca.import` event): the key becomes a KMS key if
   * it was not one (origin `ca`), and the CA is listed in its `lamassu.io/kms/binded-resources` metadata.
   * Redelivered events change nothing. True when something changed.
   */
  async bindCaKey(input: { caId: string; keyId: string; engineId: string }): Promise<boolean> {
    const existing = await this.deps.storage.kmsKeys.get(input.keyId);
    if (existing) {
      const cas = boundCas(existing);
      if (cas.includes(input.caId)) return false;
      await this.deps.storage.kmsKeys.update({ ...existing, metadata: withBoundCas(existing.metadata, [...cas, input.caId]) });
      return true;
    }
    const info = await this.engine(input.engineId).getKey(input.keyId);
    const labels = { name: '', aliases: [], tags: [], metadata: withBoundCas({}, [input.caId]) };
    try {
      await this.record(info, labels, 'ca', KmsEventType.create, 'system');
      return true;
    } catch (err) {
      // Another replica (or a redelivery) recorded it meanwhile: bind on that record instead.
      if (isDomainError(err) && err.code === 'KMS_KEY_EXISTS') return this.bindCaKey(input);
      throw err;
    }
  }

  /** A CA was deleted: it is no longer bound to its key; a key its engine no longer holds leaves the KMS. */
  async unbindCaKey(input: { caId: string; keyId: string }): Promise<void> {
    const key = await this.deps.storage.kmsKeys.get(input.keyId);
    if (!key) return;
    const still = await this.engine(key.engineId).getKey(key.id).then(
      () => true,
      (err: unknown) => (isDomainError(err) && err.code === 'KEY_NOT_FOUND' ? false : Promise.reject(err)),
    );
    if (!still) {
      const events = [this.event(KmsEventType.delete, key.id, this.eventData(key), 'system')];
      await this.deps.storage.transaction(async (tx) => {
        await tx.kmsKeys.delete(key.id);
        await tx.outbox.append(events);
      });
      await this.publish(events);
      return;
    }
    const cas = boundCas(key);
    if (!cas.includes(input.caId)) return;
    await this.deps.storage.kmsKeys.update({ ...key, metadata: withBoundCas(key.metadata, cas.filter((id) => id !== input.caId)) });
  }

  private labelsOf(k: KmsKey) {
    return { key_id: k.id, name: k.name, aliases: k.aliases, tags: k.tags, metadata: k.metadata };
  }

  /** PKCS#8 DER of a filesystem key, where the operator allowed exports; 403 otherwise. */
  async exportKey(input: { key: string; actor: string }): Promise<Uint8Array> {
    const key = await this.getKey(input.key);
    const engine = this.engine(key.engineId);
    if (!this.deps.settings.allowExport) {
      throw forbidden('KMS_EXPORT_FORBIDDEN', 'private key export is off on this server (LAMASSU_KMS_ALLOW_KEY_EXPORT)');
    }
    if (!EXPORTABLE_KINDS.has(engine.kind) || !engine.exportKey) {
      throw forbidden('KMS_EXPORT_FORBIDDEN', `keys of key engine ${engine.id} (${engine.kind}) never leave it`, { engineId: engine.id });
    }
    const der = await engine.exportKey(key.id);
    // Who took a private key out is worth an event; the key itself is in no event or log.
    await this.announce([this.event(KmsEventType.export, key.id, { key_id: key.id, engine_id: key.engineId }, input.actor)]);
    return der;
  }

  private engine(id: string | undefined): KeyEngine {
    return id === undefined || id === '' ? this.deps.keyEngines.default() : this.deps.keyEngines.get(id);
  }

  private async record(info: KeyInfo, labels: Required<KmsLabels>, origin: KmsKeyOrigin, type: string, actor: string): Promise<KmsKey> {
    const key: KmsKey = {
      id: info.id,
      engineId: info.engineId,
      type: info.type,
      bits: info.bits,
      publicKeySpki: info.publicKeySpki,
      ...labels,
      origin,
      createdAt: this.deps.clock.now(),
    };
    const events = [this.event(type, key.id, this.eventData(key), actor)];
    await this.deps.storage.transaction(async (tx) => {
      await tx.kmsKeys.insert(key);
      await tx.outbox.append(events);
    });
    await this.publish(events);
    return key;
  }

  private eventData(key: KmsKey) {
    return { key_id: key.id, engine_id: key.engineId, algorithm: key.type, size: key.bits, name: key.name };
  }

  private event<T>(type: string, subject: string, data: T, actor: string): CloudEvent<T> {
    return newEvent(type, KMS_EVENT_SOURCE, subject, data, actor, this.deps.clock, this.deps.random);
  }

  /** Events of operations that change no row (sign, export): outbox, then publish. */
  private async announce(events: CloudEvent[]): Promise<void> {
    await this.deps.storage.outbox.append(events);
    await this.publish(events);
  }

  /** The change is committed already: a failure to publish is logged, not the caller's error. */
  private async publish(events: CloudEvent[]): Promise<void> {
    try {
      await this.deps.events.publish(events);
    } catch (err) {
      this.deps.logger.error({ err, types: [...new Set(events.map((e) => e.type))] }, 'publishing KMS events failed');
    }
  }
}
