/**
 * Signatures over a digest the caller computed (Lamassu's `message_type: hash`), which node:crypto cannot
 * make or check directly: it always hashes the message itself. RSA goes through the raw RSA operation with
 * the PKCS#1 v1.5 DigestInfo or the EMSA-PSS encoding (RFC 8017) built here; ECDSA verification is done on
 * the curve here (public values only, so timing does not matter). Pure functions, no key material kept.
 */
import { constants, createHash, createPublicKey, publicDecrypt, type KeyObject } from 'node:crypto';
import type { HashAlgorithm } from '../domain/ports/key-engine.ts';

const NODE_HASH: Record<HashAlgorithm, string> = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };
export const DIGEST_BYTES: Record<HashAlgorithm, number> = { 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64 };

/** DER of DigestInfo up to the digest itself (RFC 8017 §9.2 note 1). */
const DIGEST_INFO_PREFIX: Record<HashAlgorithm, string> = {
  'SHA-256': '3031300d060960864801650304020105000420',
  'SHA-384': '3041300d060960864801650304020205000430',
  'SHA-512': '3051300d060960864801650304020305000440',
};

export const digestInfo = (hash: HashAlgorithm, digest: Uint8Array): Buffer => Buffer.concat([Buffer.from(DIGEST_INFO_PREFIX[hash], 'hex'), digest]);

const hashOf = (hash: HashAlgorithm, ...parts: Uint8Array[]) => {
  const h = createHash(NODE_HASH[hash]);
  for (const p of parts) h.update(p);
  return h.digest();
};

function mgf1(hash: HashAlgorithm, seed: Uint8Array, length: number): Buffer {
  const out: Buffer[] = [];
  for (let counter = 0; out.length * DIGEST_BYTES[hash] < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    out.push(hashOf(hash, seed, c));
  }
  return Buffer.concat(out).subarray(0, length);
}

/**
 * EMSA-PSS-ENCODE (RFC 8017 §9.1.1) with MGF1 of the same hash and a salt as long as the digest, left-padded
 * to the modulus length so that it can go through the raw RSA operation.
 */
export function emsaPssEncode(hash: HashAlgorithm, digest: Uint8Array, salt: Uint8Array, modulusBits: number): Buffer {
  const hLen = DIGEST_BYTES[hash];
  const emBits = modulusBits - 1;
  const emLen = Math.ceil(emBits / 8);
  const h = hashOf(hash, Buffer.alloc(8), digest, salt);
  const db = Buffer.concat([Buffer.alloc(emLen - salt.length - hLen - 2), Buffer.from([1]), salt]);
  const mask = mgf1(hash, h, emLen - hLen - 1);
  for (let i = 0; i < db.length; i++) db[i] ^= mask[i];
  db[0] &= 0xff >> (8 * emLen - emBits);
  const em = Buffer.concat([db, h, Buffer.from([0xbc])]);
  return Buffer.concat([Buffer.alloc(Math.ceil(modulusBits / 8) - emLen), em]);
}

function emsaPssVerify(hash: HashAlgorithm, digest: Uint8Array, block: Buffer, modulusBits: number): boolean {
  const hLen = DIGEST_BYTES[hash];
  const emBits = modulusBits - 1;
  const emLen = Math.ceil(emBits / 8);
  if (block.length < emLen || block.subarray(0, block.length - emLen).some((b) => b !== 0)) return false;
  const em = block.subarray(block.length - emLen);
  if (emLen < 2 * hLen + 2 || em[emLen - 1] !== 0xbc) return false;
  const masked = em.subarray(0, emLen - hLen - 1);
  const h = em.subarray(emLen - hLen - 1, emLen - 1);
  const topBits = 8 * emLen - emBits;
  if ((masked[0] & ~(0xff >> topBits) & 0xff) !== 0) return false;
  const db = Buffer.from(masked);
  const mask = mgf1(hash, h, db.length);
  for (let i = 0; i < db.length; i++) db[i] ^= mask[i];
  db[0] &= 0xff >> topBits;
  const saltStart = db.length - hLen;
  if (db.subarray(0, saltStart - 1).some((b) => b !== 0) || db[saltStart - 1] !== 1) return false;
  return hashOf(hash, Buffer.alloc(8), digest, db.subarray(saltStart)).equals(h);
}

