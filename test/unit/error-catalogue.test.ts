/**
 * docs/errors.md lists every code the server can answer. The codes are collected from the source, where
 * they are written: DomainError factories (`invalid('X', ...)`, `new DomainError('X', ...)` and local
 * helpers whose first parameter is `code`), `code: 'X'` / `code = 'X'` (HTTP error mapping, pre-routing
 * failures, error classes such as EST's media-type error), `sendPlainError(reply, status, 'X', ...)` and tables
 * from a fault to its code (`REVOKED: 'X'`).
 * Codes built from a template (`${subject}_STATUS_CHANGED`) must match at least one documented code.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const root = path.resolve(import.meta.dirname, '../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

const CODE = "'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)'";
const FACTORIES = ['invalid', 'notFound', 'conflict', 'unsupported', 'unavailable', 'forbidden', 'unauthenticated'];

interface Found {
  codes: Map<string, Set<string>>;
  templates: Map<string, Set<string>>;
}

export function collectCodes(files: string[]): Found {
  const sources = files.map((f) => ({ file: path.relative(root, f), text: readFileSync(f, 'utf8') }));
  // Local helpers that take the code as their first parameter: `const refuse = (code: string, ...`.
  const helpers = new Set(FACTORIES);
  for (const { text } of sources) {
    for (const m of text.matchAll(/(?:const|function)\s+(\w+)\s*=?\s*\(\s*code\s*:\s*(?:string|')/g)) helpers.add(m[1]!);
  }
  const calls = new RegExp(`(?<![.\\w])(?:new\\s+DomainError|${[...helpers].join('|')})\\(\\s*${CODE}`, 'g');
  const props = new RegExp(`\\bcode\\s*[:=]\\s*${CODE}`, 'g');
  const plain = new RegExp(`sendPlainError\\([^,]+,\\s*\\d+,\\s*${CODE}`, 'g');
  // Tables from a fault to its code: `REVOKED: 'ENROLL_CLIENT_CERTIFICATE_REVOKED'`.
  const tables = new RegExp(`\\b[A-Z][A-Z_]*\\s*:\\s*'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)'`, 'g');
  const templated = new RegExp(`(?<![.\\w])(?:new\\s+DomainError|${[...helpers].join('|')})\\(\\s*\`\\$\\{\\w+\\}(_[A-Z0-9_]+)\``, 'g');
  const found: Found = { codes: new Map(), templates: new Map() };
  const add = (into: Map<string, Set<string>>, code: string, file: string) => into.set(code, (into.get(code) ?? new Set()).add(file));
  for (const { file, text } of sources) {
    for (const re of [calls, props, plain, tables]) for (const m of text.matchAll(re)) add(found.codes, m[1]!, file);
    for (const m of text.matchAll(templated)) add(found.templates, m[1]!, file);
  }
  return found;
}

const documented = new Set(
  [...readFileSync(path.join(root, 'docs/errors.md'), 'utf8').matchAll(/^\|\s*`?([A-Z][A-Z0-9_]+)`?\s*\|/gm)].map((m) => m[1]!),
);

test('the collector finds codes of every kind of source (so that an empty result cannot pass)', () => {
  const { codes, templates } = collectCodes(sourceFiles(path.join(root, 'src')));
  for (const code of ['CA_NOT_FOUND', 'INTERNAL', 'MALFORMED_JSON', 'EST_UNSUPPORTED_MEDIA_TYPE', 'EST_OPERATION_UNSUPPORTED', 'ENROLL_CLIENT_CERTIFICATE_REVOKED', 'KEY_ENGINE_AUTH_FAILED', 'HEADERS_TOO_LARGE']) {
    assert.ok(codes.has(code), `collector missed ${code}`);
  }
  assert.ok(templates.has('_STATUS_CHANGED'), 'collector missed the templated *_STATUS_CHANGED');
});

test('docs/errors.md documents every error code used in src/', () => {
  const { codes, templates } = collectCodes(sourceFiles(path.join(root, 'src')));
  const missing = [...codes].filter(([code]) => !documented.has(code)).map(([code, files]) => `${code} (${[...files].join(', ')})`);
  for (const [suffix, files] of templates) {
    if (![...documented].some((d) => d.endsWith(suffix))) missing.push(`*${suffix} (${[...files].join(', ')})`);
  }
  assert.deepEqual(missing.sort(), [], `codes missing from docs/errors.md:\n  ${missing.sort().join('\n  ')}`);
});
