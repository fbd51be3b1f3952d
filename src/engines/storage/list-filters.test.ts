/**
 * Lamassu list filters on the four lists, every filterable field with every operator its type takes,
 * on SQLite and PostgreSQL, checked against a plain reading of the operators (test/support/filter-oracle.ts).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, test } from 'node:test';
import { matches, type FlatRecord } from '../../../test/support/filter-oracle.ts';
import { forEachStorage } from '../../../test/support/storage.ts';
import { CA_FILTER_FIELDS } from '../../domain/ca/ca-repository.ts';
import type { Certificate } from '../../domain/ca/certificate.ts';
import { DEFAULT_ISSUANCE_SETTINGS } from '../../domain/ca/issuance-profile.ts';
import { CERTIFICATE_FILTER_FIELDS } from '../../domain/ca/certificate-repository.ts';
import { DEVICE_FILTER_FIELDS } from '../../domain/devices/device-repository.ts';
import type { DeviceRecord } from '../../domain/devices/device.ts';
import { DMS_FILTER_FIELDS } from '../../domain/dms/dms-repository.ts';
import { DEFAULT_REENROLLMENT, DEFAULT_SERVER_KEYGEN, type Dms } from '../../domain/dms/dms.ts';
import { FILTER_OPERATORS_BY_TYPE, parseFilter, type FilterFields } from '../../domain/list-filter.ts';
import { caFilterColumns } from './ca-repository.ts';
import { certificateFilterColumns } from './certificate-repository.ts';
import { deviceFilterColumns } from './device-repository.ts';
import { dmsFilterColumns } from './dms-repository.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);
const at = (days: number) => new Date(T0 + days * DAY);
const iso = (days: number) => at(days).toISOString();

function cert(over: Partial<Certificate>): Certificate {
  return {
    id: randomUUID(),
    serialNumber: '00',
    issuerCaId: null,
    caId: null,
    status: 'ACTIVE',
    notBefore: at(0),
    notAfter: at(365),
    aboutToExpireAt: at(335),
    revokedAt: null,
    revocationReason: null,
    subjectCommonName: 'x',
    subjectKeyId: '00',
    authorityKeyId: null,
    keyType: 'ECDSA',
    keyBits: 256,
    isCa: false,
    type: 'MANAGED',
    engineId: null,
    createdAt: at(0),
    der: Uint8Array.of(0x30, 0x00),
    details: { subject: { common_name: 'x' }, issuer: { common_name: 'ca' }, keyUsage: [], extendedKeyUsage: [], metadata: {} },
    ...over,
  };
}

/** Three certificates that differ in every filterable field, and how the oracle sees them. */
const certs = [
  cert({ serialNumber: 'aa01', subjectCommonName: 'Pump-01', subjectKeyId: 'ab12', issuerCaId: 'ca-1', engineId: 'hsm', notBefore: at(0), notAfter: at(365) }),
  cert({
    serialNumber: 'bb02',
    subjectCommonName: 'pump-02',
    subjectKeyId: 'cd34',
    status: 'REVOKED',
    revokedAt: at(10),
    revocationReason: 'KeyCompromise',
    notBefore: at(5),
    notAfter: at(30),
    type: 'EXTERNAL',
    isCa: true,
  }),
  cert({ serialNumber: 'cc03', subjectCommonName: 'valve-03', subjectKeyId: 'ef56', issuerCaId: 'ca-2', engineId: 'soft', status: 'EXPIRED', notBefore: at(20), notAfter: at(40), type: 'IMPORTED_WITH_KEY' }),
];
const certFlat = (c: Certificate): FlatRecord => ({
  id: c.id,
  type: c.type,
  serial_number: c.serialNumber,
  'subject.common_name': c.subjectCommonName,
  subject_key_id: c.subjectKeyId,
  'issuer_meta.id': c.issuerCaId,
  status: c.status,
  engine_id: c.engineId,
  valid_to: c.notAfter,
  valid_from: c.notBefore,
  revocation_timestamp: c.revokedAt,
  revocation_reason: c.revocationReason,
  is_ca: String(c.isCa),
});

