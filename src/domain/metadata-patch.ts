/**
 * Metadata updates as Lamassu makes them: replace the whole object, or apply an RFC 6902 JSON Patch
 * subset (add, remove, replace) whose paths are RFC 6901 JSON Pointers. The result is bounded in size
 * and depth so metadata stays a label store, not a document database.
 */
import { DomainError, invalid } from './errors.ts';

const utf8Length = (s: string) => new TextEncoder().encode(s).length;

export type Metadata = Record<string, unknown>;

export interface MetadataPatchOperation {
  op: 'add' | 'remove' | 'replace';
  path: string;
  value?: unknown;
}

/** Replace everything, merge keys (null deletes one; our PATCH with a plain object), or JSON-patch. */
export type MetadataChange = { replace: Metadata } | { merge: Metadata } | { patches: MetadataPatchOperation[] };

export const METADATA_MAX_BYTES = 64 * 1024;
export const METADATA_MAX_DEPTH = 16;
export const METADATA_MAX_PATCHES = 256;

const patchInvalid = (message: string, details?: Record<string, unknown>) => invalid('METADATA_PATCH_INVALID', message, details);

/** RFC 6901: "" is the whole document; "/a~1b/~0c" is ["a/b", "~c"]. */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw patchInvalid(`path "${pointer.slice(0, 80)}" is not a JSON Pointer (starts with "/")`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => {
      if (/~[^01]|~$/.test(t)) throw patchInvalid(`path "${pointer.slice(0, 80)}" has a bad "~" escape`);
      return t.replace(/~1/g, '/').replace(/~0/g, '~');
    });
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function depthOf(v: unknown): number {
  if (Array.isArray(v)) return 1 + Math.max(0, ...v.map(depthOf));
  if (isObject(v)) return 1 + Math.max(0, ...Object.values(v).map(depthOf));
  return 0;
}

/** Throws METADATA_TOO_DEEP (400) or METADATA_TOO_LARGE (413) for metadata over the limits. */
export function checkMetadata(metadata: Metadata): Metadata {
  if (!isObject(metadata)) throw invalid('METADATA_INVALID', 'metadata must be a JSON object');
  if (depthOf(metadata) > METADATA_MAX_DEPTH) throw invalid('METADATA_TOO_DEEP', `metadata nests deeper than ${METADATA_MAX_DEPTH} levels`);
  if (utf8Length(JSON.stringify(metadata)) > METADATA_MAX_BYTES) {
    throw new DomainError('METADATA_TOO_LARGE', 'too_large', `metadata is larger than ${METADATA_MAX_BYTES} bytes`);
  }
  return metadata;
}

/** The container a pointer's last token lives in, and that token; intermediate containers must exist. */
function locate(doc: unknown, tokens: string[], path: string): { parent: unknown; key: string } {
  let node = doc;
  for (const token of tokens.slice(0, -1)) {
    const next = Array.isArray(node) ? (/^(0|[1-9]\d*)$/.test(token) ? node[Number(token)] : undefined) : isObject(node) && Object.hasOwn(node, token) ? node[token] : undefined;
    if (next === undefined || next === null || typeof next !== 'object') throw patchInvalid(`path "${path.slice(0, 80)}" does not exist`, { path: path.slice(0, 80) });
    node = next;
  }
  return { parent: node, key: tokens[tokens.length - 1]! };
}

function applyOne(doc: Metadata, p: MetadataPatchOperation): Metadata {
  const tokens = parsePointer(p.path);
  if (tokens.length === 0) {
    // The whole document: only add/replace with an object keep metadata an object.
    if (p.op === 'remove' || !isObject(p.value)) throw patchInvalid('the root of metadata can only be replaced by an object');
    return structuredClone(p.value);
  }
  if (p.op !== 'remove' && !Object.hasOwn(p, 'value')) throw patchInvalid(`"${p.op}" at "${p.path.slice(0, 80)}" needs a value`);
  const { parent, key } = locate(doc, tokens, p.path);
  const value = structuredClone(p.value);
  if (Array.isArray(parent)) {
    const index = key === '-' && p.op === 'add' ? parent.length : /^(0|[1-9]\d*)$/.test(key) ? Number(key) : Number.NaN;
    const limit = p.op === 'add' ? parent.length : parent.length - 1;
    if (!(index >= 0 && index <= limit)) throw patchInvalid(`array index "${key.slice(0, 20)}" out of range at "${p.path.slice(0, 80)}"`);
    if (p.op === 'add') parent.splice(index, 0, value);
    else if (p.op === 'replace') parent[index] = value;
    else parent.splice(index, 1);
    return doc;
  }
  const obj = parent as Record<string, unknown>;
  if (p.op !== 'add' && !Object.hasOwn(obj, key)) throw patchInvalid(`"${p.op}": path "${p.path.slice(0, 80)}" does not exist`, { path: p.path.slice(0, 80) });
  if (p.op === 'remove') delete obj[key];
  else obj[key] = value;
  return doc;
}

/** Applies every operation in order, all or nothing (RFC 6902 section 5), and checks the limits. */
export function applyMetadataChange(current: Metadata, change: MetadataChange): Metadata {
  if ('replace' in change) return checkMetadata(structuredClone(change.replace));
  if ('merge' in change) {
    const merged = structuredClone(current);
    for (const [k, v] of Object.entries(change.merge)) {
      if (v === null) delete merged[k];
      else merged[k] = structuredClone(v);
    }
    return checkMetadata(merged);
  }
  if (change.patches.length > METADATA_MAX_PATCHES) throw patchInvalid(`at most ${METADATA_MAX_PATCHES} operations per patch`);
  let doc = structuredClone(current);
  for (const p of change.patches) {
    if (!p || !['add', 'remove', 'replace'].includes(p.op) || typeof p.path !== 'string') {
      throw patchInvalid('each operation needs op add, remove or replace and a string path (move, copy and test are not supported)');
    }
    doc = applyOne(doc, p);
  }
  return checkMetadata(doc);
}
