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
import { checkDigestLength, digestInfo, emsaPssEncode } from '../../x509/digest-signature.ts';
import type { NamedCurve } from '../../x509/public-key.ts';
import { signEcdsaDigest } from './ecdsa-digest-sign.ts';
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
  const data = req.data;
  if (key.info.type === 'ED25519') {
    if (req.prehashed) throw signAlgorithmUnsupported(engineId, 'Ed25519 over a digest');
    return new Uint8Array(cryptoSign(null, data, key.privateKey));
  }
  const hashName = req.hash ?? 'SHA-256';
  if (!Object.hasOwn(NODE_HASH, hashName)) throw signAlgorithmUnsupported(engineId, `hash ${hashName}`);
  if (req.prehashed) return signDigestWithSoftwareKey(engineId, key, hashName, data, req.rsaPadding ?? 'pkcs1');
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

const CURVE_OF_BITS: Record<number, NamedCurve> = { 256: 'P-256', 384: 'P-384', 521: 'P-521' };

/**
 * Signs a digest (SignRequest.prehashed). RSA: the private-key operation over the DigestInfo (PKCS#1
 * v1.5 type-1 padding) or over the EMSA-PSS encoding (no padding). ECDSA: ecdsa-digest-sign.ts.
 */
function signDigestWithSoftwareKey(engineId: string, key: SoftwareKey, hash: HashAlgorithm, digest: Uint8Array, padding: string): Uint8Array {
  checkDigestLength(hash, digest);
  if (key.info.type === 'RSA') {
    if (padding === 'pkcs1') return new Uint8Array(privateEncrypt({ key: key.privateKey, padding: constants.RSA_PKCS1_PADDING }, digestInfo(hash, digest)));
    if (padding === 'pss') return new Uint8Array(privateEncrypt({ key: key.privateKey, padding: constants.RSA_NO_PADDING }, emsaPssEncode(hash, digest, key.info.bits)));
    throw signAlgorithmUnsupported(engineId, `RSA padding ${padding}`);
  }
  const d = Buffer.from(key.privateKey.export({ format: 'jwk' }).d!, 'base64url');
  try {
    return signEcdsaDigest(CURVE_OF_BITS[key.info.bits]!, digest, d);
  } finally {
    d.fill(0);
  }
}
