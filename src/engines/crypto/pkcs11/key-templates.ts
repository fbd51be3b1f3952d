/**
 * Object templates: what a generated or imported key pair looks like on the token. Private
 * keys are token objects, private, sensitive and never extractable.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import type { KeySpec } from '../../../domain/ports/key-engine.ts';
import { CKK_EC_EDWARDS, CKM_EC_EDWARDS_KEY_PAIR_GEN } from './mechanisms.ts';
import { curveFor, curves, type Curve, wrapEcPoint } from './public-key.ts';

const RSA_PUBLIC_EXPONENT = Buffer.from([0x01, 0x00, 0x01]);

const privateKeyBase = (keyType: number): pkcs11js.Template => [
  { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
  { type: pkcs11js.CKA_KEY_TYPE, value: keyType },
  { type: pkcs11js.CKA_TOKEN, value: true },
  { type: pkcs11js.CKA_PRIVATE, value: true },
  { type: pkcs11js.CKA_SENSITIVE, value: true },
  { type: pkcs11js.CKA_EXTRACTABLE, value: false },
  { type: pkcs11js.CKA_SIGN, value: true },
];

const publicKeyBase = (keyType: number): pkcs11js.Template => [
  { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
  { type: pkcs11js.CKA_KEY_TYPE, value: keyType },
  { type: pkcs11js.CKA_TOKEN, value: true },
  { type: pkcs11js.CKA_PRIVATE, value: false },
  { type: pkcs11js.CKA_VERIFY, value: true },
];

export interface GenerationTemplates {
  mechanism: pkcs11js.Mechanism;
  publicKey: pkcs11js.Template;
  privateKey: pkcs11js.Template;
}

/** `spec` must already be one the engine offers. */
export function generationTemplates(spec: KeySpec): GenerationTemplates {
  if (spec.type === 'RSA') {
    return {
      mechanism: { mechanism: pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN },
      publicKey: [
        ...publicKeyBase(pkcs11js.CKK_RSA),
        { type: pkcs11js.CKA_MODULUS_BITS, value: spec.bits },
        { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: RSA_PUBLIC_EXPONENT },
      ],
      privateKey: privateKeyBase(pkcs11js.CKK_RSA),
    };
  }
  const curve = curveFor(spec.type, spec.bits) as Curve;
  const edwards = curve.type === 'ED25519';
  const keyType = edwards ? CKK_EC_EDWARDS : pkcs11js.CKK_EC;
  return {
    mechanism: { mechanism: edwards ? CKM_EC_EDWARDS_KEY_PAIR_GEN : pkcs11js.CKM_EC_KEY_PAIR_GEN },
    publicKey: [...publicKeyBase(keyType), { type: pkcs11js.CKA_EC_PARAMS, value: curve.params }],
    privateKey: privateKeyBase(keyType),
  };
}

export interface ImportTemplates {
  spec: KeySpec;
  publicKey: pkcs11js.Template;
  privateKey: pkcs11js.Template;
}

const fromB64u = (s: string | undefined) => Buffer.from(s ?? '', 'base64url');

/**
 * Splits a parsed private key into the attributes of its two PKCS#11 objects; undefined for a
 * key type or curve Lamassu does not use.
 */
export function importTemplates(key: KeyObject): ImportTemplates | undefined {
  const type = key.asymmetricKeyType;
  if (type !== 'rsa' && type !== 'ec' && type !== 'ed25519') return undefined;
  const jwk = key.export({ format: 'jwk' });
  if (type === 'rsa') {
    const modulus = fromB64u(jwk.n);
    const exponent = fromB64u(jwk.e);
    const bits = createPublicKey(key).asymmetricKeyDetails?.modulusLength ?? modulus.length * 8;
    return {
      spec: { type: 'RSA', bits },
      publicKey: [
        ...publicKeyBase(pkcs11js.CKK_RSA),
        { type: pkcs11js.CKA_MODULUS, value: modulus },
        { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: exponent },
      ],
      privateKey: [
        ...privateKeyBase(pkcs11js.CKK_RSA),
        { type: pkcs11js.CKA_MODULUS, value: modulus },
        { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: exponent },
        { type: pkcs11js.CKA_PRIVATE_EXPONENT, value: fromB64u(jwk.d) },
        { type: pkcs11js.CKA_PRIME_1, value: fromB64u(jwk.p) },
        { type: pkcs11js.CKA_PRIME_2, value: fromB64u(jwk.q) },
        { type: pkcs11js.CKA_EXPONENT_1, value: fromB64u(jwk.dp) },
        { type: pkcs11js.CKA_EXPONENT_2, value: fromB64u(jwk.dq) },
        { type: pkcs11js.CKA_COEFFICIENT, value: fromB64u(jwk.qi) },
      ],
    };
  }
  const curve = curves.find((c) => c.jwk === jwk.crv && (type === 'ec' || type === 'ed25519'));
  if (!curve) return undefined;
  const point =
    curve.type === 'ED25519' ? fromB64u(jwk.x) : Buffer.concat([Buffer.from([0x04]), fromB64u(jwk.x), fromB64u(jwk.y)]);
  const keyType = curve.type === 'ED25519' ? CKK_EC_EDWARDS : pkcs11js.CKK_EC;
  return {
    spec: { type: curve.type, bits: curve.bits },
    publicKey: [
      ...publicKeyBase(keyType),
      { type: pkcs11js.CKA_EC_PARAMS, value: curve.params },
      { type: pkcs11js.CKA_EC_POINT, value: wrapEcPoint(point) },
    ],
    privateKey: [
      ...privateKeyBase(keyType),
      { type: pkcs11js.CKA_EC_PARAMS, value: curve.params },
      { type: pkcs11js.CKA_VALUE, value: fromB64u(jwk.d) },
    ],
  };
}
