/**
 * PKCS#10 certification requests (RFC 2986), read strictly and lazily: the issuance path copies the subject
 * and the key verbatim and verifies the signature over the original CertificationRequestInfo bytes.
 */
import { invalid } from '../domain/errors.ts';
import { children, decodeOid, decodeSmallInteger, decodeString, DerError, elementOf, expectTag, readRoot, Tag, valueOf, type DerNode } from './der.ts';
import {
  decodeBasicConstraints,
  decodeExtendedKeyUsage,
  decodeGeneralNames,
  decodeKeyUsage,
  ExtensionOid,
  readExtensions,
  type BasicConstraints,
  type GeneralNames,
  type KeyUsage,
} from './extensions.ts';
import { decodeName, type NameAttribute, type SubjectFields } from './name.ts';
import { fromPem, isPem } from './pem.ts';
import { parsePublicKey, UnsupportedKeyError, type PublicKeyInfo } from './public-key.ts';
import {
  parseSignatureAlgorithm,
  UnsupportedAlgorithmError,
  verifySignature,
  verifySignatureAsync,
  type SignatureAlgorithmInfo,
} from './signature-verify.ts';

/** Extensions a CSR asked for in its extensionRequest attribute (PKCS#9). */
export interface RequestedExtensions {
  /** GeneralNames DER (the extnValue contents), to copy into the certificate verbatim. */
  subjectAltName?: Uint8Array;
  /** subjectAltName decoded, for policy checks. */
  subjectAltNames?: GeneralNames;
  keyUsage?: KeyUsage[];
  extendedKeyUsage?: string[];
  basicConstraints?: BasicConstraints;
}

/**
 * What a CSR asks for, whoever holds the key: all that server-side key generation takes from it (RFC 7030
 * 4.4.1: the server MUST ignore the public key values and signature in the CSR).
 */
export interface CsrTemplate {
  /** The whole CertificationRequest DER. */
  der: Uint8Array;
  /** CertificationRequestInfo exactly as received: the signed bytes. */
  info: Uint8Array;
  /** Subject Name DER, verbatim. */
  subjectName: Uint8Array;
  subject: SubjectFields;
  subjectAttributes: NameAttribute[];
  extensions: RequestedExtensions;
  /** The extensionRequest's Extensions DER (SEQUENCE OF Extension), verbatim, when the CSR has one. */
  extensionRequest?: Uint8Array;
  challengePassword?: string;
}

export interface ParsedCsr extends CsrTemplate {
  /** SubjectPublicKeyInfo DER, verbatim, with what we read of it. */
  publicKey: PublicKeyInfo;
  signatureAlgorithm: SignatureAlgorithmInfo;
  signature: Uint8Array;
}

const EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
const CHALLENGE_PASSWORD = '1.2.840.113549.1.9.7';
/** Far above any real CSR (an RSA 8192 CSR with many SANs is a few KiB); refuses junk early. */
const MAX_CSR_BYTES = 64 * 1024;

const malformed = (reason: string) => invalid('CSR_MALFORMED', `malformed certificate request: ${reason}`);

/**
 * Parses a PKCS#10 CertificationRequest DER. Throws DomainError CSR_MALFORMED (not DER, wrong structure,
 * trailing bytes), CSR_KEY_UNSUPPORTED (key outside RSA 2048-8192, P-256/384/521, Ed25519) or
 * CSR_SIGNATURE_ALGORITHM_UNSUPPORTED (SHA-1, DSA ...). Does not verify the signature: see verifyCsrSignature(Async).
 */
export function parseCsr(der: Uint8Array): ParsedCsr {
  return guarded(der, () => {
    const { template, spkiNode, algNode, sigNode } = readCsr(der);
    return {
      ...template,
      publicKey: parsePublicKey(elementOf(der, spkiNode)),
      signatureAlgorithm: parseSignatureAlgorithm(der, algNode),
      signature: signatureBits(der, sigNode),
    };
  });
}

/**
 * Parses a CSR for what it asks (subject, extensions, attributes) and nothing of its key or signature, which
 * need only be well-formed DER: serverkeygen's dummy CSRs carry throwaway keys (512-bit RSA ...) on purpose.
 * Throws CSR_MALFORMED only.
 */
export function parseCsrTemplate(der: Uint8Array): CsrTemplate {
  return guarded(der, () => readCsr(der).template);
}

function guarded<T>(der: Uint8Array, read: () => T): T {
  if (der.length > MAX_CSR_BYTES) throw malformed('too large');
  try {
    return read();
  } catch (e) {
    if (e instanceof UnsupportedKeyError) throw invalid('CSR_KEY_UNSUPPORTED', e.message);
    if (e instanceof UnsupportedAlgorithmError) throw invalid('CSR_SIGNATURE_ALGORITHM_UNSUPPORTED', e.message);
    if (e instanceof DerError) throw malformed(e.message);
    throw e;
  }
}

