/**
 * A minimal DER writer and reader. The hot paths (issuance, OCSP, CRL entries) build bytes directly
 * with these instead of going through object models, and parse only what they need.
 */

export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Context-specific tag number n, constructed (explicit / constructed implicit) or primitive. */
export const contextTag = (n: number, constructed: boolean) => (constructed ? 0xa0 : 0x80) | n;

export function encodeLength(len: number): Uint8Array {
  if (len < 0x80) return Uint8Array.of(len);
  const bytes: number[] = [];
  for (let l = len; l > 0; l = Math.floor(l / 256)) bytes.unshift(l & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Tag-length-value with a body made of one or more parts. */
export function tlv(tag: number, ...body: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const b of body) len += b.length;
  const head = encodeLength(len);
  const out = new Uint8Array(1 + head.length + len);
  out[0] = tag;
  out.set(head, 1);
  let off = 1 + head.length;
  for (const b of body) {
    out.set(b, off);
    off += b.length;
  }
  return out;
}

export const sequence = (...items: Uint8Array[]) => tlv(Tag.SEQUENCE, ...items);
/** A SET of one element or none; for SET OF with more use setOf (DER order). */
export const set = (...items: Uint8Array[]) => tlv(Tag.SET, ...items);

/**
 * X.690 11.6: the elements of a DER SET OF in ascending order of their encodings, compared as octet strings
 * with the shorter one padded at its end with zero octets.
 */
export function compareSetOfElements(a: Uint8Array, b: Uint8Array): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The encodings in DER SET OF order (a sorted copy). */
export const derSetOrder = (items: readonly Uint8Array[]): Uint8Array[] => [...items].sort(compareSetOfElements);

/** SET OF in DER: its elements sorted by encoding whatever order they come in; `tag` for [n] IMPLICIT SET OF. */
export const setOf = (items: readonly Uint8Array[], tag: number = Tag.SET) => tlv(tag, ...derSetOrder(items));
export const octetString = (bytes: Uint8Array) => tlv(Tag.OCTET_STRING, bytes);
export const bitString = (bytes: Uint8Array, unusedBits = 0) => tlv(Tag.BIT_STRING, Uint8Array.of(unusedBits), bytes);
export const nullValue = () => Uint8Array.of(Tag.NULL, 0);
export const boolean = (v: boolean) => Uint8Array.of(Tag.BOOLEAN, 1, v ? 0xff : 0);
export const explicit = (n: number, inner: Uint8Array) => tlv(contextTag(n, true), inner);

/** INTEGER from unsigned big-endian magnitude bytes (a leading zero is added when the top bit is set). */
export function unsignedInteger(magnitude: Uint8Array): Uint8Array {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const m = magnitude.subarray(start);
  return (m[0] ?? 0) & 0x80 ? tlv(Tag.INTEGER, Uint8Array.of(0), m) : tlv(Tag.INTEGER, m.length ? m : Uint8Array.of(0));
}

export function smallInteger(n: number, tag: number = Tag.INTEGER): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`smallInteger: ${n}`);
  const bytes: number[] = [];
  for (let v = n; ; v = Math.floor(v / 256)) {
    bytes.unshift(v & 0xff);
    if (v < 256) break;
  }
  if (bytes[0]! & 0x80) bytes.unshift(0);
  return tlv(tag, Uint8Array.from(bytes));
}

