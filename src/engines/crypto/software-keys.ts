/**
 * Helpers for engines that hold private keys in software (memory, files, Vault): generation,
 * PKCS#8 import with validation, key ids, and signing with node:crypto in the encodings X.509
 * expects. Engines differ only in where the PKCS#8 bytes live.
 */
import {
  constants,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  privateEncrypt,
  randomBytes,
  sign as cryptoSign,
  verify as cryptoVerify,
  type KeyObject,
} from 'node:crypto';
import { promisify } from 'node:util';
import type {
  HashAlgorithm,
  KeyEngineCapabilities,
  KeyInfo,
  KeySpec,
  KeyType,
  SignRequest,
} from '../../domain/ports/key-engine.ts';
import {
  CURVES,
  curveOf,
  DIGEST_BYTES,
  digestInfo,
  digestInteger,
  ecdsaSignatureDer,
  emsaPssEncode,
  modInverse,
} from '../../x509/digest-signature.ts';
import { keyInvalid, keyTypeUnsupported, signAlgorithmUnsupported } from './key-errors.ts';

const generateKeyPairAsync = promisify(generateKeyPair);
const signAsync = promisify(cryptoSign);

/** A private key held in software, with the public facts engines report about it. */
export interface SoftwareKey {
  info: KeyInfo;
  privateKey: KeyObject;
}

const RSA_SIZES = [2048, 3072, 4096];
const CURVE_BY_BITS: Record<number, string> = { 256: 'prime256v1', 384: 'secp384r1', 521: 'secp521r1' };
const BITS_BY_CURVE: Record<string, number> = { prime256v1: 256, secp384r1: 384, secp521r1: 521 };
const NODE_HASH: Record<HashAlgorithm, string> = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };
const HASH_BYTES: Record<HashAlgorithm, number> = { 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64 };

export const softwareCapabilities = (exportable: boolean): KeyEngineCapabilities => ({
  keyTypes: [
    { type: 'RSA', sizes: [...RSA_SIZES] },
    { type: 'ECDSA', sizes: [256, 384, 521] },
    { type: 'ED25519', sizes: [256] },
  ],
  importable: true,
  exportable,
});

/** Key ids are lowercase hex SHA-256 of the SPKI DER; anything else cannot name a key. */
export const KEY_ID_PATTERN = /^[0-9a-f]{64}$/;
export const isKeyId = (id: unknown): id is string => typeof id === 'string' && KEY_ID_PATTERN.test(id);
export const keyIdOf = (spki: Uint8Array): string => createHash('sha256').update(spki).digest('hex');

function assertSupportedSpec(engineId: string, spec: KeySpec): void {
  const ok =
    (spec?.type === 'RSA' && RSA_SIZES.includes(spec.bits)) ||
    (spec?.type === 'ECDSA' && spec.bits in CURVE_BY_BITS) ||
    (spec?.type === 'ED25519' && spec.bits === 256);
  if (!ok) throw keyTypeUnsupported(engineId, spec ?? {});
}

/** Generates a key pair off the event loop (RSA 4096 takes seconds). */
export async function generateSoftwareKey(engineId: string, spec: KeySpec): Promise<SoftwareKey> {
  assertSupportedSpec(engineId, spec);
  const { privateKey } =
    spec.type === 'RSA'
      ? await generateKeyPairAsync('rsa', { modulusLength: spec.bits })
      : spec.type === 'ECDSA'
        ? await generateKeyPairAsync('ec', { namedCurve: CURVE_BY_BITS[spec.bits] })
        : await generateKeyPairAsync('ed25519');
  return softwareKeyOf(engineId, privateKey);
}

/** Type and size of a key, or KEY_TYPE_UNSUPPORTED for anything outside the standard specs. */
export function describeKey(engineId: string, key: KeyObject): KeySpec {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
      if (details.modulusLength && RSA_SIZES.includes(details.modulusLength)) {
        return { type: 'RSA', bits: details.modulusLength };
      }
      throw keyTypeUnsupported(engineId, { type: 'RSA', bits: details.modulusLength });
    case 'ec': {
      const bits = details.namedCurve ? BITS_BY_CURVE[details.namedCurve] : undefined;
      if (bits) return { type: 'ECDSA', bits };
      throw keyTypeUnsupported(engineId, { type: 'ECDSA', bits: details.namedCurve as unknown as number });
    }
    case 'ed25519':
      return { type: 'ED25519', bits: 256 };
    default:
      throw keyTypeUnsupported(engineId, { type: String(key.asymmetricKeyType).toUpperCase() as KeyType });
  }
}

