/**
 * The certificates a client presented in the TLS handshake of the HTTPS listener. TLS asks for them but
 * does not verify them (`rejectUnauthorized: false`): each route decides whom it trusts, e.g. EST checks
 * them against a DMS's trusted CAs.
 */
import { TLSSocket } from 'node:tls';
import type { FastifyRequest } from 'fastify';

/** Leaf first, DER; empty when the client sent none or the request did not come over TLS. */
export function clientCertificateChain(request: FastifyRequest): Uint8Array[] {
  const socket = request.raw.socket;
  if (!(socket instanceof TLSSocket)) return [];
  const chain: Uint8Array[] = [];
  let cert = socket.getPeerCertificate(true);
  // A self-signed certificate is its own issuer; the walk stops there.
  while (cert?.raw && !chain.some((c) => Buffer.compare(c, cert.raw) === 0)) {
    chain.push(new Uint8Array(cert.raw));
    cert = cert.issuerCertificate;
  }
  return chain;
}