// ---- NIST prime curves (a = -3), FIPS 186-4 D.1.2 ----
export interface PrimeCurve {
  name: 'P-256' | 'P-384' | 'P-521';
  /** OpenSSL's name, for node:crypto. */
  openssl: string;
  oid: string;
  p: bigint;
  n: bigint;
  b: bigint;
  gx: bigint;
  gy: bigint;
  bits: number;
}

const h = (s: string) => BigInt(`0x${s.replace(/\s/g, '')}`);
export const CURVES: Record<number, PrimeCurve> = {
  256: {
    name: 'P-256',
    openssl: 'prime256v1',
    oid: '1.2.840.10045.3.1.7',
    bits: 256,
    p: h('ffffffff 00000001 00000000 00000000 00000000 ffffffff ffffffff ffffffff'),
    n: h('ffffffff 00000000 ffffffff ffffffff bce6faad a7179e84 f3b9cac2 fc632551'),
    b: h('5ac635d8 aa3a93e7 b3ebbd55 769886bc 651d06b0 cc53b0f6 3bce3c3e 27d2604b'),
    gx: h('6b17d1f2 e12c4247 f8bce6e5 63a440f2 77037d81 2deb33a0 f4a13945 d898c296'),
    gy: h('4fe342e2 fe1a7f9b 8ee7eb4a 7c0f9e16 2bce3357 6b315ece cbb64068 37bf51f5'),
  },
  384: {
    name: 'P-384',
    openssl: 'secp384r1',
    oid: '1.3.132.0.34',
    bits: 384,
    p: h('ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff fffffffe ffffffff 00000000 00000000 ffffffff'),
    n: h('ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff c7634d81 f4372ddf 581a0db2 48b0a77a ecec196a ccc52973'),
    b: h('b3312fa7 e23ee7e4 988e056b e3f82d19 181d9c6e fe814112 0314088f 5013875a c656398d 8a2ed19d 2a85c8ed d3ec2aef'),
    gx: h('aa87ca22 be8b0537 8eb1c71e f320ad74 6e1d3b62 8ba79b98 59f741e0 82542a38 5502f25d bf55296c 3a545e38 72760ab7'),
    gy: h('3617de4a 96262c6f 5d9e98bf 9292dc29 f8f41dbd 289a147c e9da3113 b5f0b8c0 0a60b1ce 1d7e819d 7a431d7c 90ea0e5f'),
  },
  521: {
    name: 'P-521',
    openssl: 'secp521r1',
    oid: '1.3.132.0.35',
    bits: 521,
    p: (1n << 521n) - 1n,
    n: h(
      '01ff ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff fffffffa 51868783 bf2f966b 7fcc0148 f709a5d0 3bb5c9b8 899c47ae bb6fb71e 91386409',
    ),
    b: h(
      '0051 953eb961 8e1c9a1f 929a21a0 b68540ee a2da725b 99b315f3 b8b48991 8ef109e1 56193951 ec7e937b 1652c0bd 3bb1bf07 3573df88 3d2c34f1 ef451fd4 6b503f00',
    ),
    gx: h(
      '00c6 858e06b7 0404e9cd 9e3ecb66 2395b442 9c648139 053fb521 f828af60 6b4d3dba a14b5e77 efe75928 fe1dc127 a2ffa8de 3348b3c1 856a429b f97e7e31 c2e5bd66',
    ),
    gy: h(
      '0118 39296a78 9a3bc004 5c8a5fb4 2c7d1bd9 98f54449 579b4468 17afbd17 273e662c 97ee7299 5ef42640 c550b901 3fad0761 353c7086 a272c240 88be9476 9fd16650',
    ),
  },
};

const mod = (a: bigint, m: bigint) => {
  const r = a % m;
  return r < 0n ? r + m : r;
};

export function modPow(base: bigint, exp: bigint, m: bigint): bigint {
  let result = 1n;
  let b = mod(base, m);
  for (let e = exp; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % m;
    b = (b * b) % m;
  }
  return result;
}

