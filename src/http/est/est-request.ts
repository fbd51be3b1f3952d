/**
 * What an EST request carries, decoded leniently (RFC 7030 + RFC 8951): the PKCS#10 CSR as base64 DER with
 * or without line breaks, as PEM, or as raw DER, whatever Content-Transfer-Encoding says (RFC 8951 makes
 * base64 the rule and the header meaningless); and who the caller is (TLS client chain, HTTP Basic).
 */
import type { FastifyRequest } from 'fastify';
import { invalid } from '../../domain/errors.ts';
import type { EnrollmentCredentials } from '../../services/dms/enrollment-service.ts';
import { csrDerOfInput, parseCsrTemplate } from '../../x509/csr.ts';
import { clientCertificateChain } from '../client-certificate.ts';

/** Largest CSR body the EST routes read; more is refused with 413 before it is buffered whole. */
export const EST_BODY_LIMIT = 64 * 1024;

/** `application/pkcs10` is RFC 7030's; `application/x-pkcs10` is what some older clients send. */
const CSR_MEDIA_TYPES = new Set(['application/pkcs10', 'application/x-pkcs10']);

/** The media type without parameters, lower case: `Application/PKCS10; name=x.p10` -> `application/pkcs10`. */
export const mediaTypeOf = (header: string | undefined): string => (header ?? '').split(';', 1)[0]!.trim().toLowerCase();

export class EstMediaTypeError extends Error {
  readonly code = 'EST_UNSUPPORTED_MEDIA_TYPE';
}

/**
 * The CSR's DER from the request body, read as far as its request (subject, extensions): what its key and
 * signature are worth is the enrollment service's judgement, and serverkeygen ignores both (RFC 7030 4.4.1).
 * Throws EstMediaTypeError (415) or CSR_MALFORMED (400).
 */
export function csrFromRequest(request: FastifyRequest): Uint8Array {
  const type = mediaTypeOf(request.headers['content-type']);
  if (!CSR_MEDIA_TYPES.has(type)) {
    throw new EstMediaTypeError(`the CSR must be sent as application/pkcs10, not ${type === '' ? 'without a content type' : type}`);
  }
  const body = request.body;
  if (!(body instanceof Uint8Array) || body.length === 0) throw invalid('EST_CSR_MISSING', 'the request has no CSR in its body');
  return parseCsrTemplate(csrDerOfInput(body)).der;
}

/** The TLS client chain (unverified; the enrollment service decides whom it trusts) and Basic credentials. */
export function credentialsOf(request: FastifyRequest): EnrollmentCredentials {
  const chain = clientCertificateChain(request);
  const basic = basicCredentials(request.headers.authorization);
  return { ...(chain.length > 0 ? { clientCertificateChain: chain } : {}), ...(basic ? { basic } : {}) };
}

const malformedBasic = () => invalid('EST_AUTHORIZATION_MALFORMED', 'the Basic Authorization header is not base64 of "user:password"');

/** RFC 7617 Basic credentials; other schemes (e.g. a stray Bearer) are not EST's and count as none. */
export function basicCredentials(header: string | undefined): { username: string; password: string } | undefined {
  if (header === undefined || !/^basic\b/i.test(header)) return undefined;
  const m = /^basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(header);
  if (!m) throw malformedBasic();
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw malformedBasic();
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