/** Values tried per field type (each with every operator of the type); some hit, some do not. */
const textValues: Record<string, string[]> = {
  serial_number: ['aa01', 'B'],
  'subject.common_name': ['Pump-01', 'PUMP', 'pump'],
  subject_key_id: ['cd34', 'e'],
  'issuer_meta.id': ['ca-1', 'CA-'],
  engine_id: ['hsm', 'S'],
  id: ['root-a', 'ROOT'],
  profile_id: ['p-1', 'P'],
  dms_owner: ['dms-1', 'DMS'],
  name: ['Line A', 'line'],
};
const enumValues: Record<string, string[]> = {
  type: ['managed', 'EXTERNAL', 'IMPORTED_WITH_KEY'],
  status: ['active', 'REVOKED', 'FULLY_PROVISIONED', 'nope'],
  revocation_reason: ['keycompromise'],
  is_ca: ['true', 'FALSE'],
};
const dateValues = [iso(0), iso(10), iso(30), iso(400)];
const numberValues = ['0', '1', '2'];
const tagValues = ['blue', 'BLUE', 'red'];

function valuesFor(field: string, fields: FilterFields): string[] {
  const t = fields[field]!.type;
  if (t === 'date') return dateValues;
  if (t === 'number') return numberValues;
  if (t === 'string_array') return tagValues;
  if (t === 'enum') return enumValues[field]!;
  return textValues[field]!;
}

/** Every field x operator x value: the SQL list returns exactly what the oracle says. */
async function checkEveryFilter(fields: FilterFields, records: FlatRecord[], list: (filter: ReturnType<typeof parseFilter>) => Promise<string[]>) {
  let cases = 0;
  for (const [field, spec] of Object.entries(fields)) {
    if (spec.type === 'json') continue;
    for (const op of FILTER_OPERATORS_BY_TYPE[spec.type]) {
      for (const value of valuesFor(field, fields)) {
        const filter = parseFilter(`${field}[${op}]${value}`, fields);
        const expected = records.filter((r) => matches(r, filter)).map((r) => r.id).sort();
        assert.deepEqual((await list(filter)).sort(), expected, `${field}[${op}]${value}`);
        cases++;
      }
    }
  }
  return cases;
}

test('every filterable field has a column on both lists of each resource', () => {
  for (const [fields, columns] of [
    [CERTIFICATE_FILTER_FIELDS, certificateFilterColumns],
    [CA_FILTER_FIELDS, caFilterColumns],
    [DEVICE_FILTER_FIELDS, deviceFilterColumns],
    [DMS_FILTER_FIELDS, dmsFilterColumns],
  ] as const) {
    for (const [field, spec] of Object.entries(fields)) if (spec.type !== 'json') assert.ok(columns[field], field);
  }
});

