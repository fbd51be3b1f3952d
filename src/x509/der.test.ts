import { test } from 'node:test';
import assert from 'node:assert/strict';
import { children, decodeOid, oid, readRoot, sequence, smallInteger, time, unsignedInteger, valueOf, DerError } from './der.ts';
import { bigintInteger, generalizedTime, headerSize, timeSize, tlv, writeHeader, writeTime } from './der.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('OIDs encode and decode (known answers)', () => {
  assert.equal(hex(oid('1.2.840.10045.4.3.2')), '06082a8648ce3d040302');
  assert.equal(hex(oid('2.5.29.14')), '0603551d0e');
  assert.equal(decodeOid(valueOf(oid('1.3.6.1.5.5.7.48.1'), readRoot(oid('1.3.6.1.5.5.7.48.1')))), '1.3.6.1.5.5.7.48.1');
});

test('integers are minimal and positive', () => {
  assert.equal(hex(unsignedInteger(Uint8Array.of(0x80))), '02020080');
  assert.equal(hex(unsignedInteger(Uint8Array.of(0, 0, 1))), '020101');
  assert.equal(hex(smallInteger(0)), '020100');
  assert.equal(hex(smallInteger(128)), '02020080');
  assert.equal(hex(smallInteger(65536)), '0203010000');
});

test('times: UTCTime before 2050, GeneralizedTime from 2050, whole seconds', () => {
  assert.equal(Buffer.from(time(new Date('2026-01-02T03:04:05.678Z')).subarray(2)).toString(), '260102030405Z');
  assert.equal(Buffer.from(time(new Date('2050-01-01T00:00:00Z')).subarray(2)).toString(), '20500101000000Z');
});

test('long lengths round-trip through the reader', () => {
  const big = sequence(new Uint8Array(300).fill(4).map((_, i) => (i === 0 ? 0x04 : i === 1 ? 0x82 : i === 2 ? 0x01 : i === 3 ? 0x28 : 0)));
  const root = readRoot(big);
  assert.equal(root.end, big.length);
  assert.equal(children(big, root).length, 1);
});

test('malformed DER is refused with DerError', () => {
  assert.throws(() => readRoot(Uint8Array.of(0x30, 0x05, 0x02)), DerError);
  assert.throws(() => readRoot(Uint8Array.of(0x30, 0x81, 0x05, 0, 0, 0, 0, 0)), DerError);
  assert.throws(() => readRoot(Uint8Array.of(0x02, 0x01, 0x00, 0x00)), DerError);
});

test('in-place writers match the allocating ones', () => {
  for (const len of [0, 5, 127, 128, 255, 256, 65535, 65536, 16777216]) {
    const out = new Uint8Array(8);
    const end = writeHeader(out, 0, 0x30, len);
    assert.equal(end, headerSize(len));
    assert.equal(hex(out.subarray(0, end)), hex(tlv(0x30, new Uint8Array(len)).subarray(0, end)));
  }
  for (const iso of ['2026-01-02T03:04:05Z', '1999-12-31T23:59:59Z', '2050-01-01T00:00:00Z', '2049-12-31T23:59:59Z']) {
    const d = new Date(iso);
    for (const generalized of [false, true]) {
      const out = new Uint8Array(20);
      const end = writeTime(out, 1, d, generalized);
      assert.equal(end - 1, timeSize(d, generalized));
      assert.equal(hex(out.subarray(1, end)), hex(generalized ? generalizedTime(d) : time(d)));
    }
  }
  assert.equal(hex(bigintInteger(0n)), '020100');
  assert.equal(hex(bigintInteger(255n)), '020200ff');
  assert.equal(hex(bigintInteger(2n ** 64n)), '0209010000000000000000');
});
