/**
 * A lean X.509 certificate reader: what the CA service needs from certificates it imports or issues,
 * read in one pass over the DER.
 */
import { invalid } from '../domain/errors.ts';
import { children, decodeSmallInteger, decodeTime, DerError, elementOf, expectTag, readRoot, Tag, valueOf, type DerNode } from './der.ts';
import { serialHex } from './serial.ts';
import {
  decodeAuthorityInfoAccess,
  decodeAuthorityKeyIdentifier,
  decodeBasicConstraints,
  decodeCrlDistributionPoints,
  decodeExtendedKeyUsage,
  decodeGeneralNames,
  decodeKeyUsage,
  decodeSubjectKeyIdentifier,
  ExtensionOid,
  readExtensions,
  type BasicConstraints,
  type GeneralNames,
  type KeyUsage,
} from './extensions.ts';
import { decodeName, type NameAttribute, type SubjectFields } from './name.ts';
import { parsePublicKey, UnsupportedKeyError, type PublicKeyInfo } from './public-key.ts';
import { parseSignatureAlgorithm, UnsupportedAlgorithmError, verifySignature, type SignatureAlgorithmInfo } from './signature-verify.ts';

export interface ParsedCertificate {
  der: Uint8Array;
  /** TBSCertificate exactly as received: the signed bytes. */
  tbs: Uint8Array;
  /** 1, 2 or 3. */
  version: number;
  /** Canonical serial spelling (src/x509/serial.ts). */
  serialNumber: string;
  /** Issuer and subject Name DER, verbatim, and decoded. */
  issuerName: Uint8Array;
  issuer: SubjectFields;
  issuerAttributes: NameAttribute[];
  subjectName: Uint8Array;
  subject: SubjectFields;
  subjectAttributes: NameAttribute[];
  notBefore: Date;
  notAfter: Date;
  /** SubjectPublicKeyInfo DER (publicKey.spki) and what we read of it. */
  publicKey: PublicKeyInfo;
  subjectKeyIdentifier?: Uint8Array;
  authorityKeyIdentifier?: Uint8Array;
  basicConstraints?: BasicConstraints;
  keyUsage?: KeyUsage[];
  /** Known purposes by name (serverAuth ...), others as dotted OIDs. */
  extendedKeyUsage?: string[];
  subjectAltNames: GeneralNames;
  crlDistributionPoints: string[];
  ocspUrls: string[];
  caIssuersUrls: string[];
  /** Undefined when the certificate is signed with an algorithm we cannot verify (e.g. SHA-1). */
  signatureAlgorithm?: SignatureAlgorithmInfo;
  signature: Uint8Array;
}

const malformed = (reason: string) => invalid('CERTIFICATE_MALFORMED', `malformed certificate: ${reason}`);

/**
 * Parses a Certificate DER. Throws DomainError CERTIFICATE_MALFORMED (bad DER or structure, duplicate
 * extension, mismatched signature algorithms) or CERTIFICATE_KEY_UNSUPPORTED (key outside the types we issue for).
 */
export function parseCertificate(der: Uint8Array): ParsedCertificate {
  try {
    return readCertificate(der);
  } catch (e) {
    if (e instanceof UnsupportedKeyError) throw invalid('CERTIFICATE_KEY_UNSUPPORTED', e.message);
    if (e instanceof DerError) throw malformed(e.message);
    throw e;
  }
}

