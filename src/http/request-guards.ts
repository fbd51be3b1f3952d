/**
 * Checks every request passes before a route sees it, on both listeners:
 * - no U+0000 in path parameters, query or JSON strings: PostgreSQL cannot store it (text and jsonb refuse
 *   it with an error), SQLite can; refusing it here answers the same 400 on both databases;
 * - JSON bodies nest at most JSON_MAX_DEPTH levels, checked on the text before it is parsed, so that a
 *   deeply nested body never becomes objects that overflow the stack when serialized or stored.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { invalid } from '../domain/errors.ts';

export const JSON_MAX_DEPTH = 32;

const nulRefused = (where: string) =>
  invalid('NUL_CHARACTER', `the request carries a NUL character (U+0000) in its ${where}; no field accepts it`);

const hasNul = (value: unknown): boolean => {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(hasNul);
  return false;
};

/** Keys and values of a parsed query or params object (values are strings or arrays of strings). */
function nulIn(record: unknown, skip?: string): boolean {
  if (record === null || typeof record !== 'object') return false;
  for (const [key, value] of Object.entries(record)) {
    if (key === skip) continue;
    if (key.includes('\u0000') || hasNul(value)) return true;
  }
  return false;
}

function refuseNulInUrl(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  // A wildcard (`*`, the OCSP GET path) is read raw by its route and judged by its own protocol.
  if (nulIn(request.params, '*')) return done(nulRefused('path'));
  if (nulIn(request.query)) return done(nulRefused('query'));
  done();
}

const BACKSLASH = 0x5c;
const QUOTE = 0x22;

/**
 * One pass over JSON text: throws JSON_TOO_DEEP past JSON_MAX_DEPTH levels of objects and arrays, and
 * NUL_CHARACTER for a `\u0000` escape in any string (raw control characters are invalid JSON and left
 * to the parser). Malformed text is otherwise left to JSON.parse.
 */
export function checkJsonText(text: string): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) {
        if (text.startsWith('u0000', i + 1)) throw nulRefused('JSON body');
        i++; // the escaped character, e.g. the quote of \"
      } else if (c === QUOTE) {
        inString = false;
      }
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > JSON_MAX_DEPTH) throw invalid('JSON_TOO_DEEP', `the JSON body nests deeper than ${JSON_MAX_DEPTH} levels`);
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
}

/**
 * Installs the guards on an app (before its routes are registered): the URL check as the first hook, and
 * JSON parsing that checks the text first, then parses as fastify does (prototype-poisoning protection
 * included). `text/plain` bodies are not parsed at all: no route takes them, so they get 415.
 */
export function registerRequestGuards(app: FastifyInstance): void {
  app.addHook('onRequest', refuseNulInUrl);
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    try {
      checkJsonText(body as string);
    } catch (err) {
      return done(err as Error, undefined);
    }
    parseJson(request, body as string, done);
  });
}