/** Inverse modulo a prime. */
export const modInverse = (a: bigint, prime: bigint) => modPow(a, prime - 2n, prime);

/** The integer of a digest as ECDSA uses it: its leftmost `bits` bits (SEC 1 §4.1.3 step 5). */
export function digestInteger(digest: Uint8Array, bits: number): bigint {
  if (digest.length === 0) return 0n;
  const value = BigInt(`0x${Buffer.from(digest).toString('hex')}`);
  const excess = digest.length * 8 - bits;
  return excess > 0 ? value >> BigInt(excess) : value;
}

type Jacobian = [bigint, bigint, bigint];
const INFINITY: Jacobian = [1n, 1n, 0n];

function double(c: PrimeCurve, [x, y, z]: Jacobian): Jacobian {
  if (z === 0n || y === 0n) return INFINITY;
  const p = c.p;
  const ysq = (y * y) % p;
  const s = (4n * x * ysq) % p;
  const zsq = (z * z) % p;
  const m = mod(3n * (x - zsq) * (x + zsq), p); // a = -3
  const nx = mod(m * m - 2n * s, p);
  const ny = mod(m * (s - nx) - 8n * ysq * ysq, p);
  return [nx, ny, mod(2n * y * z, p)];
}

function add(c: PrimeCurve, a: Jacobian, b: Jacobian): Jacobian {
  if (a[2] === 0n) return b;
  if (b[2] === 0n) return a;
  const p = c.p;
  const z1z1 = (a[2] * a[2]) % p;
  const z2z2 = (b[2] * b[2]) % p;
  const u1 = (a[0] * z2z2) % p;
  const u2 = (b[0] * z1z1) % p;
  const s1 = (a[1] * b[2] * z2z2) % p;
  const s2 = (b[1] * a[2] * z1z1) % p;
  if (u1 === u2) return s1 === s2 ? double(c, a) : INFINITY;
  const hh = mod(u2 - u1, p);
  const r = mod(s2 - s1, p);
  const h2 = (hh * hh) % p;
  const h3 = (h2 * hh) % p;
  const nx = mod(r * r - h3 - 2n * u1 * h2, p);
  const ny = mod(r * (u1 * h2 - nx) - s1 * h3, p);
  return [nx, ny, (a[2] * b[2] * hh) % p];
}

/** u1·G + u2·Q (Shamir's trick); the affine x, or undefined at infinity. */
function twoScalarX(c: PrimeCurve, u1: bigint, u2: bigint, q: Jacobian): bigint | undefined {
  const g: Jacobian = [c.gx, c.gy, 1n];
  const gq = add(c, g, q);
  let acc = INFINITY;
  for (let i = BigInt(c.bits); i >= 0n; i--) {
    acc = double(c, acc);
    const b1 = (u1 >> i) & 1n;
    const b2 = (u2 >> i) & 1n;
    if (b1 && b2) acc = add(c, acc, gq);
    else if (b1) acc = add(c, acc, g);
    else if (b2) acc = add(c, acc, q);
  }
  if (acc[2] === 0n) return undefined;
  const zinv = modInverse(acc[2], c.p);
  return (acc[0] * zinv * zinv) % c.p;
}

const onCurve = (c: PrimeCurve, x: bigint, y: bigint) => mod(y * y - (x * x * x - 3n * x + c.b), c.p) === 0n;

/** ECDSA (r, s) from DER Ecdsa-Sig-Value; undefined when it is not one. */
export function ecdsaSignatureScalars(der: Uint8Array): { r: bigint; s: bigint } | undefined {
  const b = Buffer.from(der);
  let i = 0;
  const len = (): number | undefined => {
    const first = b[i++];
    if (first === undefined) return undefined;
    if (first < 0x80) return first;
    const n = first & 0x7f;
    if (n === 0 || n > 2) return undefined;
    let v = 0;
    for (let k = 0; k < n; k++) v = (v << 8) | (b[i++] ?? 0);
    return v;
  };
  const int = (): bigint | undefined => {
    if (b[i++] !== 0x02) return undefined;
    const l = len();
    if (!l || i + l > b.length) return undefined;
    const v = b.subarray(i, i + l);
    i += l;
    if (v[0] & 0x80) return undefined;
    return BigInt(`0x${v.toString('hex')}`);
  };
  if (b[i++] !== 0x30) return undefined;
  const total = len();
  if (total === undefined || i + total !== b.length) return undefined;
  const r = int();
  const s = int();
  if (r === undefined || s === undefined || i !== b.length) return undefined;
  return { r, s };
}

