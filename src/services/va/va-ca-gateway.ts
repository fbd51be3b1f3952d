/**
 * What the VA needs from the CA service, declared by the VA itself so that it depends on this narrow
 * interface and never on the CA service's tables. src/services/ca/va-gateway.ts implements it.
 */
import type { CertificateStatus } from '../../domain/ca/certificate-status.ts';
import type { RevocationReason } from '../../domain/ca/revocation-reason.ts';
import type { KeySpec } from '../../domain/ports/key-engine.ts';
import type { X509Signer } from '../../x509/signer.ts';

/** A CA as the VA sees it. */
export interface VaCa {
  id: string;
  /** The CA certificate, DER. */
  certificateDer: Uint8Array;
  /** Lowercase hex. */
  subjectKeyId: string;
  /** Whether we hold the CA's key, so that it can sign CRLs and OCSP answers (or a responder). */
  hasKey: boolean;
  engineId: string | null;
}

/** Where one certificate stands, as OCSP reports it. */
export interface VaCertificateStatus {
  status: CertificateStatus;
  revokedAt: Date | null;
  revocationReason: RevocationReason | null;
}

export interface VaRevokedEntry {
  /** Lowercase hex, no leading zeros. */
  serialNumber: string;
  revokedAt: Date;
  reason: RevocationReason;
  /** RFC 5280 5.3.2, when the revoker gave one; the CRL entry carries it. */
  invalidityDate?: Date;
}

export interface IssuedResponder {
  certificateDer: Uint8Array;
  serialNumber: string;
  engineId: string;
  keyId: string;
  notAfter: Date;
}

export interface VaCaGateway {
  getCa(id: string): Promise<VaCa | undefined>;
  findCaBySubjectKeyId(ski: string): Promise<VaCa | undefined>;
  /** Every CA, in pages (the VA indexes them by CertID issuer hashes). */
  listCas(): AsyncIterable<VaCa>;
  /** Undefined when the CA never issued this serial. */
  certificateStatus(caId: string, serialNumber: string): Promise<VaCertificateStatus | undefined>;
  /**
   * The CA's revoked certificates (on hold included), streamed in pages; with `since`, only those revoked
   * at or after it (delta CRLs).
   */
  revokedCertificates(caId: string, since?: Date): AsyncIterable<VaRevokedEntry>;
  /** The CA key's signer. Throws CA_CANNOT_SIGN when we do not hold it. */
  caSigner(caId: string): Promise<X509Signer>;
  /**
   * Has the CA issue a delegated OCSP responder certificate (id-kp-OCSPSigning, id-pkix-ocsp-nocheck)
   * for a new key of `keySpec` in the CA's own key engine.
   */
  issueOcspResponder(caId: string, keySpec: KeySpec, validityMs: number): Promise<IssuedResponder>;
  /** A signer for a key held in an engine (the delegated responder's key). */
  keySigner(engineId: string, keyId: string): Promise<X509Signer>;
}
