/**
 * The optional native ECDSA verifier (native/ec-verify, built by `npm install` when a C toolchain is
 * there). It verifies with a key seen once for ~1/3 of the CPU of Node 20's routes, which must first load
 * the key through OpenSSL 3's decoder or a full key check (BENCHMARKS.md, "X.509 issuance hot path").
 * Absent, unloadable, or switched off (native-addon.ts): callers use node:crypto instead.
 */
import type { HashAlgorithm } from '../domain/ports/key-engine.ts';
import { loadNativeAddon, NATIVE_CURVE_CODE } from './native-addon.ts';
import type { NamedCurve } from './public-key.ts';

interface EcVerifyAddon {
  verify(curve: number, hash: number, point: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean;
}

export type NativeEcVerify = (curve: NamedCurve, hash: HashAlgorithm | 'SHA-224', point: Uint8Array, data: Uint8Array, signature: Uint8Array) => boolean;

const HASH_CODE: Record<HashAlgorithm | 'SHA-224', number> = { 'SHA-224': 0, 'SHA-256': 1, 'SHA-384': 2, 'SHA-512': 3 };

let loaded: NativeEcVerify | null | undefined;
let loadError: string | undefined;

function load(): NativeEcVerify | null {
  const { addon, reason } = loadNativeAddon<EcVerifyAddon>('ec-verify');
  if (!addon) {
    loadError = reason;
    return null;
  }
  return (curve, hash, point, data, signature) => addon.verify(NATIVE_CURVE_CODE[curve], HASH_CODE[hash], point, data, signature);
}

/** The native verifier, or undefined when it is not built, cannot load, or is switched off. */
export function nativeEcVerify(): NativeEcVerify | undefined {
  if (loaded === undefined) loaded = load();
  return loaded ?? undefined;
}

/** Why nativeEcVerify() is undefined (for the start-up log), or undefined when it is available. */
export function nativeEcVerifyUnavailableReason(): string | undefined {
  return nativeEcVerify() ? undefined : loadError;
}
