/**
 * EST CSR attributes (RFC 7030 4.5.2, clarified by RFC 9908 3.2): CsrAttrs ::= SEQUENCE OF AttrOrOID, where
 * AttrOrOID is a bare OID (an attribute the CSR should carry, or the signature algorithm to use) or an
 * Attribute { type, values SET OF }. The key the CSR should hold is one Attribute whose type names the key
 * algorithm and whose value gives its parameter: the named curve for EC (`{ id-ecPublicKey, { secp384r1 } }`),
 * the modulus length for RSA (`{ rsaEncryption, { 4096 } }`). Ed25519 has no parameter, so it is named by its
 * OID alone, which is also its signature algorithm.
 */
import type { KeySpec } from '../domain/ports/key-engine.ts';
import { oid, sequence, setOf, smallInteger } from './der.ts';

export const CsrAttributeOid = {
  challengePassword: '1.2.840.113549.1.9.7',
  serialNumber: '2.5.4.5',
  ecPublicKey: '1.2.840.10045.2.1',
  rsaEncryption: '1.2.840.113549.1.1.1',
  ed25519: '1.3.101.112',
} as const;

const CURVE_OIDS: Record<number, string> = { 256: '1.2.840.10045.3.1.7', 384: '1.3.132.0.34', 521: '1.3.132.0.35' };
/** The ECDSA hash that matches each curve's strength (SHA-512 for P-521, as RFC 5480 pairs them). */
const ECDSA_SIGNATURES: Record<number, string> = { 256: '1.2.840.10045.4.3.2', 384: '1.2.840.10045.4.3.3', 521: '1.2.840.10045.4.3.4' };
const SHA256_WITH_RSA = '1.2.840.113549.1.1.11';

export interface CsrAttributesRequest {
  /** Attributes the CSR should carry, by OID (challengePassword, a subject attribute like serialNumber ...). */
  oids: readonly string[];
  /** The key the CSR should hold; its signature algorithm follows from it. */
  key?: KeySpec | undefined;
}

const attribute = (type: string, ...values: Uint8Array[]) => sequence(oid(type), setOf(values));

/** The AttrOrOID elements that ask for `key` and the signature algorithm to sign the CSR with. */
function keyAndSignature(key: KeySpec): Uint8Array[] {
  switch (key.type) {
    case 'ECDSA': {
      const curve = CURVE_OIDS[key.bits];
      if (!curve) throw new RangeError(`no named curve of ${key.bits} bits`);
      return [attribute(CsrAttributeOid.ecPublicKey, oid(curve)), oid(ECDSA_SIGNATURES[key.bits]!)];
    }
    case 'RSA':
      return [attribute(CsrAttributeOid.rsaEncryption, smallInteger(key.bits)), oid(SHA256_WITH_RSA)];
    case 'ED25519':
      return [oid(CsrAttributeOid.ed25519)];
  }
}

/** CsrAttrs DER; nothing to ask is an empty SEQUENCE (RFC 7030 4.5.2). */
export function encodeCsrAttrs(request: CsrAttributesRequest): Uint8Array {
  return sequence(...request.oids.map((o) => oid(o)), ...(request.key ? keyAndSignature(request.key) : []));
}
