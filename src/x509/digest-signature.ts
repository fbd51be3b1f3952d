/**
 * Signatures over a digest the caller computed (Lamassu's and AWS KMS's `message_type: hash`), which
 * node:crypto cannot make or check itself (it always hashes the message):
 * - RSA PKCS#1 v1.5: the DigestInfo (RFC 8017 §9.2) the private-key operation pads as type 1;
 * - RSA-PSS: EMSA-PSS encoding and verification (RFC 8017 §9.1) around the raw RSA operation;
 * - ECDSA: the scalar arithmetic of FIPS 186-5 §6.4 over the curve order. Verification uses public values
 *   only; signing leaves the multiplication by the nonce to OpenSSL (ECDH), see engines/crypto.
 */
import { constants, createHash, createPublicKey, publicDecrypt, randomBytes } from 'node:crypto';
import type { HashAlgorithm } from '../domain/ports/key-engine.ts';
import type { NamedCurve, PublicKeyInfo } from './public-key.ts';

export const DIGEST_BYTES: Readonly<Record<HashAlgorithm, number>> = { 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64 };
const NODE_HASH: Readonly<Record<HashAlgorithm, string>> = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };

/** DER of DigestInfo up to the digest: SEQUENCE { AlgorithmIdentifier { oid, NULL }, OCTET STRING (len) }. */
const DIGEST_INFO_PREFIX: Readonly<Record<HashAlgorithm, string>> = {
  'SHA-256': '3031300d060960864801650304020105000420',
  'SHA-384': '3041300d060960864801650304020205000430',
  'SHA-512': '3051300d060960864801650304020305000440',
};

/** Throws when `digest` is not as long as `hash`'s output. */
export function checkDigestLength(hash: HashAlgorithm, digest: Uint8Array): void {
  if (digest.length !== DIGEST_BYTES[hash]) throw new RangeError(`a ${hash} digest is ${DIGEST_BYTES[hash]} bytes, not ${digest.length}`);
}

export function digestInfo(hash: HashAlgorithm, digest: Uint8Array): Buffer {
  checkDigestLength(hash, digest);
  return Buffer.concat([Buffer.from(DIGEST_INFO_PREFIX[hash], 'hex'), digest]);
}

function mgf1(hash: HashAlgorithm, seed: Uint8Array, length: number): Buffer {
  const out: Buffer[] = [];
  for (let counter = 0; out.length * DIGEST_BYTES[hash] < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    out.push(createHash(NODE_HASH[hash]).update(seed).update(c).digest());
  }
  return Buffer.concat(out).subarray(0, length);
}

/** EMSA-PSS-ENCODE of a digest, salt as long as the digest; `modulusBits` of the RSA key. Returns k bytes (leading zero when needed). */
export function emsaPssEncode(hash: HashAlgorithm, digest: Uint8Array, modulusBits: number, salt: Uint8Array = randomBytes(DIGEST_BYTES[hash])): Buffer {
  checkDigestLength(hash, digest);
  const hLen = DIGEST_BYTES[hash];
  const emBits = modulusBits - 1;
  const emLen = Math.ceil(emBits / 8);
  const h = createHash(NODE_HASH[hash]).update(Buffer.alloc(8)).update(digest).update(salt).digest();
  const db = Buffer.concat([Buffer.alloc(emLen - salt.length - hLen - 2), Buffer.from([1]), salt]);
  const mask = mgf1(hash, h, emLen - hLen - 1);
  for (let i = 0; i < db.length; i++) db[i]! ^= mask[i]!;
  db[0]! &= 0xff >> (8 * emLen - emBits);
  const em = Buffer.concat([db, h, Buffer.from([0xbc])]);
  const k = Math.ceil(modulusBits / 8);
  return em.length === k ? em : Buffer.concat([Buffer.alloc(k - em.length), em]);
}

