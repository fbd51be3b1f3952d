/**
 * X.509 v3 extensions we write and read (RFC 5280 4.2): encoders return a whole Extension element,
 * decoders take the extnValue contents.
 */
import {
  bitString,
  boolean,
  children,
  decodeOid,
  decodeSmallInteger,
  DerError,
  expectTag,
  ia5String,
  latin1,
  octetString,
  oid,
  readNode,
  readRoot,
  sequence,
  smallInteger,
  Tag,
  tlv,
  valueOf,
  type DerNode,
} from './der.ts';

export const ExtensionOid = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  crlDistributionPoints: '2.5.29.31',
  authorityKeyIdentifier: '2.5.29.35',
  extendedKeyUsage: '2.5.29.37',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
} as const;

/** RFC 5280 KeyUsage bit names, bit 0 first. */
export const KEY_USAGES = [
  'digitalSignature',
  'contentCommitment',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;
export type KeyUsage = (typeof KEY_USAGES)[number];

/** Extended key usages by name; any other purpose is carried as its dotted OID. */
export const EXTENDED_KEY_USAGES = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  OCSPSigning: '1.3.6.1.5.5.7.3.9',
  anyExtendedKeyUsage: '2.5.29.37.0',
} as const;
const EKU_NAME_BY_OID = new Map<string, string>(Object.entries(EXTENDED_KEY_USAGES).map(([n, o]) => [o, n]));

export interface BasicConstraints {
  ca: boolean;
  pathLen?: number;
}

/** Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } */
export function extension(extnId: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical ? sequence(oid(extnId), boolean(true), octetString(value)) : sequence(oid(extnId), octetString(value));
}

// ---- encoders (extnValue contents) ----

/** DER named BIT STRING: trailing zero bits are dropped (X.690 11.2.2). */
export function keyUsageValue(usages: readonly KeyUsage[]): Uint8Array {
  let bits = 0;
  for (const u of usages) {
    const i = KEY_USAGES.indexOf(u);
    if (i < 0) throw new RangeError(`unknown key usage ${u}`);
    bits |= 1 << (15 - i);
  }
  if (bits === 0) return bitString(new Uint8Array(0));
  const bytes = bits & 0xff ? Uint8Array.of(bits >> 8, bits & 0xff) : Uint8Array.of(bits >> 8);
  const last = bytes[bytes.length - 1]!;
  let unused = 0;
  while (!(last & (1 << unused))) unused++;
  return bitString(bytes, unused);
}

/** Names from EXTENDED_KEY_USAGES or dotted OIDs. */
export function extendedKeyUsageValue(usages: readonly string[]): Uint8Array {
  return sequence(...usages.map((u) => oid(ekuOid(u))));
}

export function ekuOid(usage: string): string {
  const known = (EXTENDED_KEY_USAGES as Record<string, string>)[usage];
  if (known) return known;
  if (/^\d+(\.\d+)+$/.test(usage)) return usage;
  throw new RangeError(`unknown extended key usage ${usage}`);
}

export function basicConstraintsValue(bc: BasicConstraints): Uint8Array {
  const parts: Uint8Array[] = [];
  if (bc.ca) parts.push(boolean(true));
  if (bc.ca && bc.pathLen !== undefined) parts.push(smallInteger(bc.pathLen));
  return sequence(...parts);
}

export const subjectKeyIdentifierValue = (keyId: Uint8Array) => octetString(keyId);
/** AuthorityKeyIdentifier with keyIdentifier [0] only (RFC 5280 4.2.1.1). */
export const authorityKeyIdentifierValue = (keyId: Uint8Array) => sequence(tlv(0x80, keyId));

/** One DistributionPoint whose fullName lists every URL: the same CRL, several places to fetch it. */
export function crlDistributionPointsValue(urls: readonly string[]): Uint8Array {
  return sequence(sequence(tlv(0xa0, tlv(0xa0, ...urls.map(uriName)))));
}

export function authorityInfoAccessValue(ocspUrls: readonly string[], caIssuersUrls: readonly string[]): Uint8Array {
  return sequence(
    ...ocspUrls.map((u) => sequence(oid(ACCESS_OCSP), uriName(u))),
    ...caIssuersUrls.map((u) => sequence(oid(ACCESS_CA_ISSUERS), uriName(u))),
  );
}

const ACCESS_OCSP = '1.3.6.1.5.5.7.48.1';
const ACCESS_CA_ISSUERS = '1.3.6.1.5.5.7.48.2';
/** GeneralName uniformResourceIdentifier [6] IA5String; URLs are ASCII by RFC 3986. */
function uriName(url: string): Uint8Array {
  if (!/^[\x21-\x7e]+$/.test(url)) throw new RangeError(`URL must be printable ASCII: ${url}`);
  const s = ia5String(url);
  s[0] = 0x86;
  return s;
}

// ---- decoders (extnValue contents; DerError when malformed) ----

export function decodeKeyUsage(value: Uint8Array): KeyUsage[] {
  const v = valueOf(value, expectTag(readRoot(value), Tag.BIT_STRING, 'KeyUsage'));
  if (v.length === 0 || v[0]! > 7 || (v.length === 1 && v[0] !== 0)) throw new DerError('bad KeyUsage BIT STRING');
  const out: KeyUsage[] = [];
  KEY_USAGES.forEach((name, i) => {
    const byte = v[1 + (i >> 3)];
    if (byte !== undefined && byte & (0x80 >> (i & 7))) out.push(name);
  });
  return out;
}

/** Known purposes by name, others as dotted OIDs. */
export function decodeExtendedKeyUsage(value: Uint8Array): string[] {
  return children(value, expectTag(readRoot(value), Tag.SEQUENCE, 'ExtKeyUsageSyntax')).map((n) => {
    const o = decodeOid(valueOf(value, expectTag(n, Tag.OID, 'KeyPurposeId')));
    return EKU_NAME_BY_OID.get(o) ?? o;
  });
}

