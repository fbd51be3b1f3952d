/**
 * OCSPRequest parsing (RFC 6960 4.1, RFC 5019 profile, RFC 8954 nonces) and the GET path decoding
 * of RFC 6960 A.1. Strict about structure, tolerant of what real clients put in it: requestorName,
 * signatures and unknown non-critical extensions are accepted and ignored.
 */
import { invalid } from '../domain/errors.ts';
import { children, contextTag, decodeOid, DerError, elementOf, expectTag, readRoot, Tag, valueOf } from './der.ts';
import type { DerNode } from './der.ts';
import { hashAlgorithmForOid, ocspHashAlgorithms } from './ocsp-cert-id.ts';
import type { OcspHashAlgorithm } from './ocsp-cert-id.ts';
import { serialHex } from './serial.ts';

export const OID_OCSP_NONCE = '1.3.6.1.5.5.7.48.1.2';
/** Acceptable response types (RFC 6960 4.4.3): we always answer with a basic response, so even a critical one is fine. */
const OID_OCSP_ACCEPTABLE_RESPONSES = '1.3.6.1.5.5.7.48.1.4';
const understood = new Set([OID_OCSP_NONCE, OID_OCSP_ACCEPTABLE_RESPONSES]);

export interface OcspSingleRequest {
  hashAlgorithm: OcspHashAlgorithm;
  issuerNameHash: Uint8Array;
  issuerKeyHash: Uint8Array;
  /** Lowercase hex of the serial's magnitude, without a sign octet ("00" for zero). */
  serialHex: string;
  /** The CertID exactly as the client sent it: a response echoes these bytes. */
  certId: Uint8Array;
}

export interface OcspRequest {
  requests: OcspSingleRequest[];
  /** RFC 8954 nonce value (1..32 octets), to echo in the response. */
  nonce?: Uint8Array;
  /** Whether the client signed the request; we do not require or check signatures. */
  hasSignature: boolean;
}

const malformed = (message: string) => invalid('OCSP_MALFORMED_REQUEST', `malformed OCSP request: ${message}`);

export function parseOcspRequest(der: Uint8Array): OcspRequest {
  try {
    return parse(der);
  } catch (e) {
    if (e instanceof DerError) throw malformed(e.message);
    throw e;
  }
}

function parse(der: Uint8Array): OcspRequest {
  const root = expectTag(readRoot(der), Tag.SEQUENCE, 'OCSPRequest');
  const [tbs, signature, ...extra] = children(der, root);
  expectTag(tbs, Tag.SEQUENCE, 'TBSRequest');
  if (signature && signature.tag !== contextTag(0, true)) throw malformed('unexpected element after TBSRequest');
  if (extra.length > 0) throw malformed('unexpected elements after optionalSignature');

  const fields = children(der, tbs);
  let i = 0;
  if (fields[i]?.tag === contextTag(0, true)) {
    const [version] = children(der, fields[i]!);
    const v = valueOf(der, expectTag(version, Tag.INTEGER, 'version'));
    if (v.length !== 1 || v[0] !== 0) throw malformed('unsupported version');
    i++;
  }
  if (fields[i]?.tag === contextTag(1, true)) i++; // requestorName: informational only
  const list = expectTag(fields[i++], Tag.SEQUENCE, 'requestList');
  let nonce: Uint8Array | undefined;
  if (fields[i]?.tag === contextTag(2, true)) {
    nonce = readExtensions(der, fields[i++]!).get(OID_OCSP_NONCE);
    if (nonce) nonce = nonceValue(nonce);
  }
  if (i !== fields.length) throw malformed('unexpected elements in TBSRequest');

  const requests = children(der, list).map((r) => readRequest(der, r));
  if (requests.length === 0) throw malformed('empty requestList');
  return nonce ? { requests, nonce, hasSignature: signature !== undefined } : { requests, hasSignature: signature !== undefined };
}

