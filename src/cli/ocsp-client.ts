/**
 * The client side of OCSP (RFC 6960): a one-certificate request with a nonce (RFC 8954), and the reading
 * of the answer: response status, the certificate's status, and whether the issuer (or a responder it
 * delegated to, with id-kp-OCSPSigning) signed it.
 */
import { randomBytes } from 'node:crypto';
import { verifyCertificateSignature, type ParsedCertificate, parseCertificate } from '../x509/certificate.ts';
import {
  children,
  contextTag,
  decodeOid,
  decodeTime,
  elementOf,
  expectTag,
  explicit,
  octetString,
  oid,
  readRoot,
  sequence,
  Tag,
  valueOf,
  type DerNode,
} from '../x509/der.ts';
import { encodeCertId, issuerHashes, type OcspHashAlgorithm } from '../x509/ocsp-cert-id.ts';
import { OID_OCSP_NONCE } from '../x509/ocsp-request.ts';
import { parsePublicKey } from '../x509/public-key.ts';
import { parseSignatureAlgorithm, verifySignature } from '../x509/signature-verify.ts';

const OID_PKIX_OCSP_BASIC = '1.3.6.1.5.5.7.48.1.1';
const RESPONSE_STATUS = ['successful', 'malformedRequest', 'internalError', 'tryLater', '(unused)', 'sigRequired', 'unauthorized'];
const CRL_REASONS = [
  'Unspecified',
  'KeyCompromise',
  'CACompromise',
  'AffiliationChanged',
  'Superseded',
  'CessationOfOperation',
  'CertificateHold',
  '(unused)',
  'RemoveFromCRL',
  'PrivilegeWithdrawn',
  'AACompromise',
];

export interface BuiltOcspRequest {
  der: Uint8Array;
  certId: Uint8Array;
  nonce: Uint8Array;
}