/** Wraps a private KeyObject with its id, type and SPKI. */
export function softwareKeyOf(engineId: string, privateKey: KeyObject): SoftwareKey {
  const spec = describeKey(engineId, privateKey);
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const publicKeySpki = new Uint8Array(spki);
  return {
    privateKey,
    info: { id: keyIdOf(publicKeySpki), engineId, type: spec.type, bits: spec.bits, publicKeySpki },
  };
}

/**
 * Parses unencrypted PKCS#8 DER. Malformed bytes give KEY_INVALID, keys outside the standard specs
 * KEY_TYPE_UNSUPPORTED. A sign-and-verify round trip catches structurally valid but inconsistent
 * keys (e.g. RSA with mismatched CRT values) before they are stored.
 */
export function importPkcs8(engineId: string, pkcs8: Uint8Array): SoftwareKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: Buffer.from(pkcs8 ?? []), format: 'der', type: 'pkcs8' });
  } catch {
    throw keyInvalid(engineId, 'not a parsable unencrypted PKCS#8 PrivateKeyInfo');
  }
  const key = softwareKeyOf(engineId, privateKey);
  const probe = Buffer.from('lamassu key import self-test');
  const ok = (() => {
    try {
      const hash = key.info.type === 'ED25519' ? null : 'sha256';
      const sig = cryptoSign(hash, probe, privateKey);
      return cryptoVerify(hash, probe, createPublicKey(privateKey), sig);
    } catch {
      return false;
    }
  })();
  if (!ok) throw keyInvalid(engineId, 'the private key fails a signature self-test');
  return key;
}

export const exportPkcs8Der = (key: SoftwareKey): Uint8Array =>
  new Uint8Array(key.privateKey.export({ format: 'der', type: 'pkcs8' }));

/**
 * Signs `req.data`. ECDSA and Ed25519 sign inline (tens of microseconds, a thread hop would cost
 * more); RSA signs on the libuv pool so parallel requests use every core.
 */
export async function signWithSoftwareKey(engineId: string, key: SoftwareKey, req: SignRequest): Promise<Uint8Array> {
  if (req.prehashed) return signDigestWithSoftwareKey(engineId, key, req);
  const data = req.data;
  if (key.info.type === 'ED25519') return new Uint8Array(cryptoSign(null, data, key.privateKey));
  const hashName = req.hash ?? 'SHA-256';
  if (!Object.hasOwn(NODE_HASH, hashName)) throw signAlgorithmUnsupported(engineId, `hash ${hashName}`);
  const hash = NODE_HASH[hashName];
  // On the libuv pool, not the event loop: the loop is what limits issuance (~12 instead of ~40-55 us of its
  // time per P-256 signature, for ~25 us more CPU in all; BENCHMARKS.md, "Issuance vs cfssl").
  if (key.info.type === 'ECDSA') {
    return new Uint8Array(await signAsync(hash, data, { key: key.privateKey, dsaEncoding: 'der' }));
  }
  const padding = req.rsaPadding ?? 'pkcs1';
  if (padding === 'pkcs1') {
    return new Uint8Array(await signAsync(hash, data, { key: key.privateKey, padding: constants.RSA_PKCS1_PADDING }));
  }
  if (padding === 'pss') {
    return new Uint8Array(
      await signAsync(hash, data, {
        key: key.privateKey,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: HASH_BYTES[hashName],
      }),
    );
  }
  throw signAlgorithmUnsupported(engineId, `RSA padding ${String(padding)}`);
}

/** SEC 1 ECPrivateKey without its public point (OpenSSL derives it), for the curve's OID. */
const CURVE_OID_DER: Record<string, string> = {
  'P-256': '06082a8648ce3d030107',
  'P-384': '06052b81040022',
  'P-521': '06052b81040023',
};

