/**
 * An X.509 certificate decoded in the browser, laid out like `openssl x509 -text`: version, serial, signature
 * algorithm, issuer, validity, subject, public key, every extension (RFC 5280 4.2; unknown ones as OID and hex)
 * and the signature. Reads the DER the server stored; decodes, never verifies.
 */

interface Node {
  tag: number;
  /** Offset of the contents. */
  start: number;
  end: number;
  constructed: boolean;
}

function read(der: Uint8Array, at: number): Node {
  const tag = der[at]!;
  if ((tag & 0x1f) === 0x1f) throw new Error('multi-byte DER tags are not used in certificates');
  let len = der[at + 1]!;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new Error('bad DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[start + i]!;
    start += n;
  }
  if (start + len > der.length) throw new Error('truncated DER');
  return { tag, start, end: start + len, constructed: (tag & 0x20) !== 0 };
}

function kids(der: Uint8Array, n: Node): Node[] {
  const out: Node[] = [];
  for (let at = n.start; at < n.end; ) {
    const k = read(der, at);
    out.push(k);
    at = k.end;
  }
  return out;
}

const bytes = (der: Uint8Array, n: Node) => der.subarray(n.start, n.end);
const hex = (b: Uint8Array, sep = ':') => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(sep);
const text = (der: Uint8Array, n: Node) => new TextDecoder().decode(bytes(der, n));

function oid(b: Uint8Array): string {
  const parts: number[] = [];
  let v = 0;
  for (const x of b) {
    v = v * 128 + (x & 0x7f);
    if (!(x & 0x80)) {
      if (parts.length === 0) parts.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
      else parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

const OID_NAMES: Record<string, string> = {
  // Names (as openssl prints them).
  '2.5.4.3': 'CN', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.10': 'O', '2.5.4.11': 'OU',
  '2.5.4.5': 'serialNumber', '2.5.4.9': 'street', '2.5.4.12': 'title', '2.5.4.42': 'GN', '2.5.4.4': 'SN',
  '2.5.4.46': 'dnQualifier', '2.5.4.65': 'pseudonym', '2.5.4.97': 'organizationIdentifier',
  '1.2.840.113549.1.9.1': 'emailAddress', '0.9.2342.19200300.100.1.25': 'DC', '0.9.2342.19200300.100.1.1': 'UID',
  // Key and signature algorithms.
  '1.2.840.113549.1.1.1': 'rsaEncryption', '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.113549.1.1.10': 'rsassaPss', '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption', '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
  '1.2.840.10045.2.1': 'id-ecPublicKey', '1.2.840.10045.4.1': 'ecdsa-with-SHA1', '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256',
  '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384', '1.2.840.10045.4.3.4': 'ecdsa-with-SHA512',
  '1.3.101.112': 'ED25519', '1.3.101.113': 'ED448',
  '1.2.840.10045.3.1.7': 'prime256v1', '1.3.132.0.34': 'secp384r1', '1.3.132.0.35': 'secp521r1', '1.3.132.0.10': 'secp256k1',
  // Extended key usages.
  '1.3.6.1.5.5.7.3.1': 'TLS Web Server Authentication', '1.3.6.1.5.5.7.3.2': 'TLS Web Client Authentication',
  '1.3.6.1.5.5.7.3.3': 'Code Signing', '1.3.6.1.5.5.7.3.4': 'E-mail Protection', '1.3.6.1.5.5.7.3.8': 'Time Stamping',
  '1.3.6.1.5.5.7.3.9': 'OCSP Signing', '2.5.29.37.0': 'Any Extended Key Usage', '1.3.6.1.5.5.7.3.28': 'EST CMC Registration Authority',
  '1.3.6.1.5.5.7.3.5': 'IPSec End System', '1.3.6.1.5.5.7.3.6': 'IPSec Tunnel', '1.3.6.1.5.5.7.3.7': 'IPSec User',
  // Access methods and policy qualifiers.
  '1.3.6.1.5.5.7.48.1': 'OCSP', '1.3.6.1.5.5.7.48.2': 'CA Issuers', '1.3.6.1.5.5.7.2.1': 'CPS', '1.3.6.1.5.5.7.2.2': 'User Notice',
  '2.5.29.32.0': 'X509v3 Any Policy', '1.3.6.1.4.1.311.20.2.3': 'UPN', '1.3.6.1.5.5.7.8.4': 'Permanent Identifier',
};

const EXTENSION_NAMES: Record<string, string> = {
  '2.5.29.14': 'X509v3 Subject Key Identifier',
  '2.5.29.15': 'X509v3 Key Usage',
  '2.5.29.17': 'X509v3 Subject Alternative Name',
  '2.5.29.18': 'X509v3 Issuer Alternative Name',
  '2.5.29.19': 'X509v3 Basic Constraints',
  '2.5.29.30': 'X509v3 Name Constraints',
  '2.5.29.31': 'X509v3 CRL Distribution Points',
  '2.5.29.32': 'X509v3 Certificate Policies',
  '2.5.29.35': 'X509v3 Authority Key Identifier',
  '2.5.29.36': 'X509v3 Policy Constraints',
  '2.5.29.37': 'X509v3 Extended Key Usage',
  '2.5.29.54': 'X509v3 Inhibit Any Policy',
  '1.3.6.1.5.5.7.1.1': 'Authority Information Access',
  '1.3.6.1.5.5.7.48.1.5': 'OCSP No Check',
  '1.3.6.1.4.1.11129.2.4.3': 'CT Precertificate Poison',
  '1.3.6.1.4.1.11129.2.4.2': 'CT Precertificate SCTs',
};

export const oidName = (o: string) => OID_NAMES[o] ?? o;

function time(der: Uint8Array, n: Node): string {
  const s = text(der, n);
  const full = n.tag === 0x17 ? (Number(s.slice(0, 2)) < 50 ? '20' : '19') + s : s;
  return `${full.slice(0, 4)}-${full.slice(4, 6)}-${full.slice(6, 8)} ${full.slice(8, 10)}:${full.slice(10, 12)}:${full.slice(12, 14)} UTC`;
}

/** A Name as openssl prints it: `C=ES, O=Acme, CN=x` in certificate order. */
function name(der: Uint8Array, n: Node): string {
  const out: string[] = [];
  for (const rdn of kids(der, n))
    for (const atv of kids(der, rdn)) {
      const [type, value] = kids(der, atv);
      const v = value!.tag === 0x1e ? bmp(bytes(der, value!)) : text(der, value!);
      out.push(`${oidName(oid(bytes(der, type!)))}=${v}`);
    }
  return out.join(', ');
}

function bmp(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i + 1 < b.length; i += 2) s += String.fromCharCode((b[i]! << 8) | b[i + 1]!);
  return s;
}

function ip(b: Uint8Array): string {
  if (b.length === 4) return Array.from(b).join('.');
  if (b.length === 16) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16).toUpperCase());
    return groups.join(':');
  }
  // Name constraints: address and mask.
  if (b.length === 8) return `${ip(b.subarray(0, 4))}/${ip(b.subarray(4))}`;
  if (b.length === 32) return `${ip(b.subarray(0, 16))}/${ip(b.subarray(16))}`;
  return hex(b);
}

