/**
 * Metadata request bodies of every resource: Lamassu's `{"patches": [{op, path, value}]}` (RFC 6902 subset)
 * on PUT and PATCH, or a plain object: PUT replaces the metadata with it, PATCH merges it (null deletes a key).
 */
import { Type } from 'typebox';
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