/** DER Ecdsa-Sig-Value of (r, s). */
export function ecdsaSignatureDer(r: bigint, s: bigint): Uint8Array {
  const int = (v: bigint) => {
    let hex = v.toString(16);
    if (hex.length % 2) hex = `0${hex}`;
    let bytes = Buffer.from(hex, 'hex');
    if (bytes[0] & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
    return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
  };
  const body = Buffer.concat([int(r), int(s)]);
  const len = body.length < 0x80 ? Buffer.from([body.length]) : Buffer.from([0x81, body.length]);
  return new Uint8Array(Buffer.concat([Buffer.from([0x30]), len, body]));
}

const bigOf = (b64url: string) => BigInt(`0x${Buffer.from(b64url, 'base64url').toString('hex') || '0'}`);

/** The curve of an EC key object, or undefined for other keys and other curves. */
export function curveOf(key: KeyObject): PrimeCurve | undefined {
  const name = key.asymmetricKeyDetails?.namedCurve;
  return Object.values(CURVES).find((c) => c.openssl === name);
}

function verifyEcdsaDigest(key: KeyObject, digest: Uint8Array, signature: Uint8Array): boolean {
  const c = curveOf(key);
  const sig = ecdsaSignatureScalars(signature);
  if (!c || !sig) return false;
  const { r, s } = sig;
  if (r <= 0n || r >= c.n || s <= 0n || s >= c.n) return false;
  const jwk = key.export({ format: 'jwk' });
  const qx = bigOf(jwk.x!);
  const qy = bigOf(jwk.y!);
  if (!onCurve(c, qx, qy)) return false;
  const e = digestInteger(digest, c.bits);
  const w = modInverse(s, c.n);
  const x = twoScalarX(c, mod(e * w, c.n), (r * w) % c.n, [qx, qy, 1n]);
  return x !== undefined && x % c.n === r;
}

export type DigestSignatureScheme = 'ecdsa' | 'rsa-pkcs1' | 'rsa-pss';

/**
 * Checks `signature` over `digest` (already the `hash` of the message) with a public key. PSS uses MGF1
 * with `hash` and a salt of the digest's length. False for anything malformed; never throws.
 */
export function verifyDigestSignature(key: KeyObject, scheme: DigestSignatureScheme, hash: HashAlgorithm, digest: Uint8Array, signature: Uint8Array): boolean {
  if (!Object.hasOwn(DIGEST_BYTES, hash) || digest.length !== DIGEST_BYTES[hash]) return false;
  try {
    if (scheme === 'ecdsa') return key.asymmetricKeyType === 'ec' && verifyEcdsaDigest(key, digest, signature);
    if (key.asymmetricKeyType !== 'rsa') return false;
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (signature.length !== Math.ceil(bits / 8)) return false;
    if (scheme === 'rsa-pkcs1') {
      return publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, signature).equals(digestInfo(hash, digest));
    }
    return emsaPssVerify(hash, digest, publicDecrypt({ key, padding: constants.RSA_NO_PADDING }, signature), bits);
  } catch {
    return false;
  }
}

/** verifyDigestSignature with the key as SPKI DER (false when it is not a usable public key). */
export function verifyDigestWithSpki(spki: Uint8Array, scheme: DigestSignatureScheme, hash: HashAlgorithm, digest: Uint8Array, signature: Uint8Array): boolean {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch {
    return false;
  }
  return verifyDigestSignature(key, scheme, hash, digest, signature);
}

/** Whether an ECDSA digest is zero modulo the order of a `bits` curve: a value no hash yields by chance. */
export function ecdsaDigestIsZero(bits: number, digest: Uint8Array): boolean {
  const curve = CURVES[bits];
  return curve !== undefined && digestInteger(digest, curve.bits) % curve.n === 0n;
}