/** One GeneralName (RFC 5280 4.2.1.6), in openssl's words. */
function generalName(der: Uint8Array, n: Node): string {
  switch (n.tag & 0x1f) {
    case 0: {
      const [type, value] = kids(der, n);
      const inner = value ? read(der, value.start) : undefined;
      const v = inner && [0x0c, 0x16, 0x13].includes(inner.tag) ? text(der, inner) : inner ? hex(bytes(der, inner)) : '';
      return `othername: ${oidName(oid(bytes(der, type!)))}:${v}`;
    }
    case 1:
      return `email:${text(der, n)}`;
    case 2:
      return `DNS:${text(der, n)}`;
    case 4:
      return `DirName:/${name(der, read(der, n.start)).split(', ').join('/')}`;
    case 6:
      return `URI:${text(der, n)}`;
    case 7:
      return `IP Address:${ip(bytes(der, n))}`;
    case 8:
      return `Registered ID:${oid(bytes(der, n))}`;
    default:
      return `[${n.tag & 0x1f}]:${hex(bytes(der, n))}`;
  }
}

const generalNames = (der: Uint8Array, n: Node) => kids(der, n).map((g) => generalName(der, g));

const KEY_USAGES = ['Digital Signature', 'Non Repudiation', 'Key Encipherment', 'Data Encipherment', 'Key Agreement', 'Certificate Sign', 'CRL Sign', 'Encipher Only', 'Decipher Only'];
const REASON_FLAGS = ['Unused', 'Key Compromise', 'CA Compromise', 'Affiliation Changed', 'Superseded', 'Cessation Of Operation', 'Certificate Hold', 'Privilege Withdrawn', 'AA Compromise'];

function bits(der: Uint8Array, n: Node, names: string[]): string[] {
  const b = bytes(der, n);
  const out: string[] = [];
  for (let i = 0; i < (b.length - 1) * 8; i++) if (b[1 + (i >> 3)]! & (0x80 >> (i & 7))) out.push(names[i] ?? `bit ${i}`);
  return out;
}

