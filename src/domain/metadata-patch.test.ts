import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DomainError } from './errors.ts';
import { applyMetadataChange, parsePointer } from './metadata-patch.ts';

const code = (c: string) => (e: unknown) => e instanceof DomainError && e.code === c;

test('JSON Pointer (RFC 6901): escapes, root, refused forms', () => {
  assert.deepEqual(parsePointer(''), []);
  assert.deepEqual(parsePointer('/a~1b/~0c/0'), ['a/b', '~c', '0']);
  assert.throws(() => parsePointer('a'), code('METADATA_PATCH_INVALID'));
  assert.throws(() => parsePointer('/a~2'), code('METADATA_PATCH_INVALID'));
});

test('JSON Patch subset (RFC 6902): add, remove, replace on objects and arrays, in order, all or nothing', () => {
  const current = { a: 1, list: ['x', 'y'], nested: { k: 'v' } };
  const out = applyMetadataChange(current, {
    patches: [
      { op: 'add', path: '/b', value: { deep: true } },
      { op: 'replace', path: '/a', value: 2 },
      { op: 'remove', path: '/nested/k' },
      { op: 'add', path: '/list/1', value: 'between' },
      { op: 'add', path: '/list/-', value: 'end' },
      { op: 'replace', path: '/list/0', value: 'first' },
      { op: 'remove', path: '/list/3' },
      { op: 'add', path: '/a~1b', value: 'slash' },
    ],
  });
  assert.deepEqual(out, { a: 2, list: ['first', 'between', 'y'], nested: {}, b: { deep: true }, 'a/b': 'slash' });
  assert.deepEqual(current, { a: 1, list: ['x', 'y'], nested: { k: 'v' } }, 'input untouched');
  for (const bad of [
    { op: 'remove', path: '/missing' },
    { op: 'replace', path: '/missing', value: 1 },
    { op: 'add', path: '/no/such/parent', value: 1 },
    { op: 'add', path: '/list/9', value: 1 },
    { op: 'add', path: '/x' },
    { op: 'move', path: '/a', from: '/b' },
    { op: 'remove', path: '' },
  ]) {
    assert.throws(() => applyMetadataChange(current, { patches: [{ op: 'add', path: '/ok', value: 1 }, bad as never] }), code('METADATA_PATCH_INVALID'), JSON.stringify(bad));
  }
  assert.deepEqual(applyMetadataChange(current, { patches: [{ op: 'replace', path: '', value: { only: 1 } }] }), { only: 1 });
});

test('replace and merge; size and depth limits', () => {
  assert.deepEqual(applyMetadataChange({ a: 1 }, { replace: { b: 2 } }), { b: 2 });
  assert.deepEqual(applyMetadataChange({ a: 1, b: 2 }, { merge: { a: null, c: 3 } }), { b: 2, c: 3 });
  let deep: Record<string, unknown> = { leaf: 1 };
  for (let i = 0; i < 16; i++) deep = { d: deep };
  assert.throws(() => applyMetadataChange({}, { replace: deep }), code('METADATA_TOO_DEEP'));
  assert.throws(() => applyMetadataChange({}, { patches: [{ op: 'add', path: '/big', value: 'x'.repeat(70_000) }] }), code('METADATA_TOO_LARGE'));
  assert.deepEqual(Object.keys(applyMetadataChange({}, { replace: (deep.d as Record<string, unknown>) })), ['d']);
});
