import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkCriteria, conditionsOf, quoteHyphenatedKeys, type DeviceGroup } from './device-group.ts';

test('quoteHyphenatedKeys quotes bare keys with "-" and nothing else', () => {
  assert.equal(quoteHyphenatedKeys('$.a-b_c[0].d == "x y"'), '$."a-b_c"[0].d == "x y"');
  assert.equal(quoteHyphenatedKeys('exists($.hw-rev)'), 'exists($."hw-rev")');
  assert.equal(quoteHyphenatedKeys('$.a- == 1'), '$."a-" == 1');
  // Strings, quoted keys and numbers are left alone.
  assert.equal(quoteHyphenatedKeys('$.a == ".b-c"'), '$.a == ".b-c"');
  assert.equal(quoteHyphenatedKeys('$."x.y-z" == "\\".q-r"'), '$."x.y-z" == "\\".q-r"');
  assert.equal(quoteHyphenatedKeys('$.v <= -1.5'), '$.v <= -1.5');
});

test('the jsonpath criteria groups took before still parse, stored as given', () => {
  const old = [
    'exists($.a.b)',
    ' exists( $."lamassu.io/x"[2] ) ',
    '$.env == "prod"',
    '$.v!=3',
    '$.v <> 3',
    '$.v <= -1.5',
    '$.v >= 2',
    '$.v < 2',
    '$.v > 2',
    '$.ok == true',
    '$.n == null',
    '$ == 1',
    '$.a-b_c[0].d == "x y"',
  ];
  const criteria = old.map((value) => ({ field: 'metadata', operand: 'JSONPath', value }));
  assert.deepEqual(checkCriteria(criteria), criteria.map((c) => ({ ...c, operand: 'jsonpath' })));
  const group: DeviceGroup = { id: 'g', name: 'g', description: '', parentId: null, criteria, createdAt: new Date(0), updatedAt: new Date(0) };
  const filters = conditionsOf([group]).filters;
  assert.equal(filters.length, old.length);
  assert.deepEqual(filters.at(-1)?.value, { kind: 'cmp', path: [{ key: 'a-b_c' }, { index: 0 }, { key: 'd' }], op: '==', value: 'x y' });
});