function ecPrivateKey(curve: (typeof CURVES)[number], d: bigint): KeyObject {
  const size = Math.ceil(curve.bits / 8);
  const scalar = Buffer.from(d.toString(16).padStart(size * 2, '0'), 'hex');
  const oid = Buffer.from(CURVE_OID_DER[curve.name], 'hex');
  const body = Buffer.concat([Buffer.from([0x02, 0x01, 0x01, 0x04, size]), scalar, Buffer.from([0xa0, oid.length]), oid]);
  const len = body.length < 0x80 ? [body.length] : [0x81, body.length];
  return createPrivateKey({ key: Buffer.concat([Buffer.from([0x30, ...len]), body]), format: 'der', type: 'sec1' });
}

/** A fixed message whose SHA-256 stands in for the caller's digest in the ECDSA signature below. */
const PROBE = Buffer.from('lamassu digest signature');
const PROBE_SHA256 = createHash('sha256').update(PROBE).digest();

/**
 * Signs a digest the caller computed. node:crypto always hashes what it signs, so:
 * - RSA PKCS#1 v1.5: the DigestInfo through the raw private-key operation with type-1 padding;
 * - RSA-PSS: the EMSA-PSS encoding (salt = digest length) through the raw RSA operation;
 * - ECDSA: OpenSSL signs the SHA-256 `h` of a fixed message with the scaled key λ·d, λ = h/e (e the
 *   caller's digest as an integer). Its s' = k⁻¹(h + rλd) = λ·k⁻¹(e + rd), so s = s'/λ is the signature of e
 *   by d with the same r. The nonce stays OpenSSL's; only one multiplication by d is done here.
 */
function signDigestWithSoftwareKey(engineId: string, key: SoftwareKey, req: SignRequest): Uint8Array {
  const hash = req.hash ?? 'SHA-256';
  if (key.info.type === 'ED25519') throw signAlgorithmUnsupported(engineId, 'Ed25519 over a digest');
  if (!Object.hasOwn(NODE_HASH, hash)) throw signAlgorithmUnsupported(engineId, `hash ${hash}`);
  if (req.data.length !== DIGEST_BYTES[hash]) throw signAlgorithmUnsupported(engineId, `a ${req.data.length}-byte digest as ${hash}`);
  if (key.info.type === 'RSA') {
    const padding = req.rsaPadding ?? 'pkcs1';
    if (padding === 'pkcs1') {
      return new Uint8Array(privateEncrypt({ key: key.privateKey, padding: constants.RSA_PKCS1_PADDING }, digestInfo(hash, req.data)));
    }
    if (padding !== 'pss') throw signAlgorithmUnsupported(engineId, `RSA padding ${String(padding)}`);
    const block = emsaPssEncode(hash, req.data, randomBytes(DIGEST_BYTES[hash]), key.info.bits);
    return new Uint8Array(privateEncrypt({ key: key.privateKey, padding: constants.RSA_NO_PADDING }, block));
  }
  const curve = curveOf(key.privateKey);
  if (!curve) throw signAlgorithmUnsupported(engineId, 'this curve over a digest');
  const n = curve.n;
  const e = digestInteger(req.data, curve.bits) % n;
  // e = 0 has no λ; such a digest is no hash output anyone will meet by chance.
  if (e === 0n) throw signAlgorithmUnsupported(engineId, 'a digest that is zero modulo the curve order');
  const lambda = (digestInteger(PROBE_SHA256, curve.bits) * modInverse(e, n)) % n;
  const d = BigInt(`0x${Buffer.from(key.privateKey.export({ format: 'jwk' }).d!, 'base64url').toString('hex')}`);
  const scaled = ecPrivateKey(curve, (lambda * d) % n);
  const raw = cryptoSign('sha256', PROBE, { key: scaled, dsaEncoding: 'ieee-p1363' });
  const size = raw.length / 2;
  const r = BigInt(`0x${raw.subarray(0, size).toString('hex')}`);
  const sPrime = BigInt(`0x${raw.subarray(size).toString('hex')}`);
  return ecdsaSignatureDer(r, (sPrime * modInverse(lambda, n)) % n);
}