function readRequest(der: Uint8Array, node: DerNode): OcspSingleRequest {
  const [certIdNode, exts, ...extra] = children(der, expectTag(node, Tag.SEQUENCE, 'Request'));
  if (exts) {
    if (exts.tag !== contextTag(0, true)) throw malformed('unexpected element in Request');
    readExtensions(der, exts); // singleRequestExtensions (e.g. service locator): checked, not used
  }
  if (extra.length > 0) throw malformed('unexpected elements in Request');

  const [algId, nameHash, keyHash, serial, ...rest] = children(der, expectTag(certIdNode, Tag.SEQUENCE, 'CertID'));
  if (rest.length > 0) throw malformed('unexpected elements in CertID');
  const [algOid, params, ...algRest] = children(der, expectTag(algId, Tag.SEQUENCE, 'hashAlgorithm'));
  // Parameters are NULL (OpenSSL) or absent (RFC 5754); anything else is not a hash we know.
  if (algRest.length > 0 || (params && (params.tag !== Tag.NULL || params.end !== params.valueStart)))
    throw malformed('unexpected hashAlgorithm parameters');
  const dotted = decodeOid(valueOf(der, expectTag(algOid, Tag.OID, 'hashAlgorithm OID')));
  const hashAlgorithm = hashAlgorithmForOid(dotted);
  if (!hashAlgorithm) throw malformed(`unsupported hash algorithm ${dotted}`);
  const size = ocspHashAlgorithms[hashAlgorithm].size;
  const issuerNameHash = valueOf(der, expectTag(nameHash, Tag.OCTET_STRING, 'issuerNameHash'));
  const issuerKeyHash = valueOf(der, expectTag(keyHash, Tag.OCTET_STRING, 'issuerKeyHash'));
  if (issuerNameHash.length !== size || issuerKeyHash.length !== size)
    throw malformed(`issuer hashes do not have the size of ${hashAlgorithm}`);
  return {
    hashAlgorithm,
    issuerNameHash,
    issuerKeyHash,
    serialHex: requestSerial(valueOf(der, expectTag(serial, Tag.INTEGER, 'serialNumber'))),
    certId: elementOf(der, certIdNode!),
  };
}

function requestSerial(value: Uint8Array): string {
  if (value.length === 0) throw malformed('empty serialNumber');
  return serialHex(value);
}

/** Extensions ([n] EXPLICIT SEQUENCE OF Extension) as OID -> extnValue; duplicates and unknown critical ones are refused. */
function readExtensions(der: Uint8Array, wrapper: DerNode): Map<string, Uint8Array> {
  const [seq, ...extra] = children(der, wrapper);
  if (extra.length > 0) throw malformed('unexpected elements around Extensions');
  const out = new Map<string, Uint8Array>();
  for (const ext of children(der, expectTag(seq, Tag.SEQUENCE, 'Extensions'))) {
    const parts = children(der, expectTag(ext, Tag.SEQUENCE, 'Extension'));
    const id = decodeOid(valueOf(der, expectTag(parts[0], Tag.OID, 'extnID')));
    let critical = false;
    let next = 1;
    if (parts[next]?.tag === Tag.BOOLEAN) {
      const b = valueOf(der, parts[next]!);
      if (b.length !== 1) throw malformed('bad critical flag');
      critical = b[0] !== 0;
      next++;
    }
    const value = valueOf(der, expectTag(parts[next], Tag.OCTET_STRING, 'extnValue'));
    if (next + 1 !== parts.length) throw malformed('unexpected elements in Extension');
    if (out.has(id)) throw malformed(`duplicate extension ${id}`);
    if (critical && !understood.has(id)) throw malformed(`unsupported critical extension ${id}`);
    out.set(id, value);
  }
  return out;
}

/** RFC 8954: the extnValue holds Nonce ::= OCTET STRING (SIZE(1..32)). */
function nonceValue(extnValue: Uint8Array): Uint8Array {
  const node = expectTag(readRoot(extnValue), Tag.OCTET_STRING, 'Nonce OCTET STRING');
  const value = valueOf(extnValue, node);
  if (value.length < 1 || value.length > 32) throw malformed(`nonce of ${value.length} octets (RFC 8954 allows 1..32)`);
  return value;
}

const BASE64 = /^[A-Za-z0-9+/]*$/;

/**
 * The DER of a GET request (RFC 6960 A.1) from the path after `/ocsp/`. The path is URL-encoded base64
 * as clients send it: percent escapes (%2F %2B %3D), raw `/` `+` `=`, base64url `-` `_`, with or without
 * padding. Every `/` is a base64 character, so runs like `//` are kept as they are; only leading slashes
 * are dropped, since a request's base64 always starts with "M" (the SEQUENCE tag 0x30).
 */
export function decodeOcspGetPath(path: string): Uint8Array {
  let text: string;
  try {
    text = decodeURIComponent(path);
  } catch {
    throw malformed('bad percent-encoding in GET path');
  }
  text = text
    .replace(/^\/+/, '')
    .replace(/ /g, '+') // a form-decoder somewhere turned '+' into a space
    .replace(/-/g, '+')
    .replace(/_/g, '/')
    .replace(/=+$/, '');
  if (text.length === 0 || !BASE64.test(text) || text.length % 4 === 1) throw malformed('GET path is not base64');
  return new Uint8Array(Buffer.from(text, 'base64'));
}
