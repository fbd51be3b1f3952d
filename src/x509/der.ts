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
export const set = (...items: Uint8Array[]) => tlv(Tag.SET, ...items);
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