/** The serial's magnitude as bytes, from its canonical hex. */
const serialBytes = (hex: string) => new Uint8Array(Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex'));

export function buildOcspRequest(cert: ParsedCertificate, issuer: ParsedCertificate, hash: OcspHashAlgorithm = 'SHA-1'): BuiltOcspRequest {
  const { issuerNameHash, issuerKeyHash } = issuerHashes(hash, issuer.subjectName, issuer.publicKey.spki);
  const certId = encodeCertId(hash, issuerNameHash, issuerKeyHash, serialBytes(cert.serialNumber));
  const nonce = new Uint8Array(randomBytes(16));
  const nonceExtension = sequence(oid(OID_OCSP_NONCE), octetString(octetString(nonce)));
  // OCSPRequest { TBSRequest { requestList { Request { reqCert } }, [2] requestExtensions } }
  const der = sequence(sequence(sequence(sequence(certId)), explicit(2, sequence(nonceExtension))));
  return { der, certId, nonce };
}

export interface OcspResult {
  /** RFC 6960 response status; the fields below are set only when it is "successful". */
  responseStatus: string;
  certStatus?: 'good' | 'revoked' | 'unknown';
  revocationTime?: Date;
  revocationReason?: string;
  thisUpdate?: Date;
  nextUpdate?: Date;
  producedAt?: Date;
  /** Signed by the issuer itself, or by a responder certificate the issuer signed for OCSP. */
  signatureValid?: boolean;
  signedBy?: 'issuer' | 'delegated responder';
  /** Undefined when the responder sent no nonce (a pre-produced response). */
  nonceMatches?: boolean;
}

function nonceOf(bytes: Uint8Array, extensions: DerNode): Uint8Array | undefined {
  for (const ext of children(bytes, expectTag(children(bytes, extensions)[0], Tag.SEQUENCE, 'Extensions'))) {
    const parts = children(bytes, ext);
    if (decodeOid(valueOf(bytes, parts[0]!)) !== OID_OCSP_NONCE) continue;
    const value = valueOf(bytes, parts[parts.length - 1]!);
    const inner = readRoot(value);
    return inner.tag === Tag.OCTET_STRING ? valueOf(value, inner) : value;
  }
  return undefined;
}

function verifyBasic(basic: Uint8Array, nodes: DerNode[], issuer: ParsedCertificate): Pick<OcspResult, 'signatureValid' | 'signedBy'> {
  const [tbs, algNode, sigNode, certsNode] = nodes;
  let alg;
  try {
    alg = parseSignatureAlgorithm(basic, algNode!);
  } catch {
    return { signatureValid: false };
  }
  const data = elementOf(basic, tbs!);
  const signature = valueOf(basic, expectTag(sigNode, Tag.BIT_STRING, 'signature')).subarray(1);
  if (verifySignature(issuer.publicKey, alg, data, signature)) return { signatureValid: true, signedBy: 'issuer' };
  if (certsNode?.tag === contextTag(0, true)) {
    for (const c of children(basic, children(basic, certsNode)[0]!)) {
      const responder = parseCertificate(elementOf(basic, c));
      const delegated = (responder.extendedKeyUsage ?? []).includes('OCSPSigning') && verifyCertificateSignature(responder, issuer.publicKey);
      if (delegated && verifySignature(parsePublicKey(responder.publicKey.spki), alg, data, signature)) return { signatureValid: true, signedBy: 'delegated responder' };
    }
  }
  return { signatureValid: false };
}

/** Reads an OCSPResponse for the request built above. Throws (DerError) on bytes that are not one. */
export function readOcspResponse(der: Uint8Array, request: BuiltOcspRequest, issuer: ParsedCertificate): OcspResult {
  const [statusNode, bytesNode] = children(der, expectTag(readRoot(der), Tag.SEQUENCE, 'OCSPResponse'));
  const status = valueOf(der, expectTag(statusNode, Tag.ENUMERATED, 'responseStatus'))[0]!;
  const responseStatus = RESPONSE_STATUS[status] ?? `status ${status}`;
  if (status !== 0 || !bytesNode) return { responseStatus };
  const [typeNode, octets] = children(der, children(der, bytesNode)[0]!);
  const type = decodeOid(valueOf(der, typeNode!));
  if (type !== OID_PKIX_OCSP_BASIC) throw new Error(`unexpected OCSP response type ${type}`);
  const basic = valueOf(der, octets!);
  const basicNodes = children(basic, readRoot(basic));
  const tbsParts = children(basic, basicNodes[0]!);
  let i = tbsParts[0]!.tag === contextTag(0, true) ? 1 : 0; // version
  i += 1; // responderID
  const producedAt = decodeTime(basic, tbsParts[i++]!);
  const responses = children(basic, tbsParts[i++]!);
  const extensions = tbsParts[i]?.tag === contextTag(1, true) ? tbsParts[i] : undefined;
  const nonce = extensions ? nonceOf(basic, extensions) : undefined;
  const single = responses.find((r) => Buffer.from(elementOf(basic, children(basic, r)[0]!)).equals(request.certId));
  if (!single) throw new Error('the OCSP response does not answer for this certificate');
  const [, statusInfo, thisUpdateNode, ...rest] = children(basic, single);
  const result: OcspResult = {
    responseStatus,
    producedAt,
    thisUpdate: decodeTime(basic, thisUpdateNode!),
    ...verifyBasic(basic, basicNodes, issuer),
    ...(nonce ? { nonceMatches: Buffer.from(nonce).equals(request.nonce) } : {}),
  };
  const next = rest.find((n) => n.tag === contextTag(0, true));
  if (next) result.nextUpdate = decodeTime(basic, children(basic, next)[0]!);
  if (statusInfo!.tag === contextTag(0, false)) result.certStatus = 'good';
  else if (statusInfo!.tag === contextTag(2, false)) result.certStatus = 'unknown';
  else if (statusInfo!.tag === contextTag(1, true)) {
    result.certStatus = 'revoked';
    const [time, reason] = children(basic, statusInfo!);
    result.revocationTime = decodeTime(basic, time!);
    if (reason) result.revocationReason = CRL_REASONS[valueOf(basic, children(basic, reason)[0]!)[0]!] ?? 'unknown reason';
  } else throw new Error('unexpected certStatus in the OCSP response');
  return result;
}
