import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeString, decodeTime, DerError, readRoot, tlv } from './der.ts';
import {
  basicConstraintsValue,
  decodeBasicConstraints,
  decodeGeneralNames,
  decodeExtendedKeyUsage,
  decodeKeyUsage,
  extendedKeyUsageValue,
  keyUsageValue,
  KEY_USAGES,
} from './extensions.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));

test('KeyUsage is a minimal named BIT STRING (known answers) and round-trips', () => {
  assert.equal(hex(keyUsageValue(['digitalSignature'])), '03020780');
  assert.equal(hex(keyUsageValue(['keyCertSign', 'cRLSign'])), '03020106');
  assert.equal(hex(keyUsageValue(['digitalSignature', 'keyEncipherment'])), '030205a0');
  assert.equal(hex(keyUsageValue(['decipherOnly'])), '0303070080');
  for (const u of KEY_USAGES) assert.deepEqual(decodeKeyUsage(keyUsageValue([u])), [u]);
  assert.deepEqual(decodeKeyUsage(keyUsageValue([...KEY_USAGES])), [...KEY_USAGES]);
  assert.throws(() => decodeKeyUsage(unhex('030108')), DerError);
});

test('basicConstraints and EKU encode per DER defaults and round-trip', () => {
  assert.equal(hex(basicConstraintsValue({ ca: false })), '3000');
  assert.equal(hex(basicConstraintsValue({ ca: true })), '30030101ff');
  assert.equal(hex(basicConstraintsValue({ ca: true, pathLen: 0 })), '30060101ff020100');
  assert.deepEqual(decodeBasicConstraints(basicConstraintsValue({ ca: true, pathLen: 3 })), { ca: true, pathLen: 3 });
  assert.deepEqual(decodeExtendedKeyUsage(extendedKeyUsageValue(['serverAuth', '1.2.3.4'])), ['serverAuth', '1.2.3.4']);
  assert.throws(() => extendedKeyUsageValue(['nope']), RangeError);
});

test('GeneralNames: IPv4 and RFC 5952 IPv6 text', () => {
  const names = tlv(
    0x30,
    tlv(0x87, Uint8Array.of(192, 168, 0, 1)),
    tlv(0x87, unhex('20010db8000000000000000000000001')),
    tlv(0x87, unhex('20010db8000100000000000100000001')),
    tlv(0x87, new Uint8Array(16)),
    tlv(0x82, new TextEncoder().encode('a.example')),
  );
  const n = decodeGeneralNames(names);
  assert.deepEqual(n.ip, ['192.168.0.1', '2001:db8::1', '2001:db8:1::1:0:1', '::']);
  assert.deepEqual(n.dns, ['a.example']);
  assert.throws(() => decodeGeneralNames(tlv(0x30, tlv(0x87, Uint8Array.of(1, 2, 3)))), DerError);
});

test('decodeTime: UTCTime pivot at 1950, GeneralizedTime, impossible dates refused', () => {
  const t = (tag: number, s: string) => {
    const der = tlv(tag, new TextEncoder().encode(s));
    return decodeTime(der, readRoot(der));
  };
  assert.equal(t(0x17, '491231235959Z').toISOString(), '2049-12-31T23:59:59.000Z');
  assert.equal(t(0x17, '500101000000Z').toISOString(), '1950-01-01T00:00:00.000Z');
  assert.equal(t(0x18, '20500101000000Z').toISOString(), '2050-01-01T00:00:00.000Z');
  for (const [tag, s] of [[0x17, '260230000000Z'], [0x17, '2601010000Z'], [0x18, '260101000000Z'], [0x17, '260101000000+0100'], [0x17, '260101246000Z']] as const) {
    assert.throws(() => t(tag, s), DerError, s);
  }
});

test('decodeString: UTF-8, BMP, Printable; invalid UTF-8 refused', () => {
  const s = (tag: number, bytes: Uint8Array) => {
    const der = tlv(tag, bytes);
    return decodeString(der, readRoot(der));
  };
  assert.equal(s(0x0c, new TextEncoder().encode('Ñandú')), 'Ñandú');
  assert.equal(s(0x1e, unhex('00d10061')), 'Ña');
  assert.throws(() => s(0x1e, unhex('00d100')), DerError);
  assert.equal(s(0x13, new TextEncoder().encode('ES')), 'ES');
  assert.throws(() => s(0x0c, Uint8Array.of(0xc3)), DerError);
  assert.throws(() => s(0x02, Uint8Array.of(1)), DerError);
});