/** The lines of one extension's value; unknown extensions give their DER in hex. */
function extensionLines(id: string, der: Uint8Array, value: Node): string[] {
  const v = read(der, value.start);
  switch (id) {
    case '2.5.29.14':
      return [hex(bytes(der, v)).toUpperCase()];
    case '2.5.29.15':
      return [bits(der, v, KEY_USAGES).join(', ')];
    case '2.5.29.17':
    case '2.5.29.18':
      return [generalNames(der, v).join(', ')];
    case '2.5.29.19': {
      let ca = false;
      let path: number | undefined;
      for (const k of kids(der, v)) {
        if (k.tag === 0x01) ca = der[k.start] !== 0;
        if (k.tag === 0x02) path = integer(bytes(der, k));
      }
      return [`CA:${ca ? 'TRUE' : 'FALSE'}${path !== undefined ? `, pathlen:${path}` : ''}`];
    }
    case '2.5.29.35': {
      const out: string[] = [];
      for (const k of kids(der, v)) {
        if ((k.tag & 0x1f) === 0) out.push(hex(bytes(der, k)).toUpperCase());
        if ((k.tag & 0x1f) === 1) out.push(...generalNames(der, k));
        if ((k.tag & 0x1f) === 2) out.push(`serial:${hex(bytes(der, k)).toUpperCase()}`);
      }
      return out;
    }
    case '2.5.29.37':
      return [kids(der, v).map((k) => oidName(oid(bytes(der, k)))).join(', ')];
    case '2.5.29.31': {
      const out: string[] = [];
      for (const dp of kids(der, v))
        for (const part of kids(der, dp)) {
          const tag = part.tag & 0x1f;
          if (tag === 0) {
            const dpn = read(der, part.start);
            if ((dpn.tag & 0x1f) === 0) out.push('Full Name:', ...generalNames(der, dpn).map((s) => `  ${s}`));
            else out.push(`Relative Name: ${name(der, { ...dpn, tag: 0x30 })}`);
          } else if (tag === 1) out.push(`Reasons: ${bits(der, part, REASON_FLAGS).join(', ')}`);
          else if (tag === 2) out.push(`CRL Issuer: ${generalNames(der, part).join(', ')}`);
        }
      return out;
    }
    case '1.3.6.1.5.5.7.1.1':
      return kids(der, v).map((ad) => {
        const [method, location] = kids(der, ad);
        return `${oidName(oid(bytes(der, method!)))} - ${generalName(der, location!)}`;
      });
    case '2.5.29.32': {
      const out: string[] = [];
      for (const info of kids(der, v)) {
        const [policy, qualifiers] = kids(der, info);
        const p = oid(bytes(der, policy!));
        out.push(p === '2.5.29.32.0' ? 'Policy: X509v3 Any Policy' : `Policy: ${p}`);
        for (const q of qualifiers ? kids(der, qualifiers) : []) {
          const [qid, qv] = kids(der, q);
          const kind = oid(bytes(der, qid!));
          if (kind === '1.3.6.1.5.5.7.2.1') out.push(`  CPS: ${text(der, qv!)}`);
          else if (kind === '1.3.6.1.5.5.7.2.2') {
            const explicit = kids(der, qv!).find((k) => k.tag !== 0x30);
            out.push(`  User Notice: ${explicit ? (explicit.tag === 0x1e ? bmp(bytes(der, explicit)) : text(der, explicit)) : '(notice reference)'}`);
          } else out.push(`  ${kind}: ${hex(bytes(der, qv!))}`);
        }
      }
      return out;
    }
    case '2.5.29.30': {
      const out: string[] = [];
      for (const subtrees of kids(der, v)) {
        out.push((subtrees.tag & 0x1f) === 0 ? 'Permitted:' : 'Excluded:');
        for (const st of kids(der, subtrees)) out.push(`  ${generalName(der, kids(der, st)[0]!).replace(/^IP Address:/, 'IP:')}`);
      }
      return out;
    }
    case '2.5.29.36':
      return kids(der, v).map((k) => `${(k.tag & 0x1f) === 0 ? 'Require Explicit Policy' : 'Inhibit Policy Mapping'}:${integer(bytes(der, k))}`);
    case '2.5.29.54':
      return [String(integer(bytes(der, v)))];
    case '1.3.6.1.5.5.7.48.1.5':
    case '1.3.6.1.4.1.11129.2.4.3':
      return ['NULL'];
    default:
      return [hex(bytes(der, value))];
  }
}

function integer(b: Uint8Array): number {
  let n = 0;
  for (const x of b) n = n * 256 + x;
  return n;
}

/** Wraps hex into openssl-like rows of 15 bytes. */
function rows(h: string): string[] {
  const parts = h.split(':');
  const out: string[] = [];
  for (let i = 0; i < parts.length; i += 15) out.push(parts.slice(i, i + 15).join(':') + (i + 15 < parts.length ? ':' : ''));
  return out;
}