function readCertificate(der: Uint8Array): ParsedCertificate {
  const [tbsNode, algNode, sigNode, extra] = children(der, expectTag(readRoot(der), Tag.SEQUENCE, 'Certificate'));
  if (extra) throw new DerError('trailing fields in Certificate');
  const fields = children(der, expectTag(tbsNode, Tag.SEQUENCE, 'TBSCertificate'));
  let i = 0;
  let version = 1;
  if (fields[i]?.tag === 0xa0) {
    const v = children(der, fields[i++]!);
    if (v.length !== 1) throw new DerError('bad version');
    version = decodeSmallInteger(der, v[0]!) + 1;
    if (version > 3) throw new DerError(`unknown version ${version}`);
  }
  const serial = valueOf(der, expectTag(fields[i++], Tag.INTEGER, 'serialNumber'));
  if (serial.length === 0) throw new DerError('empty serialNumber');
  const innerAlg = expectTag(fields[i++], Tag.SEQUENCE, 'signature');
  const issuerName = elementOf(der, expectTag(fields[i++], Tag.SEQUENCE, 'issuer'));
  const [nbNode, naNode, extraValidity] = children(der, expectTag(fields[i++], Tag.SEQUENCE, 'validity'));
  if (!nbNode || !naNode || extraValidity) throw new DerError('bad validity');
  const subjectName = elementOf(der, expectTag(fields[i++], Tag.SEQUENCE, 'subject'));
  const publicKey = parsePublicKey(elementOf(der, expectTag(fields[i++], Tag.SEQUENCE, 'subjectPublicKeyInfo')));
  if (fields[i]?.tag === 0x81) i++;
  if (fields[i]?.tag === 0x82) i++;
  let extensionsNode: DerNode | undefined;
  if (fields[i]?.tag === 0xa3) {
    const inner = children(der, fields[i++]!);
    if (inner.length !== 1 || version !== 3) throw new DerError('extensions need a v3 certificate');
    extensionsNode = inner[0];
  }
  if (fields[i]) throw new DerError('trailing fields in TBSCertificate');

  // RFC 5280 4.1.1.2: the outer and inner algorithm identifiers must match.
  const outerAlg = elementOf(der, expectTag(algNode, Tag.SEQUENCE, 'signatureAlgorithm'));
  const innerAlgBytes = elementOf(der, innerAlg);
  if (outerAlg.length !== innerAlgBytes.length || outerAlg.some((b, k) => b !== innerAlgBytes[k])) {
    throw new DerError('signatureAlgorithm differs from TBSCertificate.signature');
  }
  let signatureAlgorithm: SignatureAlgorithmInfo | undefined;
  try {
    signatureAlgorithm = parseSignatureAlgorithm(der, algNode!);
  } catch (e) {
    if (!(e instanceof UnsupportedAlgorithmError)) throw e;
  }
  const sigBits = valueOf(der, expectTag(sigNode, Tag.BIT_STRING, 'signatureValue'));
  if (sigBits.length < 2 || sigBits[0] !== 0) throw new DerError('signatureValue must have no unused bits');

  const issuer = decodeName(issuerName);
  const subject = decodeName(subjectName);
  const cert: ParsedCertificate = {
    der,
    tbs: elementOf(der, tbsNode!),
    version,
    serialNumber: serialHex(serial),
    issuerName,
    issuer: issuer.fields,
    issuerAttributes: issuer.attributes,
    subjectName,
    subject: subject.fields,
    subjectAttributes: subject.attributes,
    notBefore: decodeTime(der, nbNode),
    notAfter: decodeTime(der, naNode),
    publicKey,
    subjectAltNames: { dns: [], ip: [], uri: [], email: [] },
    crlDistributionPoints: [],
    ocspUrls: [],
    caIssuersUrls: [],
    signatureAlgorithm,
    signature: sigBits.subarray(1),
  };
  if (extensionsNode) readKnownExtensions(der, extensionsNode, cert);
  return cert;
}

function readKnownExtensions(der: Uint8Array, node: DerNode, cert: ParsedCertificate): void {
  const exts = readExtensions(der, node);
  const get = (id: string) => exts.get(id)?.value;
  let v: Uint8Array | undefined;
  if ((v = get(ExtensionOid.subjectKeyIdentifier))) cert.subjectKeyIdentifier = decodeSubjectKeyIdentifier(v);
  if ((v = get(ExtensionOid.authorityKeyIdentifier))) cert.authorityKeyIdentifier = decodeAuthorityKeyIdentifier(v);
  if ((v = get(ExtensionOid.basicConstraints))) cert.basicConstraints = decodeBasicConstraints(v);
  if ((v = get(ExtensionOid.keyUsage))) cert.keyUsage = decodeKeyUsage(v);
  if ((v = get(ExtensionOid.extendedKeyUsage))) cert.extendedKeyUsage = decodeExtendedKeyUsage(v);
  if ((v = get(ExtensionOid.subjectAltName))) cert.subjectAltNames = decodeGeneralNames(v);
  if ((v = get(ExtensionOid.crlDistributionPoints))) cert.crlDistributionPoints = decodeCrlDistributionPoints(v);
  if ((v = get(ExtensionOid.authorityInfoAccess))) {
    const aia = decodeAuthorityInfoAccess(v);
    cert.ocspUrls = aia.ocsp;
    cert.caIssuersUrls = aia.caIssuers;
  }
}

/**
 * Whether `cert` is signed by the key in `issuerSpki` (SubjectPublicKeyInfo DER or parsed). False for a
 * bad signature, a key/algorithm mismatch, an unreadable issuer key, or an algorithm we do not verify.
 */
export function verifyCertificateSignature(cert: ParsedCertificate, issuerSpki: Uint8Array | PublicKeyInfo): boolean {
  if (!cert.signatureAlgorithm) return false;
  let key: PublicKeyInfo;
  try {
    key = issuerSpki instanceof Uint8Array ? parsePublicKey(issuerSpki) : issuerSpki;
  } catch {
    return false;
  }
  return verifySignature(key, cert.signatureAlgorithm, cert.tbs, cert.signature);
}