const oidCache = new Map<string, Uint8Array>();
/** OBJECT IDENTIFIER from dotted notation; cached because the same few OIDs recur in every certificate. */
export function oid(dotted: string): Uint8Array {
  const hit = oidCache.get(dotted);
  if (hit) return hit;
  const arcs = dotted.split('.').map(Number);
  if (arcs.length < 2 || arcs.some((a) => !Number.isSafeInteger(a) || a < 0)) throw new RangeError(`bad OID ${dotted}`);
  const body: number[] = [];
  const push = (v: number) => {
    const chunk: number[] = [v & 0x7f];
    for (v = Math.floor(v / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    body.push(...chunk);
  };
  push(arcs[0]! * 40 + arcs[1]!);
  for (const a of arcs.slice(2)) push(a);
  const out = tlv(Tag.OID, Uint8Array.from(body));
  oidCache.set(dotted, out);
  return out;
}

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
export const ia5String = (s: string) => tlv(Tag.IA5_STRING, ascii(s));
export const utf8String = (s: string) => tlv(Tag.UTF8_STRING, new TextEncoder().encode(s));
export const printableString = (s: string) => tlv(Tag.PRINTABLE_STRING, ascii(s));

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; always whole seconds, Zulu. */
export function time(d: Date): Uint8Array {
  const y = d.getUTCFullYear();
  const rest = `${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
  return y >= 1950 && y < 2050
    ? tlv(Tag.UTC_TIME, ascii(`${pad(y % 100)}${rest}`))
    : tlv(Tag.GENERALIZED_TIME, ascii(`${pad(y, 4)}${rest}`));
}
export const generalizedTime = (d: Date) =>
  tlv(
    Tag.GENERALIZED_TIME,
    ascii(
      `${pad(d.getUTCFullYear(), 4)}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`,
    ),
  );

// ---- reading ----

export class DerError extends Error {}

/** One element: its tag, where its value lies in `bytes`, and where the whole element ends. */
export interface DerNode {
  tag: number;
  /** Offset of the first byte of the element (its tag). */
  start: number;
  /** Offset of the first byte of the value. */
  valueStart: number;
  /** Offset just past the element. */
  end: number;
}

export function readNode(bytes: Uint8Array, offset: number, limit: number = bytes.length): DerNode {
  if (offset + 2 > limit) throw new DerError('truncated DER');
  const tag = bytes[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not supported');
  let len = bytes[offset + 1]!;
  let valueStart = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new DerError('unsupported DER length');
    if (valueStart + n > limit) throw new DerError('truncated DER');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + bytes[valueStart + i]!;
    if (len < 0x80 || (n > 1 && bytes[valueStart] === 0)) throw new DerError('non-minimal DER length');
    valueStart += n;
  }
  const end = valueStart + len;
  if (end > limit) throw new DerError('truncated DER');
  return { tag, start: offset, valueStart, end };
}

/** The children of a constructed element. */
export function children(bytes: Uint8Array, node: DerNode): DerNode[] {
  const out: DerNode[] = [];
  for (let off = node.valueStart; off < node.end; ) {
    const child = readNode(bytes, off, node.end);
    out.push(child);
    off = child.end;
  }
  return out;
}

/** Parses a whole buffer that must hold exactly one element. */
export function readRoot(bytes: Uint8Array): DerNode {
  const node = readNode(bytes, 0);
  if (node.end !== bytes.length) throw new DerError('trailing bytes after DER element');
  return node;
}

export const valueOf = (bytes: Uint8Array, node: DerNode) => bytes.subarray(node.valueStart, node.end);
export const elementOf = (bytes: Uint8Array, node: DerNode) => bytes.subarray(node.start, node.end);

export function expectTag(node: DerNode | undefined, tag: number, what: string): DerNode {
  if (!node || node.tag !== tag) throw new DerError(`expected ${what}`);
  return node;
}

/** Dotted notation of an OID value. */
export function decodeOid(value: Uint8Array): string {
  if (value.length === 0) throw new DerError('empty OID');
  const arcs: number[] = [];
  let v = 0;
  for (const b of value) {
    v = v * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      if (arcs.length === 0) arcs.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
      else arcs.push(v);
      v = 0;
    }
  }
  return arcs.join('.');
}

// ---- decoding values (added for CSR and certificate parsing) ----

/** String tags a Name or GeneralName may carry. */
export const StringTag = {
  UTF8_STRING: 0x0c,
  NUMERIC_STRING: 0x12,
  PRINTABLE_STRING: 0x13,
  TELETEX_STRING: 0x14,
  IA5_STRING: 0x16,
  VISIBLE_STRING: 0x1a,
  UNIVERSAL_STRING: 0x1c,
  BMP_STRING: 0x1e,
} as const;

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
/** One character per byte; unlike String.fromCharCode(...bytes), safe for values of any length. */
export const latin1 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');

/** The text of a string element; the bytes of unknown tags are read as Latin-1 (T61 in practice). */
export function decodeString(bytes: Uint8Array, node: DerNode): string {
  const v = valueOf(bytes, node);
  switch (node.tag) {
    case StringTag.UTF8_STRING:
      try {
        return utf8Decoder.decode(v);
      } catch {
        throw new DerError('invalid UTF-8 in UTF8String');
      }
    case StringTag.BMP_STRING: {
      if (v.length % 2) throw new DerError('odd BMPString length');
      let s = '';
      for (let i = 0; i < v.length; i += 2) s += String.fromCharCode((v[i]! << 8) | v[i + 1]!);
      return s;
    }
    case StringTag.UNIVERSAL_STRING: {
      if (v.length % 4) throw new DerError('bad UniversalString length');
      let s = '';
      for (let i = 0; i < v.length; i += 4) s += String.fromCodePoint(((v[i]! << 24) | (v[i + 1]! << 16) | (v[i + 2]! << 8) | v[i + 3]!) >>> 0);
      return s;
    }
    case StringTag.NUMERIC_STRING:
    case StringTag.PRINTABLE_STRING:
    case StringTag.TELETEX_STRING:
    case StringTag.IA5_STRING:
    case StringTag.VISIBLE_STRING:
      return latin1(v);
    default:
      throw new DerError(`expected a string, got tag 0x${node.tag.toString(16)}`);
  }
}

const TIME_RE = /^(\d{2}|\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;
/** UTCTime (YYMMDDHHMMSSZ, 50-99 = 19xx) or GeneralizedTime (YYYYMMDDHHMMSSZ), as DER and RFC 5280 require. */
export function decodeTime(bytes: Uint8Array, node: DerNode): Date {
  const text = latin1(valueOf(bytes, node));
  const m = TIME_RE.exec(text);
  const utc = node.tag === Tag.UTC_TIME;
  if (!m || (utc ? m[1]!.length !== 2 : node.tag !== Tag.GENERALIZED_TIME || m[1]!.length !== 4)) {
    throw new DerError(`bad time ${JSON.stringify(text)}`);
  }
  let year = Number(m[1]);
  if (utc) year += year >= 50 ? 1900 : 2000;
  const [mo, d, h, mi, s] = [m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number];
  const date = new Date(Date.UTC(year, mo - 1, d, h, mi, s));
  if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    throw new DerError(`bad time ${JSON.stringify(text)}`);
  }
  return date;
}

/** A small non-negative INTEGER (version, pathLen); refuses negative and oversized values. */
export function decodeSmallInteger(bytes: Uint8Array, node: DerNode): number {
  const v = valueOf(bytes, node);
  if (node.tag !== Tag.INTEGER || v.length === 0 || v.length > 6 || v[0]! & 0x80) throw new DerError('expected a small non-negative INTEGER');
  if (v.length > 1 && v[0] === 0 && !(v[1]! & 0x80)) throw new DerError('non-minimal INTEGER');
  let n = 0;
  for (const b of v) n = n * 256 + b;
  return n;
}

// ---- writing in place, for streams of many small elements (CRL entries) ----

/** Bytes taken by a tag and the length octets of a value of `len` bytes. */
export const headerSize = (len: number) => (len < 0x80 ? 2 : len < 0x100 ? 3 : len < 0x10000 ? 4 : len < 0x1000000 ? 5 : 6);

/** Writes tag and length at `offset`; returns the offset of the value. */
export function writeHeader(out: Uint8Array, offset: number, tag: number, len: number): number {
  out[offset++] = tag;
  if (len < 0x80) {
    out[offset++] = len;
    return offset;
  }
  const n = headerSize(len) - 2;
  out[offset++] = 0x80 | n;
  for (let i = n - 1; i >= 0; i--) {
    out[offset + i] = len & 0xff;
    len = Math.floor(len / 256);
  }
  return offset + n;
}

/** Size of the element `time(d)` (or `generalizedTime(d)` when `generalized`) writes. */
export const timeSize = (d: Date, generalized = false) => {
  const y = d.getUTCFullYear();
  return generalized || y < 1950 || y >= 2050 ? 17 : 15;
};

/** Writes `time(d)` (or `generalizedTime(d)`) at `offset` without allocating; returns the offset after it. */
export function writeTime(out: Uint8Array, offset: number, d: Date, generalized = false): number {
  const y = d.getUTCFullYear();
  const long = generalized || y < 1950 || y >= 2050;
  out[offset++] = long ? Tag.GENERALIZED_TIME : Tag.UTC_TIME;
  out[offset++] = long ? 15 : 13;
  offset = long ? putDigits(out, offset, y, 4) : putDigits(out, offset, y % 100, 2);
  offset = putDigits(out, offset, d.getUTCMonth() + 1, 2);
  offset = putDigits(out, offset, d.getUTCDate(), 2);
  offset = putDigits(out, offset, d.getUTCHours(), 2);
  offset = putDigits(out, offset, d.getUTCMinutes(), 2);
  offset = putDigits(out, offset, d.getUTCSeconds(), 2);
  out[offset++] = 0x5a; // 'Z'
  return offset;
}

// Top-level rather than a closure: this runs millions of times per CRL.
function putDigits(out: Uint8Array, offset: number, v: number, width: number): number {
  for (let i = width - 1; i >= 0; i--) {
    out[offset + i] = 0x30 + (v % 10);
    v = Math.floor(v / 10);
  }
  return offset + width;
}

/** INTEGER of a non-negative bigint (CRL numbers). */
export function bigintInteger(n: bigint): Uint8Array {
  if (n < 0n) throw new RangeError('bigintInteger: negative');
  const hex = n.toString(16);
  return unsignedInteger(Uint8Array.from(Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex')));
}
