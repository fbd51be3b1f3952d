import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DomainError } from '../domain/errors.ts';
import { checkJsonText, JSON_MAX_DEPTH } from './request-guards.ts';

const codeOf = (text: string): string | undefined => {
  try {
    checkJsonText(text);
    return undefined;
  } catch (e) {
    assert.ok(e instanceof DomainError);
    return e.code;
  }
};

test('JSON text: depth up to the limit passes, one more level is refused, brackets inside strings do not count', () => {
  assert.equal(codeOf(`${'['.repeat(JSON_MAX_DEPTH)}${']'.repeat(JSON_MAX_DEPTH)}`), undefined);
  assert.equal(codeOf(`${'[{"a":'.repeat(JSON_MAX_DEPTH / 2)}1${'}]'.repeat(JSON_MAX_DEPTH / 2)}`), undefined);
  assert.equal(codeOf(`${'['.repeat(JSON_MAX_DEPTH + 1)}${']'.repeat(JSON_MAX_DEPTH + 1)}`), 'JSON_TOO_DEEP');
  assert.equal(codeOf(JSON.stringify({ a: '['.repeat(1000), b: '{"x\\"[[[[' })), undefined);
  // Siblings do not add up: depth is nesting, not count.
  assert.equal(codeOf(`[${'[],'.repeat(1000)}[]]`), undefined);
});

test('JSON text: a \\u0000 escape anywhere (value or key) is refused; an escaped backslash before u0000 is not a NUL', () => {
  assert.equal(codeOf(JSON.stringify({ a: 'x\u0000' })), 'NUL_CHARACTER');
  assert.equal(codeOf(JSON.stringify({ 'k\u0000': 1 })), 'NUL_CHARACTER');
  assert.equal(codeOf(JSON.stringify(['\u0000'])), 'NUL_CHARACTER');
  assert.equal(codeOf(JSON.stringify({ a: '\\u0000' })), undefined);
  assert.equal(codeOf(JSON.stringify({ a: '\u0001\\' })), undefined);
  assert.equal(codeOf('"\\u00000"'), 'NUL_CHARACTER');
});
