import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DomainError } from './errors.ts';
import { parseJsonPathCondition } from './json-path-condition.ts';

test('parses exists() and comparisons with every step form and literal type', () => {
  assert.deepEqual(parseJsonPathCondition('exists($.a.b)'), { path: ['a', 'b'], op: 'exists' });
  assert.deepEqual(parseJsonPathCondition(' exists( $."lamassu.io/x"[2] ) '), { path: ['lamassu.io/x', 2], op: 'exists' });
  assert.deepEqual(parseJsonPathCondition('$.env == "prod"'), { path: ['env'], op: 'eq', value: 'prod' });
  assert.deepEqual(parseJsonPathCondition('$.v!=3'), { path: ['v'], op: 'ne', value: 3 });
  assert.deepEqual(parseJsonPathCondition('$.v <> 3'), { path: ['v'], op: 'ne', value: 3 });
  assert.deepEqual(parseJsonPathCondition('$.v <= -1.5'), { path: ['v'], op: 'le', value: -1.5 });
  assert.deepEqual(parseJsonPathCondition('$.v >= 2'), { path: ['v'], op: 'ge', value: 2 });
  assert.deepEqual(parseJsonPathCondition('$.v < 2'), { path: ['v'], op: 'lt', value: 2 });
  assert.deepEqual(parseJsonPathCondition('$.v > 2'), { path: ['v'], op: 'gt', value: 2 });
  assert.deepEqual(parseJsonPathCondition('$.ok == true'), { path: ['ok'], op: 'eq', value: true });
  assert.deepEqual(parseJsonPathCondition('$.n == null'), { path: ['n'], op: 'eq', value: null });
  assert.deepEqual(parseJsonPathCondition('$ == 1'), { path: [], op: 'eq', value: 1 });
  assert.deepEqual(parseJsonPathCondition('$.a-b_c[0].d == "x y"'), { path: ['a-b_c', 0, 'd'], op: 'eq', value: 'x y' });
});

test('refuses bad syntax (JSONPATH_INVALID) and jsonpath it does not evaluate (JSONPATH_UNSUPPORTED)', () => {
  const code = (expression: string) => {
    try {
      parseJsonPathCondition(expression);
    } catch (e) {
      assert.ok(e instanceof DomainError);
      assert.equal(e.kind, 'invalid');
      return e.code;
    }
    return 'accepted';
  };
  for (const e of ['', 'a == 1', '$.a == prod', '$.a == ', '$."a == 1', '$."" == 1', `$.${'a.'.repeat(17)}a == 1`, 'x'.repeat(1025)]) {
    assert.equal(code(e), 'JSONPATH_INVALID', e);
  }
  for (const e of ['$.a[*] == 1', '$.a == 1 && $.b == 2', '$.a == 1 || $.b == 2', '$.* == 1', '$.a[last] == 1', 'exists($.a ? (@ > 1))', 'exists($.a) && exists($.b)', '$.a == [1]', '$.a == {"b": 1}', '$.a > "b"', '$.a like_regex "x"', '$.a']) {
    assert.equal(code(e), 'JSONPATH_UNSUPPORTED', e);
  }
});
