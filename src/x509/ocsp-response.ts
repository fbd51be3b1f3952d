/**
 * OCSPResponse encoding (RFC 6960 4.2). Built in layers so the VA can cache what does not depend on
 * the request: `encodeStatusInfo` (status and validity of one certificate, per issuer and serial),
 * `encodeSingleResponse` (that, behind the client's own CertID bytes), then `buildBasicResponse`,
 * which adds responderID, producedAt and the nonce and signs. A response without a nonce may be
 * cached whole, keyed by the request's CertID bytes (RFC 5019).
 */
import { bitString, concat, contextTag, explicit, generalizedTime, octetString, oid, sequence, smallInteger, Tag, tlv } from './der.ts';
import { crlReasonCode } from './crl-reason.ts';
import type { CrlReason } from './crl-reason.ts';
import { OID_OCSP_NONCE } from './ocsp-request.ts';
import { algorithmIdentifier } from './signer.ts';
import type { X509Signer } from './signer.ts';

const OID_OCSP_BASIC = '1.3.6.1.5.5.7.48.1.1';

export type OcspCertStatus =
  | { status: 'good' }
  | { status: 'revoked'; revocationTime: Date; reason?: CrlReason }
  | { status: 'unknown' };

export interface OcspStatusInfo {
  certStatus: OcspCertStatus;
  thisUpdate: Date;
  nextUpdate?: Date;
}

/** certStatus, thisUpdate and nextUpdate of a SingleResponse: everything but the CertID. */
export function encodeStatusInfo(info: OcspStatusInfo): Uint8Array {
  const s = info.certStatus;
  const status =
    s.status === 'good'
      ? Uint8Array.of(contextTag(0, false), 0)
      : s.status === 'unknown'
        ? Uint8Array.of(contextTag(2, false), 0)
        : tlv(
            contextTag(1, true),
            generalizedTime(s.revocationTime),
            ...(s.reason === undefined ? [] : [explicit(0, smallInteger(crlReasonCode(s.reason), Tag.ENUMERATED))]),
          );
  const parts = [status, generalizedTime(info.thisUpdate)];
  if (info.nextUpdate) parts.push(explicit(0, generalizedTime(info.nextUpdate)));
  return concat(parts);
}

/** One SingleResponse: the CertID bytes as the client sent them, then a (possibly cached) status info. */
export const encodeSingleResponse = (certId: Uint8Array, statusInfo: Uint8Array) => sequence(certId, statusInfo);

export interface BasicResponseInput {
  /** Encoded SingleResponses, in the order of the request's requestList. */
  singleResponses: readonly Uint8Array[];
  producedAt: Date;
  /** SHA-1 of the responder's subjectPublicKey bits (see responderKeyHash). */
  responderKeyHash: Uint8Array;
  signer: X509Signer;
  /** The request's nonce, echoed (RFC 8954). */
  nonce?: Uint8Array;
  /** Certificates for the client to verify the signature: a delegated responder's certificate. */
  certs?: readonly Uint8Array[];
}

/** A successful OCSPResponse carrying a signed BasicOCSPResponse. */
export async function buildBasicResponse(input: BasicResponseInput): Promise<Uint8Array> {
  if (input.singleResponses.length === 0) throw new RangeError('an OCSP response needs at least one SingleResponse');
  const extensions = input.nonce
    ? [explicit(1, sequence(sequence(oid(OID_OCSP_NONCE), octetString(octetString(input.nonce)))))]
    : [];
  const tbs = sequence(
    explicit(2, octetString(input.responderKeyHash)),
    generalizedTime(input.producedAt),
    sequence(...input.singleResponses),
    ...extensions,
  );
  const signature = await input.signer.sign(tbs);
  const certs = input.certs?.length ? [explicit(0, sequence(...input.certs))] : [];
  const basic = sequence(tbs, algorithmIdentifier(input.signer.algorithm), bitString(signature), ...certs);
  return sequence(
    tlv(Tag.ENUMERATED, Uint8Array.of(0)),
    explicit(0, sequence(oid(OID_OCSP_BASIC), octetString(basic))),
  );
}

export type OcspErrorStatus = 'malformedRequest' | 'internalError' | 'tryLater' | 'sigRequired' | 'unauthorized';

const errorCodes: Readonly<Record<OcspErrorStatus, number>> = {
  malformedRequest: 1,
  internalError: 2,
  tryLater: 3,
  sigRequired: 5,
  unauthorized: 6,
};

/** An unsigned OCSPResponse with an error status and no responseBytes. */
export function ocspErrorResponse(status: OcspErrorStatus): Uint8Array {
  const code = errorCodes[status];
  if (code === undefined) throw new RangeError(`unknown OCSP error status ${String(status)}`);
  return sequence(tlv(Tag.ENUMERATED, Uint8Array.of(code)));
}
