import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { caBinding, dmsBinding, thingAttributes, validThingName } from './bindings.ts';

describe('AWS IoT bindings in CA and DMS metadata (lamassu.io/iot/<connector id>)', () => {
  it('reads a CA registration request in our form and in Lamassu\'s; anything else asks for none', () => {
    assert.deepEqual(caBinding({ 'lamassu.io/iot/aws': { register: true } }, 'aws'), { mode: 'DEFAULT', autoRegistration: false });
    assert.deepEqual(caBinding({ 'lamassu.io/iot/aws': { register: true, mode: 'SNI_ONLY', auto_registration: true } }, 'aws'), { mode: 'SNI_ONLY', autoRegistration: true });
    assert.deepEqual(caBinding({ 'lamassu.io/iot/aws': { registration: { status: 'REQUESTED', primary_account: false } } }, 'aws'), { mode: 'SNI_ONLY', autoRegistration: false });
    assert.equal(caBinding({ 'lamassu.io/iot/aws': { register: true } }, 'other'), undefined);
    assert.equal(caBinding({ 'lamassu.io/iot/aws': { register: 'yes' } }, 'aws'), undefined);
    assert.equal(caBinding({ 'lamassu.io/iot/aws': [] }, 'aws'), undefined);
  });

  it('reads a DMS binding: groups, policies by name or with a document, shadow; invalid names are left out; "none" binds nothing', () => {
    const b = dmsBinding(
      { 'lamassu.io/iot/aws': { groups: ['fleet', 'bad group'], policies: ['p1', { policy_name: 'p2', policy_document: { Version: '2012-10-17' } }, { policy_name: 'bad name!' }], shadow: { name: 'mine' } } },
      'aws',
      'lamassu',
    );
    assert.deepEqual(b, { groups: ['fleet'], policies: [{ name: 'p1', document: null }, { name: 'p2', document: '{"Version":"2012-10-17"}' }], shadowName: 'mine', shadowEnabled: true });
    assert.equal(dmsBinding({ 'lamassu.io/iot/aws': { registration_mode: 'none' } }, 'aws', 'lamassu'), undefined);
    assert.equal(dmsBinding({}, 'aws', 'lamassu'), undefined);
    assert.equal(dmsBinding({ 'lamassu.io/iot/aws': {} }, 'aws', 'lamassu')?.shadowName, 'lamassu');
  });

  it('makes thing attributes of scalar metadata AWS accepts, at most 50; thing names follow AWS', () => {
    const many = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`k${i}`, i]));
    assert.deepEqual(thingAttributes({ model: 'x1', ok: true, n: 3, nested: { a: 1 }, 'bad key!': 'v', spaces: 'a b' }, { lamassu_dms: 'd' }), { lamassu_dms: 'd', model: 'x1', ok: 'true', n: '3' });
    assert.equal(Object.keys(thingAttributes(many, {})).length, 50);
    assert.equal(validThingName('dev-1:a_b'), true);
    assert.equal(validThingName('dev 1'), false);
    assert.equal(validThingName('x'.repeat(129)), false);
  });
});