export interface DecodedExtension {
  oid: string;
  name: string;
  critical: boolean;
  lines: string[];
}

export interface DecodedCertificate {
  version: number;
  serial: string;
  signatureAlgorithm: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
  subject: string;
  publicKey: { algorithm: string; size?: number; curve?: string; lines: string[] };
  extensions: DecodedExtension[];
  signature: string[];
}

function publicKey(der: Uint8Array, spki: Node): DecodedCertificate['publicKey'] {
  const [alg, key] = kids(der, spki);
  const [algOid, params] = kids(der, alg!);
  const algorithm = oidName(oid(bytes(der, algOid!)));
  const bitString = bytes(der, key!).subarray(1);
  if (algorithm === 'rsaEncryption') {
    const rsa = read(bitString, 0);
    const [mod, exp] = kids(bitString, rsa);
    const m = bytes(bitString, mod!);
    const trimmed = m[0] === 0 ? m.subarray(1) : m;
    const size = trimmed.length * 8 - Math.clz32(trimmed[0]!) + 24;
    const e = integer(bytes(bitString, exp!));
    return { algorithm, size, lines: [`Public-Key: (${size} bit)`, 'Modulus:', ...rows(hex(m)).map((r) => `  ${r}`), `Exponent: ${e} (0x${e.toString(16)})`] };
  }
  if (algorithm === 'id-ecPublicKey') {
    const curve = params && params.tag === 0x06 ? oidName(oid(bytes(der, params))) : 'explicit parameters';
    const size = { prime256v1: 256, secp384r1: 384, secp521r1: 521, secp256k1: 256 }[curve] ?? (bitString.length - 1) * 4;
    return { algorithm, size, curve, lines: [`Public-Key: (${size} bit)`, 'pub:', ...rows(hex(bitString)).map((r) => `  ${r}`), `ASN1 OID: ${curve}`] };
  }
  return { algorithm, lines: [`${algorithm} Public-Key:`, 'pub:', ...rows(hex(bitString)).map((r) => `  ${r}`)] };
}

export function decodeCertificate(der: Uint8Array): DecodedCertificate {
  const cert = read(der, 0);
  const [tbs, sigAlg, sig] = kids(der, cert);
  const fields = kids(der, tbs!);
  let i = 0;
  let version = 1;
  if (fields[0]!.tag === 0xa0) {
    version = integer(bytes(der, read(der, fields[0]!.start))) + 1;
    i++;
  }
  const serial = hex(bytes(der, fields[i++]!));
  i++; // the TBS signature algorithm repeats the outer one
  const issuer = name(der, fields[i++]!);
  const [nb, na] = kids(der, fields[i++]!);
  const subject = name(der, fields[i++]!);
  const spki = fields[i++]!;
  const extensions: DecodedExtension[] = [];
  for (; i < fields.length; i++) {
    if (fields[i]!.tag !== 0xa3) continue;
    for (const ext of kids(der, read(der, fields[i]!.start))) {
      const parts = kids(der, ext);
      const id = oid(bytes(der, parts[0]!));
      const critical = parts.length === 3 && der[parts[1]!.start] !== 0;
      const value = parts[parts.length - 1]!;
      let lines: string[];
      try {
        lines = extensionLines(id, der, value);
      } catch {
        lines = [hex(bytes(der, value))];
      }
      extensions.push({ oid: id, name: EXTENSION_NAMES[id] ?? id, critical, lines });
    }
  }
  return {
    version,
    serial: serial.replace(/^00:(?=.)/, ''),
    signatureAlgorithm: oidName(oid(bytes(der, kids(der, sigAlg!)[0]!))),
    issuer,
    notBefore: time(der, nb!),
    notAfter: time(der, na!),
    subject,
    publicKey: publicKey(der, spki),
    extensions,
    signature: rows(hex(bytes(der, sig!).subarray(1))),
  };
}

/** SHA-1 and SHA-256 fingerprints of the DER, as openssl prints them (upper-case, colon-separated). */
export async function fingerprints(der: Uint8Array): Promise<{ sha1: string; sha256: string }> {
  const digest = async (alg: string) => hex(new Uint8Array(await crypto.subtle.digest(alg, der as Uint8Array<ArrayBuffer>))).toUpperCase();
  return { sha1: await digest('SHA-1'), sha256: await digest('SHA-256') };
}

export function derOf(base64: string): Uint8Array {
  const body = base64.includes('-----') ? base64.replace(/-----[^-]+-----/g, '') : base64;
  const s = atob(body.replace(/\s+/g, ''));
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}