/** EMSA-PSS-VERIFY of `em` (the raw RSA public operation's output, k bytes) against a digest; salt as long as the digest. */
export function emsaPssVerify(hash: HashAlgorithm, digest: Uint8Array, raw: Uint8Array, modulusBits: number): boolean {
  const hLen = DIGEST_BYTES[hash];
  const emBits = modulusBits - 1;
  const emLen = Math.ceil(emBits / 8);
  if (digest.length !== hLen || raw.length < emLen) return false;
  if (raw.subarray(0, raw.length - emLen).some((b) => b !== 0)) return false;
  const em = Buffer.from(raw.subarray(raw.length - emLen));
  if (emLen < 2 * hLen + 2 || em[emLen - 1] !== 0xbc) return false;
  const masked = em.subarray(0, emLen - hLen - 1);
  const h = em.subarray(emLen - hLen - 1, emLen - 1);
  const topMask = 0xff >> (8 * emLen - emBits);
  if ((masked[0]! & ~topMask) !== 0) return false;
  const mask = mgf1(hash, h, masked.length);
  const db = Buffer.from(masked.map((b, i) => b ^ mask[i]!));
  db[0]! &= topMask;
  const psLen = emLen - 2 * hLen - 2;
  if (db.subarray(0, psLen).some((b) => b !== 0) || db[psLen] !== 1) return false;
  const salt = db.subarray(psLen + 1);
  const check = createHash(NODE_HASH[hash]).update(Buffer.alloc(8)).update(digest).update(salt).digest();
  return check.equals(h);
}

// ---- ECDSA over a digest ----

interface Curve {
  p: bigint;
  n: bigint;
  gx: bigint;
  gy: bigint;
  /** Byte length of a coordinate. */
  bytes: number;
  /** OpenSSL's name, for ECDH. */
  openssl: string;
}

const curve = (p: string, n: string, g: string, bytes: number, openssl: string): Curve => ({
  p: BigInt(`0x${p}`),
  n: BigInt(`0x${n}`),
  gx: BigInt(`0x${g.slice(0, 2 * bytes)}`),
  gy: BigInt(`0x${g.slice(2 * bytes)}`),
  bytes,
  openssl,
});

/** SEC 2 / FIPS 186-5 domain parameters (a = p - 3 on all three). */
export const CURVES: Readonly<Record<NamedCurve, Curve>> = {
  'P-256': curve(
    'ffffffff00000001000000000000000000000000ffffffffffffffffffffffff',
    'ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551',
    '6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c2964fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5',
    32,
    'prime256v1',
  ),
  'P-384': curve(
    'fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff',
    'ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973',
    'aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab73617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f',
    48,
    'secp384r1',
  ),
  'P-521': curve(
    '01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
    '01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409',
    '00c6858e06b70404e9cd9e3ecb662395b4429c648139053fb521f828af606b4d3dbaa14b5e77efe75928fe1dc127a2ffa8de3348b3c1856a429bf97e7e31c2e5bd66011839296a789a3bc0045c8a5fb42c7d1bd998f54449579b446817afbd17273e662c97ee72995ef42640c550b9013fad0761353c7086a272c24088be94769fd16650',
    66,
    'secp521r1',
  ),
};

const mod = (a: bigint, m: bigint) => ((a % m) + m) % m;

function modPow(base: bigint, exp: bigint, m: bigint): bigint {
  let result = 1n;
  let b = mod(base, m);
  for (let e = exp; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % m;
    b = (b * b) % m;
  }
  return result;
}

/** m prime (the curve order and field prime are). */
export const modInverse = (a: bigint, m: bigint) => modPow(a, m - 2n, m);

export const bytesToBigInt = (b: Uint8Array) => (b.length === 0 ? 0n : BigInt(`0x${Buffer.from(b).toString('hex')}`));

export function bigIntToBytes(v: bigint, length: number): Buffer {
  const hex = v.toString(16).padStart(length * 2, '0');
  return Buffer.from(hex, 'hex');
}

/** The digest as an integer: its leftmost bits, as many as the order has (FIPS 186-5 §6.4.1 step 3). */
export function digestToInteger(c: Curve, digest: Uint8Array): bigint {
  const nBits = c.n.toString(2).length;
  const e = bytesToBigInt(digest);
  const extra = digest.length * 8 - nBits;
  return extra > 0 ? e >> BigInt(extra) : e;
}

type Point = { x: bigint; y: bigint } | null;

