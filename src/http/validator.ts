/**
 * Request validation: URL parts (params, query, headers) arrive as strings and are coerced to the
 * schema's types; JSON bodies are not, so `{"bits": "256"}` is refused instead of silently accepted.
 */
import { Ajv, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

// As fastify's defaults; allErrors stays off (a DoS vector on large bodies).
const base: Options = { useDefaults: true, removeAdditional: true, allErrors: false, addUsedSchema: false };

function build(coerceTypes: Options['coerceTypes']): Ajv {
  const ajv = new Ajv({ ...base, coerceTypes });
  addFormats.default(ajv);
  return ajv;
}

export function validatorCompiler(): FastifySchemaCompiler<unknown> {
  const strict = build(false);
  const coercing = build('array');
  return ({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema as object);
}
