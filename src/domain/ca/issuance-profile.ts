import { invalid } from '../errors.ts';
import type { KeyType } from '../ports/key-engine.ts';
import { checkValidity, type Validity } from './duration.ts';
import { checkExpiryDeltas, type ExpiryDeltas } from './expiry-deltas.ts';
import type { Subject } from './subject.ts';

/** Key usage bits (RFC 5280 4.2.1.3) in Lamassu's spelling; the index is the bit number. */
export const KEY_USAGES = [
  'DigitalSignature',
  'ContentCommitment',
  'KeyEncipherment',
  'DataEncipherment',
  'KeyAgreement',
  'CertSign',
  'CRLSign',
  'EncipherOnly',
  'DecipherOnly',
] as const;
export type KeyUsage = (typeof KEY_USAGES)[number];

/** Extended key usages in Lamassu's spelling, with their OIDs. */
export const EXTENDED_KEY_USAGES = {
  Any: '2.5.29.37.0',
  ServerAuth: '1.3.6.1.5.5.7.3.1',
  ClientAuth: '1.3.6.1.5.5.7.3.2',
  CodeSigning: '1.3.6.1.5.5.7.3.3',
  EmailProtection: '1.3.6.1.5.5.7.3.4',
  TimeStamping: '1.3.6.1.5.5.7.3.8',
  OCSPSigning: '1.3.6.1.5.5.7.3.9',
} as const;
export type ExtendedKeyUsage = keyof typeof EXTENDED_KEY_USAGES;

export interface CryptoEnforcement {
  enabled: boolean;
  allowRsaKeys: boolean;
  allowedRsaKeySizes: number[];
  allowEcdsaKeys: boolean;
  /** Curve sizes: 256, 384, 521. */
  allowedEcdsaKeySizes: number[];
  allowEd25519Keys: boolean;
}

/** How a CA turns a request into a certificate. Each `honor*` flag keeps what the CSR asks for. */
export interface IssuanceSettings {
  validity: Validity;
  signAsCa: boolean;
  /** Only with signAsCa; absent means no path length constraint. */
  pathLength?: number;
  honorKeyUsage: boolean;
  keyUsage: KeyUsage[];
  honorExtendedKeyUsages: boolean;
  extendedKeyUsages: ExtendedKeyUsage[];
  honorSubject: boolean;
  /** Attributes that replace the CSR's when honorSubject is false; an empty common_name keeps the CSR's. */
  subject?: Subject;
  /** Copy the CSR's subjectAltName. */
  honorExtensions: boolean;
  /** Proof of possession; only legacy devices that sign their CSR wrongly need this off. */
  verifyCsrSignature: boolean;
  cryptoEnforcement: CryptoEnforcement;
  /** Expiration deltas for the certificates issued under it, over the CA's; absent or null: the CA's. */
  expirationDeltas?: ExpiryDeltas | null;
}

export interface IssuanceProfile extends IssuanceSettings {
  id: string;
  name: string;
  description: string;
  createdAt: Date;
  updatedAt: Date;
}

/** What a CA uses when it has no profile of its own: one year, honour the CSR, any key. */
export const DEFAULT_ISSUANCE_SETTINGS: IssuanceSettings = {
  validity: { type: 'Duration', duration: '1y' },
  signAsCa: false,
  honorKeyUsage: false,
  keyUsage: ['DigitalSignature', 'KeyEncipherment'],
  honorExtendedKeyUsages: false,
  extendedKeyUsages: ['ClientAuth'],
  honorSubject: true,
  honorExtensions: true,
  verifyCsrSignature: true,
  cryptoEnforcement: {
    enabled: false,
    allowRsaKeys: true,
    allowedRsaKeySizes: [],
    allowEcdsaKeys: true,
    allowedEcdsaKeySizes: [],
    allowEd25519Keys: true,
  },
};

/** Rejects settings that could never issue a sane certificate. */
export function checkIssuanceSettings(s: IssuanceSettings): void {
  checkValidity(s.validity);
  if (s.expirationDeltas) checkExpiryDeltas(s.expirationDeltas);
  for (const ku of s.keyUsage) {
    if (!(KEY_USAGES as readonly string[]).includes(ku)) throw invalid('PROFILE_INVALID', `unknown key usage "${ku}"`);
  }
  for (const eku of s.extendedKeyUsages) {
    if (!Object.hasOwn(EXTENDED_KEY_USAGES, eku)) throw invalid('PROFILE_INVALID', `unknown extended key usage "${eku}"`);
  }
  if (s.pathLength !== undefined) {
    if (!s.signAsCa) throw invalid('PROFILE_INVALID', 'path length needs sign_as_ca');
    if (!Number.isInteger(s.pathLength) || s.pathLength < 0) throw invalid('PROFILE_INVALID', 'path length must be >= 0');
  }
}

/** Crypto enforcement: throws CSR_KEY_NOT_ALLOWED (400) when the profile does not accept this key. */
export function checkKeyAllowed(e: CryptoEnforcement, type: KeyType, bits: number): void {
  if (!e.enabled) return;
  const refuse = () => invalid('CSR_KEY_NOT_ALLOWED', `the profile does not accept ${type} ${bits}-bit keys`, { type, bits });
  if (type === 'RSA') {
    if (!e.allowRsaKeys) throw refuse();
    if (e.allowedRsaKeySizes.length > 0 && !e.allowedRsaKeySizes.includes(bits)) throw refuse();
  } else if (type === 'ECDSA') {
    if (!e.allowEcdsaKeys) throw refuse();
    if (e.allowedEcdsaKeySizes.length > 0 && !e.allowedEcdsaKeySizes.includes(bits)) throw refuse();
  } else if (!e.allowEd25519Keys) throw refuse();
}
