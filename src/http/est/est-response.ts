/**
 * EST answers (RFC 7030 4.1.3, 4.2.3, 4.4.2, 4.5.2; RFC 8951): certs-only PKCS#7 in base64 lines ending in
 * a newline, or a PEM bundle for clients that ask for `application/x-pem-file` (as Lamassu answers them);
 * CSR attributes in base64; serverkeygen's multipart/mixed of the PKCS#8 key and the certificate.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { encodeCsrAttrs, type CsrAttributesRequest } from '../../x509/csr-attributes.ts';
import { toPem } from '../../x509/pem.ts';
import { base64Lines, certsOnlyPkcs7 } from '../../x509/pkcs7.ts';

export const CERTS_ONLY = 'application/pkcs7-mime; smime-type=certs-only';
export const PEM_FILE = 'application/x-pem-file';
/** base64 letters never start a line with "--", so a fixed boundary cannot occur in the parts. */
export const SERVERKEYGEN_BOUNDARY = 'lamassu-est-serverkeygen';

const wantsPem = (request: FastifyRequest) => /(^|,)\s*application\/x-pem-file\s*(;|,|$)/i.test(request.headers.accept ?? '');

/**
 * A bag of certificates. RFC 8951 says the Content-Transfer-Encoding header means nothing in HTTP; RFC 7030
 * clients still look for it, so it is sent and is always true.
 */
export function sendCertificates(request: FastifyRequest, reply: FastifyReply, certs: readonly Uint8Array[]): FastifyReply {
  if (wantsPem(request)) return reply.type(PEM_FILE).send(certs.map((der) => toPem(der, 'CERTIFICATE')).join(''));
  return reply.type(CERTS_ONLY).header('content-transfer-encoding', 'base64').send(base64Lines(certsOnlyPkcs7(certs)));
}

/** CsrAttrs ::= SEQUENCE OF AttrOrOID; never an empty body: nothing to ask is `MAA=` (an empty SEQUENCE). */
export function csrAttrsBody(request: CsrAttributesRequest): string {
  return base64Lines(encodeCsrAttrs(request));
}

export function sendCsrAttrs(reply: FastifyReply, request: CsrAttributesRequest): FastifyReply {
  return reply.type('application/csrattrs').header('content-transfer-encoding', 'base64').send(csrAttrsBody(request));
}

/**
 * RFC 7030 4.4.2: the key part first (unencrypted: application/pkcs8), then the certificate, framed by RFC 2046
 * 5.1.1 to the byte: CRLF line breaks throughout (MIME's canonical form, RFC 2045 6.8 base64 lines), and each
 * part's content followed by the delimiter "CRLF--boundary" (that CRLF belongs to the delimiter; a part that
 * ends in a bare LF runs on into the next one for a strict parser).
 */
export function serverKeygenBody(pkcs8: Uint8Array, certificate: Uint8Array): string {
  const crlfLines = (der: Uint8Array) => base64Lines(der).trimEnd().replace(/\n/g, '\r\n');
  const part = (type: string, der: Uint8Array) => `Content-Type: ${type}\r\nContent-Transfer-Encoding: base64\r\n\r\n${crlfLines(der)}`;
  const delimiter = `\r\n--${SERVERKEYGEN_BOUNDARY}`;
  return [
    `--${SERVERKEYGEN_BOUNDARY}\r\n`,
    part('application/pkcs8', pkcs8),
    `${delimiter}\r\n`,
    part(CERTS_ONLY, certsOnlyPkcs7([certificate])),
    `${delimiter}--\r\n`,
  ].join('');
}

export function sendServerKeygen(reply: FastifyReply, pkcs8: Uint8Array, certificate: Uint8Array): FastifyReply {
  return reply.type(`multipart/mixed; boundary=${SERVERKEYGEN_BOUNDARY}`).send(serverKeygenBody(pkcs8, certificate));
}