/** The CSR's structure and request; the key, algorithm and signature nodes left for the caller to read or not. */
function readCsr(der: Uint8Array): { template: CsrTemplate; spkiNode: DerNode; algNode: DerNode; sigNode: DerNode } {
  const [infoNode, algNode, sigNode, extra] = children(der, expectTag(readRoot(der), Tag.SEQUENCE, 'CertificationRequest'));
  if (extra) throw new DerError('trailing fields in CertificationRequest');
  const [versionNode, nameNode, spkiNode, attrsNode, extraInfo] = children(der, expectTag(infoNode, Tag.SEQUENCE, 'CertificationRequestInfo'));
  if (extraInfo) throw new DerError('trailing fields in CertificationRequestInfo');
  if (decodeSmallInteger(der, expectTag(versionNode, Tag.INTEGER, 'version')) !== 0) throw new DerError('version must be 0 (v1)');
  const subjectName = elementOf(der, expectTag(nameNode, Tag.SEQUENCE, 'subject Name'));
  const name = decodeName(subjectName);
  expectTag(spkiNode, Tag.SEQUENCE, 'SubjectPublicKeyInfo');
  expectTag(algNode ?? missing('signatureAlgorithm'), Tag.SEQUENCE, 'signatureAlgorithm');
  expectTag(sigNode, Tag.BIT_STRING, 'signature');

  const csr: CsrTemplate = {
    der,
    info: elementOf(der, infoNode!),
    subjectName,
    subject: name.fields,
    subjectAttributes: name.attributes,
    extensions: {},
  };
  for (const attr of children(der, expectTag(attrsNode, 0xa0, 'attributes [0]'))) {
    const [typeNode, valuesNode, extraAttr] = children(der, expectTag(attr, Tag.SEQUENCE, 'Attribute'));
    if (extraAttr) throw new DerError('trailing fields in Attribute');
    const type = decodeOid(valueOf(der, expectTag(typeNode, Tag.OID, 'attribute type')));
    const values = children(der, expectTag(valuesNode, Tag.SET, 'attribute values'));
    if (type === EXTENSION_REQUEST) {
      if (values.length !== 1) throw new DerError('extensionRequest must have one value');
      csr.extensions = requestedExtensions(der, values[0]!);
      csr.extensionRequest = elementOf(der, values[0]!);
    } else if (type === CHALLENGE_PASSWORD) {
      if (values.length !== 1) throw new DerError('challengePassword must have one value');
      csr.challengePassword = decodeString(der, values[0]!);
    }
  }
  return { template: csr, spkiNode: spkiNode!, algNode: algNode!, sigNode: sigNode! };
}

function missing(what: string): never {
  throw new DerError(`missing ${what}`);
}

function signatureBits(der: Uint8Array, node: DerNode): Uint8Array {
  const v = valueOf(der, node);
  if (v.length < 2 || v[0] !== 0) throw new DerError('signature BIT STRING must have no unused bits');
  return v.subarray(1);
}

function requestedExtensions(der: Uint8Array, node: DerNode): RequestedExtensions {
  const exts = readExtensions(der, node);
  const out: RequestedExtensions = {};
  const san = exts.get(ExtensionOid.subjectAltName);
  if (san) {
    out.subjectAltNames = decodeGeneralNames(san.value);
    out.subjectAltName = san.value;
  }
  const ku = exts.get(ExtensionOid.keyUsage);
  if (ku) out.keyUsage = decodeKeyUsage(ku.value);
  const eku = exts.get(ExtensionOid.extendedKeyUsage);
  if (eku) out.extendedKeyUsage = decodeExtendedKeyUsage(eku.value);
  const bc = exts.get(ExtensionOid.basicConstraints);
  if (bc) out.basicConstraints = decodeBasicConstraints(bc.value);
  return out;
}

/**
 * Parses a CSR as EST and the REST API receive it: PEM (CERTIFICATE REQUEST or NEW CERTIFICATE REQUEST),
 * base64 DER with or without line breaks, or raw DER bytes. Same errors as parseCsr.
 */
export function parseCsrInput(input: string | Uint8Array): ParsedCsr {
  return parseCsr(csrDerOfInput(input));
}

/** The DER of a CSR sent as PEM, base64 or DER, unparsed. Throws CSR_MALFORMED when it is none of these. */
export function csrDerOfInput(input: string | Uint8Array): Uint8Array {
  // Raw DER starts with a SEQUENCE tag, which is neither a base64 character nor '-'.
  if (typeof input !== 'string' && input[0] === Tag.SEQUENCE) return input;
  if (input.length > 2 * MAX_CSR_BYTES) throw malformed('too large');
  const text = typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('latin1');
  if (isPem(text)) {
    const der = fromPem(text, 'CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST');
    if (!der) throw malformed('no CERTIFICATE REQUEST PEM block');
    return der;
  }
  const b64 = text.replace(/\s+/g, '');
  if (b64.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw malformed('neither PEM, base64 nor DER');
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

/**
 * Proof of possession: whether the CSR's signature verifies with its own key over the original
 * CertificationRequestInfo bytes. The caller throws CSR_INVALID_SIGNATURE on false.
 */
export function verifyCsrSignature(csr: ParsedCsr): boolean {
  return verifySignature(csr.publicKey, csr.signatureAlgorithm, csr.info, csr.signature);
}

/**
 * verifyCsrSignature for the issuance hot path: ~20% less CPU for EC keys (WebCrypto key import).
 * AWAIT it: `if (!verifyCsrSignatureAsync(csr))` never fires and TypeScript does not catch it.
 */
export function verifyCsrSignatureAsync(csr: ParsedCsr): Promise<boolean> {
  return verifySignatureAsync(csr.publicKey, csr.signatureAlgorithm, csr.info, csr.signature);
}
