import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDomainError } from '../../domain/errors.ts';
import type { CloudEvent } from '../../domain/ports/event-bus.ts';
import type { Condition } from '../../domain/alerts/subscription.ts';
import { EventConditionCompiler } from './event-conditions.ts';

const revoked: CloudEvent = {
  specversion: '1.0',
  id: 'e1',
  source: 'lamassu/ca',
  type: 'certificate.status.update',
  time: '2026-01-01T00:00:00.000Z',
  data: { status: 'REVOKED', revocation_reason: 'KeyCompromise', issuer_ca_id: 'ca-1' },
};
const expired: CloudEvent = { ...revoked, id: 'e2', data: { status: 'EXPIRED', revocation_reason: null, issuer_ca_id: 'ca-2' } };

const compiler = new EventConditionCompiler();
const path = (condition: string): Condition => ({ type: 'JSON-PATH', condition });
const schema = (s: unknown): Condition => ({ type: 'JSON-SCHEMA', condition: JSON.stringify(s) });
const statusIs = (status: string) => schema({ type: 'object', properties: { data: { type: 'object', properties: { status: { const: status } }, required: ['status'] } }, required: ['data'] });

function refusal(conditions: Condition[]): { message: string; details?: Record<string, unknown> } {
  try {
    compiler.compile(conditions, 'any');
  } catch (e) {
    assert.ok(isDomainError(e));
    assert.equal(e.code, 'ALERT_CONDITION_INVALID');
    return e;
  }
  assert.fail('expected the conditions to be refused');
}

describe('alert conditions', () => {
  it('JSON-PATH matches when the path selects at least one node', () => {
    assert.equal(compiler.compile([path('$.data.revocation_reason')], 'any')(revoked), true);
    assert.equal(compiler.compile([path('$.data.nothing')], 'any')(revoked), false);
    // A selected null is still a node.
    assert.equal(compiler.compile([path('$.data.revocation_reason')], 'any')(expired), true);
  });

  it('JSON-SCHEMA matches when the event validates', () => {
    assert.equal(compiler.compile([statusIs('REVOKED')], 'any')(revoked), true);
    assert.equal(compiler.compile([statusIs('REVOKED')], 'any')(expired), false);
  });

  it('combines with any (default, as Lamassu) or all; no conditions match everything', () => {
    const both = [statusIs('REVOKED'), schema({ properties: { data: { properties: { issuer_ca_id: { const: 'ca-2' } } } } })];
    assert.equal(compiler.compile(both, 'any')(revoked), true);
    assert.equal(compiler.compile(both, 'all')(revoked), false);
    assert.equal(compiler.compile(both, 'all')({ ...revoked, data: { status: 'REVOKED', issuer_ca_id: 'ca-2' } }), true);
    assert.equal(compiler.compile([], 'all')(expired), true);
  });

  it('refuses bad conditions at compile time, naming the condition and the fault', () => {
    assert.match(refusal([path('data.status')]).message, /conditions\[0\] \(JSON-PATH\): a JSONPath expression starts with "\$"/);
    assert.match(refusal([path('$.data[?(@.status=="REVOKED")]')]).message, /conditions\[0\] \(JSON-PATH\): .*filter expressions .*are disabled/);
    assert.match(refusal([path('$.data[0')]).message, /unbalanced brackets/);
    // Also where the sample event has nothing, so evaluation alone would not reach the filter.
    assert.match(refusal([path('$.nowhere.deeper[?(@.x == 1)]')]).message, /filter expressions .* are disabled/);
    assert.match(refusal([path('$.data[(@.length-1)]')]).message, /are disabled/);
    const notJson = refusal([statusIs('REVOKED'), { type: 'JSON-SCHEMA', condition: '{"type":' }]);
    assert.match(notJson.message, /conditions\[1\] \(JSON-SCHEMA\): not JSON/);
    assert.equal(notJson.details?.index, 1);
    assert.match(refusal([schema({ type: 'objekt' })]).message, /conditions\[0\] \(JSON-SCHEMA\): .*type/);
    assert.match(refusal([schema({ properties: { a: { minimum: 'x' } } })]).message, /conditions\[0\] \(JSON-SCHEMA\)/);
    assert.match(refusal([{ type: 'JAVASCRIPT', condition: 'function(e){return true}' } as unknown as Condition]).message, /conditions\[0\]: type must be JSON-PATH or JSON-SCHEMA/);
  });

  it('knows the standard formats', () => {
    const at = schema({ properties: { time: { type: 'string', format: 'date-time' } } });
    assert.equal(compiler.compile([at], 'any')(revoked), true);
    assert.equal(compiler.compile([at], 'any')({ ...revoked, time: 'yesterday' }), false);
  });

  it('accepts the same $id in two subscriptions', () => {
    const s = schema({ $id: 'https://example.test/revoked', properties: { data: { properties: { status: { const: 'REVOKED' } } } } });
    compiler.compile([s], 'any');
    assert.equal(compiler.compile([s], 'any')(revoked), true);
  });
});