forEachStorage('Lamassu list filters', (ctx) => {
  before(async () => {
    await ctx.storage.certificates.insertMany(certs);
  });

  test('certificates: every field and operator', async () => {
    const records = certs.map(certFlat);
    const n = await checkEveryFilter(CERTIFICATE_FILTER_FIELDS, records, async (f) => (await ctx.storage.certificates.list({ filters: [f], pageSize: 1000 })).list.map((c) => c.id));
    assert.ok(n > 100, `${n} cases`);
    // ANDed, and with the other query fields.
    const both = await ctx.storage.certificates.list({ filters: [parseFilter('subject.common_name[ct_ic]pump', CERTIFICATE_FILTER_FIELDS), parseFilter('status[eq]ACTIVE', CERTIFICATE_FILTER_FIELDS)] });
    assert.deepEqual(both.list.map((c) => c.serialNumber), ['aa01']);
    const withIssuer = await ctx.storage.certificates.list({ issuerCaId: 'ca-2', filters: [parseFilter('subject.common_name[ct]pump', CERTIFICATE_FILTER_FIELDS)] });
    assert.deepEqual(withIssuer.list, []);
  });

  test('CAs: every field and operator', async () => {
    await ctx.storage.issuanceProfiles.insert({ ...DEFAULT_ISSUANCE_SETTINGS, id: 'p-1', name: 'p', description: '', createdAt: at(0), updatedAt: at(0) });
    const caCerts = [
      cert({ serialNumber: 'ca01', subjectCommonName: 'Root-A', subjectKeyId: 'aa', isCa: true, engineId: 'hsm' }),
      cert({ serialNumber: 'ca02', subjectCommonName: 'sub-b', subjectKeyId: 'bb', isCa: true, issuerCaId: 'root-a', status: 'REVOKED', revokedAt: at(10), revocationReason: 'KeyCompromise', notBefore: at(5), notAfter: at(30) }),
    ];
    await ctx.storage.certificates.insertMany(caCerts);
    const base = { parentId: null, keyId: 'k', internal: false, aboutToExpireMs: null, metadata: {}, createdAt: at(0) };
    await ctx.storage.cas.insert({ ...base, id: 'root-a', certificateId: caCerts[0]!.id, level: 0, type: 'MANAGED', engineId: 'hsm', profileId: 'p-1' });
    await ctx.storage.cas.insert({ ...base, id: 'sub-b', certificateId: caCerts[1]!.id, parentId: 'root-a', level: 1, type: 'IMPORTED_WITH_KEY', engineId: 'soft', profileId: null });
    const [a, b] = caCerts as [Certificate, Certificate];
    const records: FlatRecord[] = [
      { ...certFlat(a), id: 'root-a', profile_id: 'p-1', type: 'MANAGED', engine_id: 'hsm', level: 0 },
      { ...certFlat(b), id: 'sub-b', profile_id: null, type: 'IMPORTED_WITH_KEY', engine_id: 'soft', level: 1 },
    ];
    const n = await checkEveryFilter(CA_FILTER_FIELDS, records, async (f) => (await ctx.storage.cas.list({ filters: [f], pageSize: 1000 })).list.map((c) => c.id));
    assert.ok(n > 80, `${n} cases`);
  });

  test('devices and DMSs: every field and operator', async () => {
    const device = (id: string, over: Partial<DeviceRecord>): DeviceRecord => ({ id, alias: '', icon: '', iconColor: '', tags: [], metadata: {}, dmsId: null, status: 'PENDING_PROVISIONING', createdAt: at(0), updatedAt: at(0), ...over });
    const devices = [
      device('root-a', { dmsId: 'dms-1', tags: ['blue', 'green'], createdAt: at(0) }),
      device('Root-b', { dmsId: 'dms-2', tags: ['Blue'], status: 'FULLY_PROVISIONED', createdAt: at(10) }),
      device('pump-c', { createdAt: at(30) }),
    ];
    for (const d of devices) await ctx.storage.devices.insert(d);
    const deviceRecords: FlatRecord[] = devices.map((d) => ({ id: d.id, dms_owner: d.dmsId, creation_timestamp: d.createdAt, status: d.status, tags: d.tags }));
    const nd = await checkEveryFilter(DEVICE_FILTER_FIELDS, deviceRecords, async (f) => (await ctx.storage.devices.list({ filters: [f], pageSize: 1000 })).list.map((d) => d.id));
    assert.ok(nd > 40, `${nd} cases`);

    const dms = (id: string, name: string, createdAt: Date): Dms => ({
      id,
      name,
      metadata: {},
      authorizedCaIds: [],
      settings: {
        enrollment: {
          enrollmentCaId: 'ca-1',
          registrationMode: 'JITP',
          authMode: 'NO_AUTH',
          clientCertificate: { validationCaIds: [], allowExpired: false },
          httpBasic: null,
          webhook: null,
          verifyCsrSignature: true,
          allowReplacement: false,
          deviceIdSource: 'common_name',
          deviceProfile: { tags: [], metadata: {} },
        },
        reenrollment: DEFAULT_REENROLLMENT,
        serverKeygen: DEFAULT_SERVER_KEYGEN,
        caDistribution: { includeEnrollmentCa: true, includeChain: false, managedCaIds: [] },
        issuanceProfileId: null,
      },
      certificate: null,
      createdAt,
      updatedAt: createdAt,
    });
    const list = [dms('root-a', 'Line A', at(0)), dms('ROOT-b', 'line b', at(10)), dms('x', 'Press', at(30))];
    for (const d of list) await ctx.storage.dms.insert(d);
    const dmsRecords: FlatRecord[] = list.map((d) => ({ id: d.id, name: d.name, creation_date: d.createdAt }));
    const nm = await checkEveryFilter(DMS_FILTER_FIELDS, dmsRecords, async (f) => (await ctx.storage.dms.list({ filters: [f], pageSize: 1000 })).list.map((d) => d.id));
    assert.ok(nm > 30, `${nm} cases`);
  });
});
