/**
 * PKCS#11 mechanisms and object templates for the key types of the port. Constants missing
 * from pkcs11js (PKCS#11 3.0 Edwards curves) are spelled out here.
 */
import { createHash } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import type { HashAlgorithm, KeyInfo, SignRequest } from '../../../domain/ports/key-engine.ts';
import { digestInfo } from '../../../x509/digest-signature.ts';
import { signAlgorithmUnsupported } from '../key-errors.ts';
import { ecdsaRawToDer } from './ecdsa-signature.ts';

export const CKK_EC_EDWARDS = 0x40;
export const CKM_EC_EDWARDS_KEY_PAIR_GEN = 0x1055;
export const CKM_EDDSA = 0x1057;

const hashes: Record<HashAlgorithm, { node: string; bytes: number; pkcs1: number; pss: number; ckm: number; mgf: number }> = {
  'SHA-256': {
    node: 'sha256',
    bytes: 32,
    pkcs1: pkcs11js.CKM_SHA256_RSA_PKCS,
    pss: pkcs11js.CKM_SHA256_RSA_PKCS_PSS,
    ckm: pkcs11js.CKM_SHA256,
    mgf: pkcs11js.CKG_MGF1_SHA256,
  },
  'SHA-384': {
    node: 'sha384',
    bytes: 48,
    pkcs1: pkcs11js.CKM_SHA384_RSA_PKCS,
    pss: pkcs11js.CKM_SHA384_RSA_PKCS_PSS,
    ckm: pkcs11js.CKM_SHA384,
    mgf: pkcs11js.CKG_MGF1_SHA384,
  },
  'SHA-512': {
    node: 'sha512',
    bytes: 64,
    pkcs1: pkcs11js.CKM_SHA512_RSA_PKCS,
    pss: pkcs11js.CKM_SHA512_RSA_PKCS_PSS,
    ckm: pkcs11js.CKM_SHA512,
    mgf: pkcs11js.CKG_MGF1_SHA512,
  },
};

/** How one signature is made: what goes into C_Sign, how big the answer is, how to encode it. */
export interface SignPlan {
  mechanism: pkcs11js.Mechanism;
  input: Buffer;
  outputLength: number;
  encode(raw: Buffer): Uint8Array;
}

/** `offered`: the mechanisms the token lists, so a missing one is a clear error, not a CKR code. */
export function signPlan(key: KeyInfo, req: SignRequest, offered: ReadonlySet<number>): SignPlan {
  const plan = build(key, req);
  if (!offered.has(plan.mechanism.mechanism)) {
    throw signAlgorithmUnsupported(key.engineId, `PKCS#11 mechanism 0x${plan.mechanism.mechanism.toString(16)}`);
  }
  return plan;
}

function build(key: KeyInfo, req: SignRequest): SignPlan {
  const input = Buffer.from(req.data.buffer, req.data.byteOffset, req.data.byteLength);
  if (key.type === 'ED25519') {
    if (req.prehashed) throw signAlgorithmUnsupported(key.engineId, 'Ed25519 over a digest');
    return { mechanism: { mechanism: CKM_EDDSA }, input, outputLength: 64, encode: (raw) => new Uint8Array(raw) };
  }
  const hashName = req.hash ?? 'SHA-256';
  const hash = Object.hasOwn(hashes, hashName) ? hashes[hashName] : undefined;
  if (!hash) throw signAlgorithmUnsupported(key.engineId, `hash ${String(hashName)}`);
  if (req.prehashed && input.length !== hash.bytes) throw signAlgorithmUnsupported(key.engineId, `a ${input.length}-byte digest as ${hashName}`);
  if (key.type === 'ECDSA') {
    // The token signs a digest computed here: cheaper than streaming the message to it.
    return {
      mechanism: { mechanism: pkcs11js.CKM_ECDSA },
      input: req.prehashed ? input : createHash(hash.node).update(input).digest(),
      outputLength: 2 * Math.ceil(key.bits / 8),
      encode: ecdsaRawToDer,
    };
  }
  const outputLength = Math.ceil(key.bits / 8);
  const encode = (raw: Buffer) => new Uint8Array(raw);
  if (req.rsaPadding !== undefined && req.rsaPadding !== 'pkcs1' && req.rsaPadding !== 'pss') {
    throw signAlgorithmUnsupported(key.engineId, `RSA padding ${String(req.rsaPadding)}`);
  }
  if (req.rsaPadding === 'pss') {
    const parameter: pkcs11js.RsaPSS = { type: pkcs11js.CK_PARAMS_RSA_PSS, hashAlg: hash.ckm, mgf: hash.mgf, saltLen: hash.bytes };
    // Over a digest: the bare mechanisms, which take the hash as input (PSS) or its DigestInfo (PKCS#1).
    return { mechanism: { mechanism: req.prehashed ? pkcs11js.CKM_RSA_PKCS_PSS : hash.pss, parameter }, input, outputLength, encode };
  }
  if (req.prehashed) return { mechanism: { mechanism: pkcs11js.CKM_RSA_PKCS }, input: digestInfo(hashName, input), outputLength, encode };
  return { mechanism: { mechanism: hash.pkcs1 }, input, outputLength, encode };
}
