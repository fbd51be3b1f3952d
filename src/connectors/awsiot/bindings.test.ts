import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { caBinding, dmsBinding, provisioningProblem, sameCaConfig, thingAttributes, validThingName } from './bindings.ts';

describe('AWS IoT bindings in CA and DMS metadata (lamassu.io/iot/<connector id>)', () => {
  it('reads a CA registration request in our form and in Lamassu\'s; anything else asks for none', () => {
    assert.deepEqual(caBinding({ 'lamassu.io/iot/aws': { register: true } }, 'aws'), { mode: 'DEFAULT', autoRegistration: false, provisioning: null });
    assert.deepEqual(caBinding({ 'lamassu.io/iot/aws': { register: true, mode: 'SNI_ONLY', auto_registration: true } }, 'aws'), { mode: 'SNI_ONLY', autoRegistration: true, provisioning: null });
    assert.deepEqual(caBinding({ 'lamassu.io/iot/aws': { registration: { status: 'REQUESTED', primary_account: false } } }, 'aws'), { mode: 'SNI_ONLY', autoRegistration: false, provisioning: null });
    assert.equal(caBinding({ 'lamassu.io/iot/aws': { register: true } }, 'other'), undefined);
    assert.equal(caBinding({ 'lamassu.io/iot/aws': { register: 'yes' } }, 'aws'), undefined);
    assert.equal(caBinding({ 'lamassu.io/iot/aws': [] }, 'aws'), undefined);
  });

  it('reads a JITP provisioning template (a body with its role, or a template name); it turns auto-registration on unless told otherwise; problems are named', async () => {
    const body = { Parameters: {}, Resources: { thing: { Type: 'AWS::IoT::Thing' } } };
    const role = 'arn:aws:iam::123456789012:role/jitp';
    const withBody = caBinding({ 'lamassu.io/iot/aws': { register: true, provisioning: { template_body: body, role_arn: role } } }, 'aws')!;
    assert.deepEqual(withBody, { mode: 'DEFAULT', autoRegistration: true, provisioning: { templateBody: JSON.stringify(body), roleArn: role } });
    assert.equal(provisioningProblem(withBody.provisioning), undefined);
    const named = caBinding({ 'lamassu.io/iot/aws': { register: true, auto_registration: false, provisioning: { template_name: 'fleet' } } }, 'aws')!;
    assert.deepEqual(named, { mode: 'DEFAULT', autoRegistration: false, provisioning: { templateName: 'fleet' } });
    assert.equal(provisioningProblem(named.provisioning), undefined);
    assert.equal(caBinding({ 'lamassu.io/iot/aws': { register: true, provisioning: {} } }, 'aws')!.provisioning, null);
    assert.match(provisioningProblem({ templateBody: JSON.stringify(body) })!, /needs role_arn/);
    assert.match(provisioningProblem({ templateBody: '{"x":1}', roleArn: role })!, /Resources/);
    assert.match(provisioningProblem({ templateBody: 'not json', roleArn: role })!, /not JSON/);
    assert.match(provisioningProblem({ templateName: 'a', templateBody: '{}' })!, /not both/);
    assert.match(provisioningProblem({ templateName: 'a', roleArn: 'arn:aws:iam::1:user/x' })!, /not an IAM role/);
    // The same template written differently is the same configuration.
    const reordered = caBinding({ 'lamassu.io/iot/aws': { register: true, provisioning: { template_body: JSON.stringify({ Resources: body.Resources, Parameters: {} }, null, 2), role_arn: role } } }, 'aws');
    assert.equal(sameCaConfig(withBody, reordered), true);
    assert.equal(sameCaConfig(withBody, named), false);
    assert.equal(sameCaConfig({ mode: 'DEFAULT', autoRegistration: false }, { mode: 'SNI_ONLY', autoRegistration: false, provisioning: null }), true, 'mode is not pushed after registration');
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
