/**
 * Lamassu's `metadata[jsonpath]<predicate>` filters (docs/filtering.md examples and the edge cases of
 * PostgreSQL's lax jsonpath: missing paths, other types, arrays at the end of a path, negation), the same
 * answers on SQLite (SQLite's JSON functions) and PostgreSQL (its own `@@`), on every list with metadata.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { compatApi, type CompatApi } from '../support/compat-api.ts';
import { forEachStorage } from '../support/storage.ts';

const q = (s: string) => encodeURIComponent(s);

const DEVICES: Record<string, Record<string, unknown>> = {
  'jp-prod': { environment: 'production', version: 3, tags: ['production', 'api'], ports: [80, 8443], region: { name: 'eu-west-1' }, 'lamassu.io/owner': 'ops', on: true },
  'jp-stage': { environment: 'staging', version: 1, tags: ['staging', 'backend'], ports: [22], region: { name: 'us-west-1' }, on: false },
  'jp-odd': { environment: 7, version: '2', tags: 'production', region: [{ name: 'eu-west-1' }], nothing: null, items: [{ key: 'production' }] },
  'jp-bare': {},
};

/** [predicate, devices it matches]: each was checked against PostgreSQL's own jsonpath evaluation. */
const CASES: [string, string[]][] = [
  ['exists($.environment)', ['jp-odd', 'jp-prod', 'jp-stage']],
  ['$.environment == "production"', ['jp-prod']],
  ['$.environment != "production"', ['jp-stage']], // 7 != "production": unknown, not true
  ['!($.environment == "production")', ['jp-bare', 'jp-stage']], // missing: false, so its negation is true; 7: unknown stays unknown
  ['$.version > 1', ['jp-prod']],
  ['$.version >= 1 && $.version < 3', ['jp-stage']],
  ['1 < $.version', ['jp-prod']],
  ['$.tags[0] == "staging"', ['jp-stage']],
  ['$.tags[last] == "backend"', ['jp-stage']],
  ['$.tags == "production"', ['jp-odd', 'jp-prod']], // an array at the end compares each element
  ['exists($.tags[*] ? (@ == "production"))', ['jp-odd', 'jp-prod']],
  ['exists($.tags[*] ? (@ == "production")) && exists($.tags[*] ? (@ == "api"))', ['jp-prod']],
  ['exists($.ports[*] ? (@ > 8000))', ['jp-prod']],
  ['exists($.items[*] ? (@.key == "production"))', ['jp-odd']],
  ['exists($.tags[*])', ['jp-odd', 'jp-prod', 'jp-stage']],
  ['$.region.name == "us-west-1" || $."lamassu.io/owner" == "ops"', ['jp-prod', 'jp-stage']],
  ['$.on == true', ['jp-prod']],
  ['$.on != true', ['jp-stage']],
  ['$.nothing == null', ['jp-odd']],
  ['exists($.nothing)', ['jp-odd']],
  ['$.missing == 1', []],
];

forEachStorage('Lamassu [jsonpath] filters on metadata', (ctx) => {
  let api: CompatApi;
  before(async () => {
    api = await compatApi(ctx.storage);
    for (const [id, metadata] of Object.entries(DEVICES)) assert.equal((await api.call('POST', '/api/devmanager/v1/devices', { id, metadata })).status, 201);
    const ca = await api.call('POST', '/api/ca/v1/cas', { id: 'jp-ca', subject: { common_name: 'jp-ca' }, key_metadata: { type: 'ECDSA', bits: 256 }, ca_expiration: { type: 'Duration', duration: '1y' }, metadata: { environment: 'production' } });
    assert.equal(ca.status, 201, JSON.stringify(ca.body));
    const cert = await api.call('POST', '/api/ca/v1/certificates/import', { certificate: ca.body.certificate.certificate, metadata: { site: { id: 7 } } });
    assert.ok([200, 201, 409].includes(cert.status), JSON.stringify(cert.body));
    const dms = await api.call('POST', '/api/dmsmanager/v1/dms', { id: 'jp-dms', name: 'jp', metadata: { 'lamassu.io/iot/aws': { registration_mode: 'jitp' } }, settings: { enrollment_settings: { enrollment_ca: 'jp-ca' } } });
    assert.equal(dms.status, 201, JSON.stringify(dms.body));
  });
  after(async () => api?.close());

  const ids = async (url: string) => {
    const r = await api.call('GET', url);
    assert.equal(r.status, 200, `${url}: ${JSON.stringify(r.body)}`);
    return (r.body.list as { id?: string; serial_number?: string }[]).map((x) => x.id ?? x.serial_number!).sort();
  };

  it('device metadata: every documented form and the lax edge cases', async () => {
    for (const [predicate, expected] of CASES) {
      const got = (await ids(`/api/devmanager/v1/devices?filter=${q(`metadata[jsonpath]${predicate}`)}&page_size=100`)).filter((id) => id.startsWith('jp-'));
      assert.deepEqual(got, expected, predicate);
    }
  });

  it('CA, certificate and DMS metadata; ANDed with other filters', async () => {
    assert.deepEqual(await ids(`/api/ca/v1/cas?filter=${q('metadata[jsonpath]$.environment == "production"')}`), ['jp-ca']);
    assert.deepEqual(await ids(`/api/ca/v1/cas?filter=${q('metadata[jsonpath]$.environment == "staging"')}`), []);
    assert.deepEqual((await ids(`/api/ca/v1/certificates?filter=${q('metadata[jsonpath]$.site.id == 7')}`)).length, 1);
    assert.deepEqual(await ids(`/api/dmsmanager/v1/dms?filter=${q('metadata[jsonpath]$."lamassu.io/iot/aws".registration_mode == "jitp"')}&filter=${q('id[eq]jp-dms')}`), ['jp-dms']);
    assert.deepEqual(await ids(`/api/devmanager/v1/devices?filter=${q('metadata[jsonpath]exists($.environment)')}&filter=${q('id[ct]stage')}`), ['jp-stage']);
  });

  it('outside the subset: 400 FILTER_JSONPATH_INVALID, never a database error', async () => {
    for (const predicate of [
      '$.a ==',
      '$.a',
      '$.a like_regex "x"',
      '$.a starts with "x"',
      '$.a.** == 1',
      '$.a[*] == 1',
      'exists($.a[*].b)',
      '$.a == 1; drop table devices',
      `$."a\\"b" == 1`,
      '$.on < true',
      `${'!('.repeat(70)}$.a == 1${')'.repeat(70)}`,
      '$.a == "unterminated',
      '$.a == 1e400',
    ]) {
      const r = await api.call('GET', `/api/devmanager/v1/devices?filter=${q(`metadata[jsonpath]${predicate}`)}`);
      assert.deepEqual([r.status, r.body.code], [400, 'FILTER_JSONPATH_INVALID'], predicate);
    }
  });
});
