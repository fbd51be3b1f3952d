import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDomainError } from './errors.ts';
import { jsonPathText, parseJsonPathFilter } from './jsonpath-filter.ts';

test('the rebuilt text quotes every key and parses back to the same tree', () => {
  for (const [input, text] of [
    ['$.environment == "production"', '$."environment" == "production"'],
    ['1 < $.version', '$."version" > 1'],
    ['$.a <> null', '$."a" != null'],
    ['exists($.tags[*] ? (@ == "x")) && !($."lamassu.io/x"[0].b[last] >= -1.5e3)', '(exists($."tags"[*] ? (@ == "x")) && !($."lamassu.io/x"[0]."b"[last] >= -1500))'],
    ['($.a == true || $.b == false) && exists($.c)', '(($."a" == true || $."b" == false) && exists($."c"))'],
    ['exists($.items[*] ? (@.key == "a\\"b"))', 'exists($."items"[*] ? (@."key" == "a\\"b"))'],
  ]) {
    const tree = parseJsonPathFilter(input!);
    assert.equal(jsonPathText(tree), text, input);
    assert.deepEqual(parseJsonPathFilter(jsonPathText(tree)), tree, input);
  }
});

test('outside the subset: FILTER_JSONPATH_INVALID', () => {
  for (const input of ['', '$', '$.a', '$.a == $.b', '$.a ? (@ == 1)', '$.a.type() == "string"', '$.a like_regex "x"', '$[*] == 1', '$.a == 1e999', '$.a < null', '$.a[-1] == 1', 'exists($.a[*] ? (@ == 1) ? (@ == 2))']) {
    assert.throws(() => parseJsonPathFilter(input), (e: unknown) => isDomainError(e) && e.code === 'FILTER_JSONPATH_INVALID', input);
  }
});
