/** The routes of the server's own OpenAPI document, and JSON values made from their schemas (valid-ish, then spoiled). */
import { enc, oddStrings, oddValues, pathId, type Samples } from './inputs.ts';
import type { Rng } from './prng.ts';

export type Schema = {
  type?: string | string[];
  enum?: unknown[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  default?: unknown;
  format?: string;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  in?: string;
  name?: string;
  schema?: Schema;
};

export interface Route {
  method: string;
  /** OpenAPI path, e.g. /api/ca/v1/cas/{id} */
  path: string;
  query: { name: string; schema: Schema }[];
  body?: Schema;
}

interface OpenApiDoc {
  paths: Record<string, Record<string, { parameters?: Schema[]; requestBody?: { content?: Record<string, { schema?: Schema }> } }>>;
}

export function routesOf(doc: OpenApiDoc): Route[] {
  const routes: Route[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const query = (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => ({ name: p.name!, schema: p.schema ?? {} }));
      const body = op.requestBody?.content?.['application/json']?.schema;
      routes.push({ method: method.toUpperCase(), path, query, ...(body ? { body } : {}) });
    }
  }
  return routes;
}

/** A value that mostly fits `schema`; `spoil` is the chance of a wrong value at each level. */
export function instance(r: Rng, schema: Schema, samples: Samples, spoil: number, depth = 0): unknown {
  if (depth > 12) return null;
  if (r.chance(spoil)) return oddValues(r);
  const alt = schema.anyOf ?? schema.oneOf;
  if (alt) return instance(r, r.pick(alt), samples, spoil, depth + 1);
  if (schema.allOf) return Object.assign({}, ...schema.allOf.map((s) => instance(r, s, samples, spoil, depth + 1)));
  if (schema.enum) return r.pick(schema.enum);
  const type = Array.isArray(schema.type) ? r.pick(schema.type) : schema.type;
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, s] of Object.entries(schema.properties ?? {})) {
        if (schema.required?.includes(k) || r.chance(0.5)) out[k] = instance(r, s, samples, spoil, depth + 1);
      }
      if (r.chance(spoil)) out[oddStrings(r).slice(0, 50)] = oddValues(r);
      return out;
    }
    case 'array':
      return Array.from({ length: r.int(4) }, () => instance(r, schema.items ?? {}, samples, spoil, depth + 1));
    case 'integer':
      return r.pick([0, 1, 256, 2048, -5, schema.minimum ?? 1, schema.maximum ?? 100]);
    case 'number':
      return r.next() * 1000;
    case 'boolean':
      return r.chance(0.5);
    case 'null':
      return null;
    case 'string':
      if (schema.format === 'date-time') return new Date(Date.now() + r.int(1e10)).toISOString();
      return r.pick([
        () => r.pick([...samples.caIds, ...samples.dmsIds, 'x']),
        () => r.pick(samples.csrs).toString('base64'),
        () => Buffer.from(samples.certDer.toString('base64')).toString('base64'),
        () => '1y',
        () => `fuzz-${r.int(1e6)}`,
        () => oddStrings(r).slice(0, schema.maxLength ?? 1000),
      ])();
    default:
      return r.chance(0.5) ? {} : oddValues(r);
  }
}

/** The route's path with each `{param}` (and `{*}`) filled. */
export function fillPath(r: Rng, path: string, samples: Samples): string {
  return path.replace(/\{([^}]+)\}/g, (_m, name: string) => {
    if (name === '*') return r.bytes(r.int(200)).toString(r.pick(['base64', 'base64url', 'hex']));
    if (name === 'serial') return pathId(r, samples.serials);
    if (name === 'label') return pathId(r, [...samples.dmsIds, ...samples.caIds]);
    if (path.includes('/devices/')) return pathId(r, samples.deviceIds);
    if (path.includes('/dms/') && name === 'id') return pathId(r, samples.dmsIds);
    return pathId(r, samples.caIds);
  });
}

export function queryString(r: Rng, route: Route, samples: Samples): string {
  const parts: string[] = [];
  for (const q of route.query) {
    if (!r.chance(0.4)) continue;
    const v = r.chance(0.5) ? instance(r, q.schema, samples, 0.3) : oddStrings(r).slice(0, 2000);
    parts.push(`${q.name}=${r.chance(0.1) ? '%zz' : enc(typeof v === 'string' ? v : JSON.stringify(v) ?? '')}`);
  }
  if (r.chance(0.1)) parts.push(r.pick(['a=%00', '%00=1', 'x[]=1&x[]=2', 'page_size=1e3', '=', '&&', 'a=%', `q=${'x'.repeat(5000)}`]));
  return parts.length ? `?${parts.join('&')}` : '';
}
