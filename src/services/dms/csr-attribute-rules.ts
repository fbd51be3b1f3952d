/**
 * What EST csrattrs asks of a CSR (RFC 7030 4.5): the attributes the DMS needs and one key that the issuance
 * profile's crypto enforcement accepts (RFC 9908 3.2 names exactly one), so that a client that follows the
 * answer is never refused for its key.
 */
import { checkKeyAllowed, type CryptoEnforcement } from '../../domain/ca/issuance-profile.ts';
import { isDomainError } from '../../domain/errors.ts';
import type { KeySpec } from '../../domain/ports/key-engine.ts';
import { RSA_MAX_BITS, RSA_MIN_BITS } from '../../x509/public-key.ts';

/** Keys in the order we would rather see them: small and fast first (what constrained devices do best). */
const PREFERENCE: readonly KeySpec[] = [
  { type: 'ECDSA', bits: 256 },
  { type: 'ECDSA', bits: 384 },
  { type: 'ECDSA', bits: 521 },
  { type: 'RSA', bits: 2048 },
  { type: 'RSA', bits: 3072 },
  { type: 'RSA', bits: 4096 },
  { type: 'ED25519', bits: 256 },
];

function accepted(e: CryptoEnforcement, spec: KeySpec): boolean {
  if (spec.type === 'RSA' && (spec.bits < RSA_MIN_BITS || spec.bits > RSA_MAX_BITS)) return false;
  if (spec.type === 'ECDSA' && ![256, 384, 521].includes(spec.bits)) return false;
  try {
    checkKeyAllowed(e, spec.type, spec.bits);
    return true;
  } catch (err) {
    if (isDomainError(err)) return false;
    throw err;
  }
}

/**
 * The key to announce: `preferred` (the DMS's own choice, its server-keygen default) when the profile takes
 * it, else the first accepted one in PREFERENCE order, then any other size the profile lists; undefined when
 * the profile accepts no key we can issue for (then nothing is announced and enrollment will say why).
 */
export function announcedKey(e: CryptoEnforcement, preferred?: KeySpec): KeySpec | undefined {
  const listed: KeySpec[] = [
    ...e.allowedEcdsaKeySizes.map((bits) => ({ type: 'ECDSA' as const, bits })),
    ...e.allowedRsaKeySizes.map((bits) => ({ type: 'RSA' as const, bits })),
  ];
  return [...(preferred ? [preferred] : []), ...PREFERENCE, ...listed].find((spec) => accepted(e, spec));
}
