/**
 * Certificate issuance without an object model: everything constant for one (CA, profile) pair is
 * encoded once into a template; each certificate then costs a few concatenations plus the signature.
 */
import { getRandomValues } from 'node:crypto';
import { bitString, concat, explicit, readRoot, sequence, smallInteger, time, unsignedInteger } from './der.ts';
import {
  authorityInfoAccessValue,
  authorityKeyIdentifierValue,
  basicConstraintsValue,
  crlDistributionPointsValue,
  extendedKeyUsageValue,
  extension,
  ExtensionOid,
  keyUsageValue,
  subjectKeyIdentifierValue,
  type BasicConstraints,
  type KeyUsage,
} from './extensions.ts';
import { algorithmIdentifier, type SignatureAlgorithm, type X509Signer } from './signer.ts';

export interface CertificateTemplateOptions {
  /** The CA certificate's subject Name DER, copied verbatim as issuer (RFC 5280 name chaining is bytewise in practice). */
  issuerName: Uint8Array;
  /** The CA's subject key identifier, written as the AuthorityKeyIdentifier keyIdentifier. Omit for self-signed roots without SKI. */
  issuerKeyIdentifier?: Uint8Array;
  /** The CA key's signature algorithm (signatureAlgorithmFor). */
  signatureAlgorithm: SignatureAlgorithm;
  /** Omit for end-entity certificates without the extension; CA certificates are marked critical (RFC 5280 4.2.1.9). */
  basicConstraints?: BasicConstraints;
  /** Always critical. Empty or omitted: no extension. */
  keyUsage?: readonly KeyUsage[];
  /** EKU names (serverAuth, clientAuth ...) or dotted OIDs. Empty or omitted: no extension. */
  extendedKeyUsage?: readonly string[];
  /** CRL URLs, one DistributionPoint listing them all (several VA base URLs allowed). */
  crlDistributionPoints?: readonly string[];
  /** AIA id-ad-ocsp URLs. */
  ocspUrls?: readonly string[];
  /** AIA id-ad-caIssuers URLs. */
  caIssuersUrls?: readonly string[];
  /** id-pkix-ocsp-nocheck (RFC 6960 4.2.2.2.1), for delegated OCSP responder certificates. */
  ocspNoCheck?: boolean;
}

/** id-pkix-ocsp-nocheck with its NULL value. */
const OCSP_NO_CHECK = extension('1.3.6.1.5.5.7.48.1.5', false, Uint8Array.of(0x05, 0x00));

export interface TbsInput {
  /** Serial magnitude, big-endian, 1..20 bytes, not all zero (see randomSerialNumber). */
  serialNumber: Uint8Array;
  /** Truncated to whole seconds by the encoder. */
  notBefore: Date;
  notAfter: Date;
  /** Subject Name DER, verbatim (from the CSR or buildName). */
  subjectName: Uint8Array;
  /** SubjectPublicKeyInfo DER, verbatim (from the CSR). */
  spki: Uint8Array;
  /** subjectKeyIdentifier(parsePublicKey(spki)); omitted: no SKI extension. */
  subjectKeyIdentifier?: Uint8Array;
  /** GeneralNames DER (e.g. ParsedCsr.extensions.subjectAltName). Critical when the subject is empty (RFC 5280 4.2.1.6). */
  subjectAltName?: Uint8Array;
  /** Per-certificate replacements for the template's usages (an empty list drops the extension). */
  keyUsage?: readonly KeyUsage[];
  extendedKeyUsage?: readonly string[];
}

export interface CertificateTemplate {
  readonly signatureAlgorithm: SignatureAlgorithm;
  /** The TBSCertificate DER to sign. Throws RangeError for a bad serial, an empty window or a non-DER name/key. */
  tbs(input: TbsInput): Uint8Array;
}

const V3 = explicit(0, smallInteger(2));
const EMPTY_NAME = Uint8Array.of(0x30, 0x00);