function add(c: Curve, P: Point, Q: Point): Point {
  if (!P) return Q;
  if (!Q) return P;
  const { p } = c;
  let l: bigint;
  if (P.x === Q.x) {
    if (mod(P.y + Q.y, p) === 0n) return null;
    l = mod((3n * P.x * P.x - 3n) * modInverse(2n * P.y, p), p);
  } else {
    l = mod((Q.y - P.y) * modInverse(mod(Q.x - P.x, p), p), p);
  }
  const x = mod(l * l - P.x - Q.x, p);
  return { x, y: mod(l * (P.x - x) - P.y, p) };
}

function multiply(c: Curve, k: bigint, P: Point): Point {
  let result: Point = null;
  let addend = P;
  for (let e = k; e > 0n; e >>= 1n) {
    if (e & 1n) result = add(c, result, addend);
    addend = add(c, addend, addend);
  }
  return result;
}

/** (r, s) of a DER Ecdsa-Sig-Value, or undefined when it is not one. */
export function parseEcdsaDer(sig: Uint8Array): { r: bigint; s: bigint } | undefined {
  const b = Buffer.from(sig);
  const len = (at: number): [number, number] | undefined => {
    const first = b[at];
    if (first === undefined) return undefined;
    if (first < 0x80) return [first, at + 1];
    if (first === 0x81 && b[at + 1] !== undefined) return [b[at + 1]!, at + 2];
    return undefined;
  };
  if (b[0] !== 0x30) return undefined;
  const outer = len(1);
  if (!outer || outer[1] + outer[0] !== b.length) return undefined;
  const ints: bigint[] = [];
  let at = outer[1];
  for (let i = 0; i < 2; i++) {
    if (b[at] !== 0x02) return undefined;
    const l = len(at + 1);
    if (!l || l[0] === 0 || l[1] + l[0] > b.length) return undefined;
    ints.push(bytesToBigInt(b.subarray(l[1], l[1] + l[0])));
    at = l[1] + l[0];
  }
  return at === b.length ? { r: ints[0]!, s: ints[1]! } : undefined;
}

/** ECDSA verification over a digest with an uncompressed point (04 || x || y). */
export function ecdsaVerifyDigest(curveName: NamedCurve, point: Uint8Array, digest: Uint8Array, signature: Uint8Array): boolean {
  const c = CURVES[curveName];
  if (point.length !== 1 + 2 * c.bytes || point[0] !== 4) return false;
  const sig = parseEcdsaDer(signature);
  if (!sig || sig.r <= 0n || sig.r >= c.n || sig.s <= 0n || sig.s >= c.n) return false;
  const Q = { x: bytesToBigInt(point.subarray(1, 1 + c.bytes)), y: bytesToBigInt(point.subarray(1 + c.bytes)) };
  const w = modInverse(sig.s, c.n);
  const e = digestToInteger(c, digest);
  const R = add(c, multiply(c, mod(e * w, c.n), { x: c.gx, y: c.gy }), multiply(c, mod(sig.r * w, c.n), Q));
  return R !== null && mod(R.x, c.n) === sig.r;
}

/**
 * Verifies a signature over a digest with a certificate's public key; false for a malformed or wrong
 * signature or a digest of the wrong length, never throws for them.
 */
export function verifyDigestSignature(key: PublicKeyInfo, scheme: 'ecdsa' | 'rsa-pkcs1' | 'rsa-pss', hash: HashAlgorithm, digest: Uint8Array, signature: Uint8Array): boolean {
  if (digest.length !== DIGEST_BYTES[hash]) return false;
  const publicKey = createPublicKey({ key: Buffer.from(key.spki), format: 'der', type: 'spki' });
  if (scheme === 'ecdsa') {
    if (key.type !== 'ECDSA' || !key.curve) return false;
    const jwk = publicKey.export({ format: 'jwk' });
    const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
    return ecdsaVerifyDigest(key.curve, point, digest, signature);
  }
  if (key.type !== 'RSA' || signature.length !== Math.ceil(key.bits / 8)) return false;
  try {
    if (scheme === 'rsa-pkcs1') return publicDecrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, signature).equals(digestInfo(hash, digest));
    return emsaPssVerify(hash, digest, publicDecrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, signature), key.bits);
  } catch {
    return false;
  }
}
