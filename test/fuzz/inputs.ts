/** Malformed (and a few well-formed) values of every kind a request can carry. */
import type { Rng } from './prng.ts';

/** Real material fetched or made at setup, mutated by the generators. */
export interface Samples {
  /** Well-formed CSRs of several kinds (EC, Ed25519, RSA, odd subjects: NUL, BMPString, long) to mutate. */
  csrs: Buffer[];
  certDer: Buffer;
  ocspRequestDer: Buffer;
  /** Ids that exist on the server: some requests name them so that they reach deeper code. */
  caIds: string[];
  dmsIds: string[];
  deviceIds: string[];
  serials: string[];
}

/** Percent-encodes the UTF-8 bytes of any string, lone surrogates included (encodeURIComponent throws on those). */
export const enc = (s: string): string =>
  [...Buffer.from(s, 'utf8')].map((b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');

const pem = (label: string, der: Buffer) => `-----BEGIN ${label}-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END ${label}-----\n`;

function mutate(r: Rng, der: Buffer): Buffer {
  const b = Buffer.from(der);
  switch (r.int(6)) {
    case 0:
      return b.subarray(0, r.int(b.length)); // truncated
    case 1:
      for (let i = 0; i < 1 + r.int(8); i++) b[r.int(b.length)] = r.int(256); // flipped bytes
      return b;
    case 2:
      return Buffer.concat([b, r.bytes(1 + r.int(64))]); // trailing garbage
    case 3:
      b[1] = 0x84; // length field claiming 4 more octets
      return b;
    case 4: {
      const i = r.int(b.length);
      return Buffer.concat([b.subarray(0, i), r.bytes(r.int(32)), b.subarray(i)]);
    }
    default:
      return r.bytes(r.int(512));
  }
}

/** DER (as is or broken), as PEM or base64 with odd wrapping, or nothing like either. */
export function derLike(r: Rng, der: Buffer, label: string): Buffer {
  const d = r.chance(0.15) ? der : mutate(r, der);
  switch (r.int(8)) {
    case 0:
      return d;
    case 1:
      return Buffer.from(d.toString('base64'));
    case 2:
      return Buffer.from(pem(label, d));
    case 3:
      return Buffer.from(pem(r.pick(['CERTIFICATE', 'PRIVATE KEY', 'X', '']), d).replace(/\n/g, r.pick(['\r\n', '', ' ', '\n\n'])));
    case 4:
      return Buffer.from(`${d.toString('base64').slice(0, r.int(200))}${r.pick(['!', '%', '====', '\u0000', '-', '\u00e4'])}`);
    case 5:
      return Buffer.from(d.toString('base64url'));
    case 6:
      return Buffer.from(`-----BEGIN ${label}-----\n${'A'.repeat(r.int(5000))}`);
    default:
      return r.bytes(r.int(300));
  }
}

export const oddStrings = (r: Rng): string =>
  r.pick([
    '',
    ' ',
    '\u0000',
    `a\u0000b`,
    '\u00e4\u00f6\u00fc',
    '\ud83d\ude00',
    '\ud800',
    '\u202e',
    '../../etc/passwd',
    '%00',
    '%zz',
    '${jndi:ldap://x}',
    "'; drop table cas; --",
    'x'.repeat(128),
    'x'.repeat(129),
    'x'.repeat(r.int(70_000)),
    '1y2w3d4h',
    '-1d',
    '99999999999y',
    '2026-13-45T99:99:99Z',
    'null',
    'true',
    '\r\n',
    '<script>',
    'A'.repeat(3) + '\t',
  ]);

export const oddValues = (r: Rng): unknown =>
  r.pick<unknown>([
    null,
    true,
    0,
    -1,
    1e308,
    -1e308,
    2 ** 53 + 1,
    0.5,
    [],
    {},
    [null],
    { __proto__: { admin: true } },
    oddStrings(r),
    oddStrings(r),
    oddStrings(r),
  ]);

/** Path segments in the place of an id: real ids, NUL, broken %-escapes, over-long, unicode, traversal. */
export function pathId(r: Rng, real: string[]): string {
  if (real.length > 0 && r.chance(0.3)) return enc(r.pick(real));
  return r.pick([
    '%00',
    'a%00b',
    '%zz',
    '%',
    '%%',
    '%C0%AF',
    '%ED%A0%80',
    '%FF',
    '..',
    '%2e%2e',
    '%2F',
    'a%2Fb',
    '%20',
    'x'.repeat(128),
    'x'.repeat(129),
    'x'.repeat(1 + r.int(3000)),
    enc('\u00e4'),
    enc('\ud83d\ude00'),
    'LAMASSU-DMS-MANAGER',
    '0',
    '-',
    '.',
    enc(oddStrings(r).slice(0, 300)),
    r.bytes(8).toString('hex'),
    'A'.repeat(64),
    '00:11:22',
  ]);
}

export const contentTypes = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'APPLICATION/JSON',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'multipart/form-data',
  'application/pkcs10',
  'application/x-pkcs10',
  'application/ocsp-request',
  'application/octet-stream',
  'application/pkix-cert',
  '',
  ';;;',
  'application/',
  '*/*',
  'application/json; boundary=',
  'text/html; charset=x',
];

export function multipart(r: Rng, part: Buffer): Buffer {
  const boundary = r.pick(['xyz', '', '--', 'a'.repeat(100)]);
  return Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Type: ${r.pick(contentTypes)}\r\nContent-Disposition: form-data; name="csr"\r\n\r\n`),
    part,
    Buffer.from(r.chance(0.5) ? `\r\n--${boundary}--\r\n` : `\n--${boundary}`),
  ]);
}

/** JSON text that is broken, hostile or just odd. */
export function brokenJson(r: Rng, valid: string): string {
  switch (r.int(10)) {
    case 0:
      return valid.slice(0, r.int(valid.length));
    case 1:
      return `${'['.repeat(33 + r.int(6000))}`;
    case 2:
      return `${'{"a":'.repeat(33 + r.int(6000))}1${'}'.repeat(33 + r.int(10))}`;
    case 3:
      return '{"__proto__":{"polluted":1}}';
    case 4:
      return '{"constructor":{"prototype":{"polluted":1}}}';
    case 5:
      return valid.replace(/"([^"]*)"/, '"$1\\u0000"');
    case 6:
      return `${valid}${r.pick([',', '}', ' garbage', '\u0000'])}`;
    case 7:
      return r.pick(['', ' ', 'null', '[]', '"x"', '1e999999', '-', '{"a":1,"a":2}', '\ufeff{}', '{"a":"\\ud800"}']);
    case 8:
      return r.bytes(r.int(200)).toString('latin1');
    default:
      return valid.replace(/:\s*("[^"]*"|\d+|true|false|null)/, `:${JSON.stringify(oddValues(r)) ?? 'null'}`);
  }
}
