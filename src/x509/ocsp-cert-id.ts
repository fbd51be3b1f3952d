/**
 * OCSP CertID (RFC 6960 4.1.1): how a client names a certificate, by hashes of its issuer's name
 * and key plus its serial number. The VA computes the issuer hashes once per CA and hash algorithm.
 */
import { createHash } from 'node:crypto';
import { children, expectTag, nullValue, octetString, oid, readRoot, sequence, Tag, unsignedInteger, valueOf } from './der.ts';

export type OcspHashAlgorithm = 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';

export const ocspHashAlgorithms: Readonly<Record<OcspHashAlgorithm, { oid: string; node: string; size: number }>> = {
  'SHA-1': { oid: '1.3.14.3.2.26', node: 'sha1', size: 20 },
  'SHA-256': { oid: '2.16.840.1.101.3.4.2.1', node: 'sha256', size: 32 },
  'SHA-384': { oid: '2.16.840.1.101.3.4.2.2', node: 'sha384', size: 48 },
  'SHA-512': { oid: '2.16.840.1.101.3.4.2.3', node: 'sha512', size: 64 },
};

export const hashAlgorithmForOid = (dotted: string): OcspHashAlgorithm | undefined =>
  (Object.keys(ocspHashAlgorithms) as OcspHashAlgorithm[]).find((h) => ocspHashAlgorithms[h].oid === dotted);

export const digest = (alg: OcspHashAlgorithm, data: Uint8Array): Uint8Array =>
  new Uint8Array(createHash(ocspHashAlgorithms[alg].node).update(data).digest());

/** The subjectPublicKey BIT STRING's bytes (without the unused-bits octet) of a SubjectPublicKeyInfo. */
export function publicKeyBits(spki: Uint8Array): Uint8Array {
  const root = readRoot(spki);
  const [, bits] = children(spki, expectTag(root, Tag.SEQUENCE, 'SubjectPublicKeyInfo'));
  return valueOf(spki, expectTag(bits, Tag.BIT_STRING, 'subjectPublicKey')).subarray(1);
}

/**
 * The issuerNameHash and issuerKeyHash a client puts in a CertID for certificates of this issuer.
 * `issuerName` is the issuer's subject Name DER, `issuerSpki` its SubjectPublicKeyInfo DER.
 */
export function issuerHashes(alg: OcspHashAlgorithm, issuerName: Uint8Array, issuerSpki: Uint8Array) {
  return { issuerNameHash: digest(alg, issuerName), issuerKeyHash: digest(alg, publicKeyBits(issuerSpki)) };
}

/** ResponderID byKey (RFC 6960 4.2.1): SHA-1 of the responder's subjectPublicKey bits. */
export const responderKeyHash = (responderSpki: Uint8Array) => digest('SHA-1', publicKeyBits(responderSpki));

/** A CertID DER, as a client would send it (parameters NULL, as OpenSSL writes them). */
export function encodeCertId(alg: OcspHashAlgorithm, issuerNameHash: Uint8Array, issuerKeyHash: Uint8Array, serial: Uint8Array) {
  return sequence(
    sequence(oid(ocspHashAlgorithms[alg].oid), nullValue()),
    octetString(issuerNameHash),
    octetString(issuerKeyHash),
    unsignedInteger(serial),
  );
}
