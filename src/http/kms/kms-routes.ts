/** The KMS service's REST API (Lamassu v3.6 `/api/kms/v1`); thin: decode, call the service, encode. */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { invalid } from '../../domain/errors.ts';
import { KMS_KEY_FILTER_FIELDS, KMS_KEY_SORT_ALIASES, type KmsKey } from '../../domain/kms/kms-key.ts';
import { pkcs11UriOf, type KmsService } from '../../services/kms/kms-service.ts';
import { fromPem, isPem, toPem } from '../../x509/pem.ts';
import { actorOf } from '../auth/identity.ts';
import { engineJson, EngineSchema } from '../ca/ca-schemas.ts';
import { ErrorBody } from '../errors.ts';
import { filtersOf, pageJson, sortKeyOf } from '../list-query.ts';
import { METADATA_METHODS, MetadataBody, metadataChangeOf, metadataSummary } from '../metadata-body.ts';
import { CreateKeyBody, ImportKeyBody, KeyRefParams, KmsKeySchema, KmsListQuery, KmsStatsSchema, SignKeyBody, VerifyKeyBody } from './kms-schemas.ts';

export const kmsKeyJson = (k: KmsKey) => {
  const pem = toPem(k.publicKeySpki, 'PUBLIC KEY');
  return {
    key_id: k.id,
    pkcs11_uri: pkcs11UriOf(k),
    name: k.name,
    aliases: k.aliases,
    engine_id: k.engineId,
    has_private_key: true,
    algorithm: k.type,
    size: k.bits,
    public_key: Buffer.from(pem).toString('base64'),
    public_key_pem: pem,
    creation_ts: k.createdAt.toISOString(),
    tags: k.tags,
    metadata: k.metadata,
    origin: k.origin,
  };
};

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function base64Bytes(text: string, field: string): Uint8Array {
  const compact = text.replace(/\s+/g, '');
  if (!BASE64.test(compact) || compact.length % 4 !== 0) throw invalid('KMS_ENCODING_INVALID', `${field} must be base64`);
  return new Uint8Array(Buffer.from(compact, 'base64'));
}

/** Lamassu sends base64 of the PEM; the PEM itself is taken too. */
function pkcs8Of(text: string): Uint8Array {
  const pem = isPem(text) ? text : Buffer.from(base64Bytes(text, 'private_key')).toString('utf8');
  if (pem.includes('ENCRYPTED PRIVATE KEY')) throw invalid('KMS_PRIVATE_KEY_INVALID', 'the private key is encrypted: send it unencrypted (PKCS#8, BEGIN PRIVATE KEY)');
  const der = fromPem(pem, 'PRIVATE KEY');
  if (!der) throw invalid('KMS_PRIVATE_KEY_INVALID', 'private_key is not a PKCS#8 PEM block (BEGIN PRIVATE KEY)');
  return der;
}