export function decodeBasicConstraints(value: Uint8Array): BasicConstraints {
  const nodes = children(value, expectTag(readRoot(value), Tag.SEQUENCE, 'BasicConstraints'));
  let i = 0;
  let ca = false;
  if (nodes[i]?.tag === Tag.BOOLEAN) {
    const b = valueOf(value, nodes[i++]!);
    if (b.length !== 1) throw new DerError('bad BOOLEAN');
    ca = b[0] !== 0;
  }
  const out: BasicConstraints = { ca };
  if (nodes[i]) out.pathLen = decodeSmallInteger(value, nodes[i++]!);
  if (nodes[i]) throw new DerError('trailing fields in BasicConstraints');
  return out;
}

export const decodeSubjectKeyIdentifier = (value: Uint8Array) =>
  valueOf(value, expectTag(readRoot(value), Tag.OCTET_STRING, 'SubjectKeyIdentifier'));

/** The keyIdentifier [0] of an AuthorityKeyIdentifier, when present. */
export function decodeAuthorityKeyIdentifier(value: Uint8Array): Uint8Array | undefined {
  const first = children(value, expectTag(readRoot(value), Tag.SEQUENCE, 'AuthorityKeyIdentifier'))[0];
  return first?.tag === 0x80 ? valueOf(value, first) : undefined;
}

export interface GeneralNames {
  dns: string[];
  ip: string[];
  uri: string[];
  email: string[];
}

/** DNS names, IP addresses (dotted IPv4, RFC 5952 IPv6), URIs and email addresses; other forms are skipped. */
export function decodeGeneralNames(value: Uint8Array): GeneralNames {
  const out: GeneralNames = { dns: [], ip: [], uri: [], email: [] };
  for (const n of children(value, expectTag(readRoot(value), Tag.SEQUENCE, 'GeneralNames'))) collectName(value, n, out);
  return out;
}

function collectName(bytes: Uint8Array, n: DerNode, out: GeneralNames): void {
  const ascii = () => latin1(valueOf(bytes, n));
  switch (n.tag) {
    case 0x81:
      out.email.push(ascii());
      break;
    case 0x82:
      out.dns.push(ascii());
      break;
    case 0x86:
      out.uri.push(ascii());
      break;
    case 0x87:
      out.ip.push(formatIp(valueOf(bytes, n)));
      break;
  }
}

function formatIp(b: Uint8Array): string {
  if (b.length === 4) return b.join('.');
  if (b.length !== 16) throw new DerError('iPAddress must be 4 or 16 bytes');
  const words = Array.from({ length: 8 }, (_, i) => (b[2 * i]! << 8) | b[2 * i + 1]!);
  // RFC 5952: compress the longest run (>= 2) of zero words, lowercase hex.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = words.map((w) => w.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** URIs of every DistributionPoint's fullName. */
export function decodeCrlDistributionPoints(value: Uint8Array): string[] {
  const urls: string[] = [];
  for (const dp of children(value, expectTag(readRoot(value), Tag.SEQUENCE, 'CRLDistributionPoints'))) {
    const name = children(value, expectTag(dp, Tag.SEQUENCE, 'DistributionPoint')).find((c) => c.tag === 0xa0);
    if (!name) continue;
    const full = readNode(value, name.valueStart, name.end);
    if (full.tag !== 0xa0) continue;
    for (const g of children(value, full)) if (g.tag === 0x86) urls.push(latin1(valueOf(value, g)));
  }
  return urls;
}

export function decodeAuthorityInfoAccess(value: Uint8Array): { ocsp: string[]; caIssuers: string[] } {
  const out = { ocsp: [] as string[], caIssuers: [] as string[] };
  for (const ad of children(value, expectTag(readRoot(value), Tag.SEQUENCE, 'AuthorityInfoAccessSyntax'))) {
    const [method, location] = children(value, expectTag(ad, Tag.SEQUENCE, 'AccessDescription'));
    const m = decodeOid(valueOf(value, expectTag(method, Tag.OID, 'accessMethod')));
    if (!location) throw new DerError('missing accessLocation');
    if (location.tag !== 0x86) continue;
    const url = latin1(valueOf(value, location));
    if (m === ACCESS_OCSP) out.ocsp.push(url);
    else if (m === ACCESS_CA_ISSUERS) out.caIssuers.push(url);
  }
  return out;
}

/** Reads `Extensions` (SEQUENCE OF Extension) into a map by OID; duplicates are malformed (RFC 5280 4.2). */
export function readExtensions(bytes: Uint8Array, node: DerNode): Map<string, { critical: boolean; value: Uint8Array }> {
  const out = new Map<string, { critical: boolean; value: Uint8Array }>();
  for (const ext of children(bytes, expectTag(node, Tag.SEQUENCE, 'Extensions'))) {
    const parts = children(bytes, expectTag(ext, Tag.SEQUENCE, 'Extension'));
    const id = decodeOid(valueOf(bytes, expectTag(parts[0], Tag.OID, 'extnID')));
    let critical = false;
    let i = 1;
    if (parts[i]?.tag === Tag.BOOLEAN) {
      const b = valueOf(bytes, parts[i++]!);
      if (b.length !== 1) throw new DerError('bad BOOLEAN');
      critical = b[0] !== 0;
    }
    const value = valueOf(bytes, expectTag(parts[i++], Tag.OCTET_STRING, 'extnValue'));
    if (parts[i]) throw new DerError('trailing fields in Extension');
    if (out.has(id)) throw new DerError(`duplicate extension ${id}`);
    out.set(id, { critical, value });
  }
  return out;
}
