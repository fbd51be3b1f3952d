/**
 * Metadata request bodies of every resource: Lamassu's `{"patches": [{op, path, value}]}` (RFC 6902 subset)
 * on PUT and PATCH, or a plain object: PUT replaces the metadata with it, PATCH merges it (null deletes a key).
 */
import type { FastifyInstance } from 'fastify';
import { Type, type TSchema } from 'typebox';
import { actorOf } from './auth/identity.ts';
import type { MetadataChange, MetadataPatchOperation } from '../domain/metadata-patch.ts';

export const MetadataBody = Type.Record(Type.String(), Type.Unknown(), {
  description:
    'Lamassu JSON Patch `{"patches": [{"op": "add|remove|replace", "path": "/json/pointer", "value": ...}]}`, or a plain object ' +
    '(PUT: the new metadata; PATCH: keys to merge, null deletes). 400 METADATA_PATCH_INVALID, METADATA_TOO_DEEP (16 levels), 413 METADATA_TOO_LARGE (64 KiB).',
});

const isPatchBody = (body: Record<string, unknown>) => Object.keys(body).length === 1 && Array.isArray(body.patches);

export function metadataChangeOf(body: Record<string, unknown>, method: 'PUT' | 'PATCH'): MetadataChange {
  if (isPatchBody(body)) return { patches: body.patches as MetadataPatchOperation[] };
  return method === 'PUT' ? { replace: body } : { merge: body };
}

export const METADATA_METHODS = ['PUT', 'PATCH'] as const;

export const metadataSummary = (method: 'PUT' | 'PATCH') =>
  method === 'PATCH' ? 'JSON-patch metadata (Lamassu), or merge keys (null deletes one)' : 'JSON-patch metadata (Lamassu), or replace it';

/** PUT and PATCH `url` (with an `:id` parameter): the change goes to `change`, whose answer is the response. */
export function idMetadataRoutes(
  app: FastifyInstance,
  opts: { url: string; tags: string[]; params: TSchema; change: (id: string, change: MetadataChange, actor: string) => Promise<unknown> },
): void {
  for (const method of METADATA_METHODS) {
    app.route({
      method,
      url: opts.url,
      config: { access: 'write' },
      schema: { tags: opts.tags, summary: metadataSummary(method), params: opts.params, body: MetadataBody },
      handler: async (request) =>
        opts.change((request.params as { id: string }).id, metadataChangeOf(request.body as Record<string, unknown>, method), actorOf(request)),
    });
  }
}