export const kmsRoutes =
  (service: KmsService): FastifyPluginAsync =>
  async (scope) => {
    const app = scope.withTypeProvider<TypeBoxTypeProvider>();
    const read = { access: 'read' as const };
    const write = { access: 'write' as const };
    const tags = ['kms'];
    const errors = { 400: ErrorBody, 404: ErrorBody, 409: ErrorBody };

    app.get(
      '/engines',
      { config: read, schema: { tags, summary: 'Key engines keys can be kept in (engine_id), the default one marked', response: { 200: Type.Array(EngineSchema) } } },
      async () => service.engines().map(engineJson),
    );

    app.get('/stats', { config: read, schema: { tags, summary: 'Number of keys, per engine and per algorithm', response: { 200: KmsStatsSchema } } }, async () => {
      const s = await service.stats();
      return { total: s.total, keys_distribution_per_engine: s.byEngine, keys_distribution_per_algorithm: s.byAlgorithm };
    });

    app.get(
      '/keys',
      { config: read, schema: { tags, summary: 'Keys, by bookmark pages', querystring: KmsListQuery, response: { 200: Type.Object({ list: Type.Array(KmsKeySchema), next: Type.String() }), 400: ErrorBody } } },
      async (request) => {
        const q = request.query;
        const page = await service.listKeys({
          ...(q.sort_by ? { sortBy: sortKeyOf(q.sort_by, KMS_KEY_SORT_ALIASES) } : {}),
          ...(q.sort_mode ? { sortMode: q.sort_mode } : {}),
          ...(q.page_size ? { pageSize: q.page_size } : {}),
          ...(q.bookmark ? { bookmark: q.bookmark } : {}),
          filters: filtersOf(q.filter, KMS_KEY_FILTER_FIELDS),
        });
        return pageJson(page, kmsKeyJson);
      },
    );

    const labelsOf = (b: { name?: string; aliases?: string[]; tags?: string[]; metadata?: Record<string, unknown> }) => ({
      ...(b.name === undefined ? {} : { name: b.name }),
      ...(b.aliases === undefined ? {} : { aliases: b.aliases }),
      ...(b.tags === undefined ? {} : { tags: b.tags }),
      ...(b.metadata === undefined ? {} : { metadata: b.metadata }),
    });

    app.post(
      '/keys',
      { config: write, schema: { tags, summary: 'Create a key in a key engine', body: CreateKeyBody, response: { 201: KmsKeySchema, ...errors } } },
      async (request, reply) => {
        const b = request.body;
        const key = await service.createKey({
          algorithm: b.algorithm,
          size: b.size,
          ...(b.engine_id === undefined ? {} : { engineId: b.engine_id }),
          ...labelsOf(b),
          actor: actorOf(request),
        });
        return reply.code(201).send(kmsKeyJson(key));
      },
    );

    app.post(
      '/keys/import',
      { config: write, schema: { tags, summary: 'Import a private key (unencrypted PKCS#8) into a key engine that takes imports', body: ImportKeyBody, response: { 201: KmsKeySchema, ...errors } } },
      async (request, reply) => {
        const b = request.body;
        const key = await service.importKey({
          pkcs8: pkcs8Of(b.private_key),
          ...(b.engine_id === undefined ? {} : { engineId: b.engine_id }),
          ...labelsOf(b),
          actor: actorOf(request),
        });
        return reply.code(201).send(kmsKeyJson(key));
      },
    );

    app.get(
      '/keys/:id',
      { config: read, schema: { tags, summary: 'One key, with its public key', params: KeyRefParams, response: { 200: KmsKeySchema, 404: ErrorBody } } },
      async (request) => kmsKeyJson(await service.getKey(request.params.id)),
    );

    app.delete(
      '/keys/:id',
      { config: write, schema: { tags, summary: 'Delete a key from its engine and the KMS (refused while a CA uses it)', params: KeyRefParams, response: { 204: Type.Null(), ...errors } } },
      async (request, reply) => {
        await service.deleteKey({ key: request.params.id, actor: actorOf(request) });
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/keys/:id/sign',
      {
        config: write,
        schema: { tags, summary: 'Sign a message, or its digest, with the key (the private key stays in its engine)', params: KeyRefParams, body: SignKeyBody, response: { 200: Type.Object({ signature: Type.String({ description: 'base64' }) }), ...errors } },
      },
      async (request) => {
        const b = request.body;
        const signature = await service.sign({ key: request.params.id, algorithm: b.algorithm, messageType: b.message_type, message: base64Bytes(b.message, 'message'), actor: actorOf(request) });
        return { signature: Buffer.from(signature).toString('base64') };
      },
    );

    app.post(
      '/keys/:id/verify',
      { config: read, schema: { tags, summary: "Check a signature with the key's public key", params: KeyRefParams, body: VerifyKeyBody, response: { 200: Type.Object({ valid: Type.Boolean() }), ...errors } } },
      async (request) => {
        const b = request.body;
        const valid = await service.verify({
          key: request.params.id,
          algorithm: b.algorithm,
          messageType: b.message_type,
          message: base64Bytes(b.message, 'message'),
          signature: base64Bytes(b.signature, 'signature'),
        });
        return { valid };
      },
    );

    // Lamassu's label updates: PUT /keys/{id}/name {name}, /tags {tags}, /alias {aliases}, PUT|PATCH /metadata.
    const labelRoute = <K extends 'name' | 'tags' | 'aliases'>(url: string, field: K, schema: ReturnType<typeof Type.Object>) =>
      app.put(
        url,
        { config: write, schema: { tags, summary: `Replace the key's ${field}`, params: KeyRefParams, body: schema, response: { 200: KmsKeySchema, ...errors } } },
        async (request) => {
          const body = request.body as Record<K, never>;
          return kmsKeyJson(await service.updateLabels({ key: (request.params as { id: string }).id, [field]: body[field], actor: actorOf(request) } as never));
        },
      );
    labelRoute('/keys/:id/name', 'name', Type.Object({ name: Type.String({ maxLength: 128 }) }));
    labelRoute('/keys/:id/tags', 'tags', Type.Object({ tags: Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 32 }) }));
    labelRoute('/keys/:id/alias', 'aliases', Type.Object({ aliases: Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 32 }) }));
    for (const method of METADATA_METHODS) {
      app.route({
        method,
        url: '/keys/:id/metadata',
        config: write,
        schema: { tags, summary: metadataSummary(method), params: KeyRefParams, body: MetadataBody, response: { 200: KmsKeySchema, ...errors } },
        handler: async (request) =>
          kmsKeyJson(await service.updateLabels({ key: (request.params as { id: string }).id, metadata: metadataChangeOf(request.body as Record<string, unknown>, method), actor: actorOf(request) })),
      });
    }

    app.post(
      '/keys/:id/export',
      {
        config: write,
        schema: {
          tags,
          summary: 'The private key as PKCS#8 PEM: filesystem keys only, and only where LAMASSU_KMS_ALLOW_KEY_EXPORT is on (403 otherwise)',
          params: KeyRefParams,
          response: { 200: Type.Object({ private_key: Type.String({ description: 'base64 of the PKCS#8 PEM' }) }), 403: ErrorBody, 404: ErrorBody },
        },
      },
      async (request) => {
        const der = await service.exportKey({ key: request.params.id, actor: actorOf(request) });
        return { private_key: Buffer.from(toPem(der, 'PRIVATE KEY')).toString('base64') };
      },
    );
  };