/** Builds the per-(CA, profile) template. Throws RangeError for an unknown usage name or a non-ASCII URL. */
export function createCertificateTemplate(opts: CertificateTemplateOptions): CertificateTemplate {
  assertElement(opts.issuerName, 'issuerName');
  const algorithm = algorithmIdentifier(opts.signatureAlgorithm);
  const issuerAndAlg = concat([algorithm, opts.issuerName]);
  const bc = opts.basicConstraints
    ? extension(ExtensionOid.basicConstraints, opts.basicConstraints.ca, basicConstraintsValue(opts.basicConstraints))
    : undefined;
  const ku = keyUsageExtension(opts.keyUsage);
  const eku = extendedKeyUsageExtension(opts.extendedKeyUsage);
  // Extension order: BC, KU, EKU, SKI, AKI, SAN, CDP, AIA; only SKI and SAN (and overrides) vary per certificate.
  const aki = opts.issuerKeyIdentifier
    ? extension(ExtensionOid.authorityKeyIdentifier, false, authorityKeyIdentifierValue(opts.issuerKeyIdentifier))
    : undefined;
  const tail = concat(
    [
      opts.crlDistributionPoints?.length ? extension(ExtensionOid.crlDistributionPoints, false, crlDistributionPointsValue(opts.crlDistributionPoints)) : undefined,
      opts.ocspUrls?.length || opts.caIssuersUrls?.length
        ? extension(ExtensionOid.authorityInfoAccess, false, authorityInfoAccessValue(opts.ocspUrls ?? [], opts.caIssuersUrls ?? []))
        : undefined,
      opts.ocspNoCheck ? OCSP_NO_CHECK : undefined,
    ].filter((x): x is Uint8Array => x !== undefined),
  );

  return {
    signatureAlgorithm: opts.signatureAlgorithm,
    tbs(input: TbsInput): Uint8Array {
      const serial = input.serialNumber;
      if (serial.length === 0 || serial.length > 20 || serial.every((b) => b === 0)) throw new RangeError('serial number must be 1..20 bytes, not zero');
      const notBefore = wholeSeconds(input.notBefore);
      const notAfter = wholeSeconds(input.notAfter);
      if (!(notAfter >= notBefore)) throw new RangeError('notAfter is before notBefore');
      assertElement(input.subjectName, 'subjectName');
      assertElement(input.spki, 'spki');

      const exts: Uint8Array[] = [];
      if (bc) exts.push(bc);
      const k = input.keyUsage ? keyUsageExtension(input.keyUsage) : ku;
      if (k) exts.push(k);
      const e = input.extendedKeyUsage ? extendedKeyUsageExtension(input.extendedKeyUsage) : eku;
      if (e) exts.push(e);
      if (input.subjectKeyIdentifier) exts.push(extension(ExtensionOid.subjectKeyIdentifier, false, subjectKeyIdentifierValue(input.subjectKeyIdentifier)));
      if (aki) exts.push(aki);
      if (input.subjectAltName) {
        assertElement(input.subjectAltName, 'subjectAltName');
        exts.push(extension(ExtensionOid.subjectAltName, sameBytes(input.subjectName, EMPTY_NAME), input.subjectAltName));
      }
      if (tail.length) exts.push(tail);

      return sequence(
        V3,
        unsignedInteger(serial),
        issuerAndAlg,
        sequence(time(notBefore), time(notAfter)),
        input.subjectName,
        input.spki,
        ...(exts.length ? [explicit(3, sequence(...exts))] : []),
      );
    },
  };
}

/** Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING } */
export function assembleCertificate(tbs: Uint8Array, algorithm: SignatureAlgorithm, signature: Uint8Array): Uint8Array {
  return sequence(tbs, algorithmIdentifier(algorithm), bitString(signature));
}

/** 16 CSPRNG bytes with the top bit cleared: positive, 127 bits of entropy (CA/B Forum asks >= 64). */
export function randomSerialNumber(): Uint8Array {
  const serial = getRandomValues(new Uint8Array(16));
  serial[0]! &= 0x7f;
  // An all-zero serial is forbidden; one in 2^127, but cheap to rule out.
  if (serial.every((b) => b === 0)) serial[15] = 1;
  return serial;
}

function keyUsageExtension(usages: readonly KeyUsage[] | undefined): Uint8Array | undefined {
  return usages?.length ? extension(ExtensionOid.keyUsage, true, keyUsageValue(usages)) : undefined;
}

function extendedKeyUsageExtension(usages: readonly string[] | undefined): Uint8Array | undefined {
  return usages?.length ? extension(ExtensionOid.extendedKeyUsage, false, extendedKeyUsageValue(usages)) : undefined;
}

const wholeSeconds = (d: Date) => new Date(Math.floor(d.getTime() / 1000) * 1000);

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Verbatim inputs must be exactly one DER element, or the certificate would be garbage. */
function assertElement(der: Uint8Array, what: string): void {
  try {
    readRoot(der);
  } catch {
    throw new RangeError(`${what} is not a single DER element`);
  }
}

/** tbs, sign, assemble: the whole issuance for one certificate. The signer must use the template's algorithm. */
export async function signCertificate(template: CertificateTemplate, signer: X509Signer, input: TbsInput): Promise<Uint8Array> {
  if (signer.algorithm !== template.signatureAlgorithm) {
    throw new RangeError(`signer uses ${signer.algorithm}, template expects ${template.signatureAlgorithm}`);
  }
  const tbs = template.tbs(input);
  return assembleCertificate(tbs, template.signatureAlgorithm, await signer.sign(tbs));
}
