/**
 * What the DMS and device managers need from the CA service, declared here so that they depend on this
 * narrow interface and never on the CA service's tables. src/app.ts adapts the CA service to it.
 */
import type { CertificateAuthority } from '../ca/ca.ts';
import type { Certificate } from '../ca/certificate.ts';
import type { ExpiryDeltas } from '../ca/expiry-deltas.ts';
import type { CryptoEnforcement } from '../ca/issuance-profile.ts';
import type { RevocationReason } from '../ca/revocation-reason.ts';
import type { MetadataChange } from '../metadata-patch.ts';

export interface IssueFromCsrRequest {
  caId: string;
  /** PKCS#10 DER. */
  csrDer: Uint8Array;
  /** Issuance profile id; undefined uses the CA's own. */
  profileId?: string;
  metadata?: Record<string, unknown>;
  /** The caller already verified the CSR's signature (proof of possession): the CA need not do it again. */
  csrSignatureVerified?: boolean;
  /** The enrolling DMS and its expiration deltas, which outrank the profile's and the CA's. */
  dms?: { id: string; expiryDeltas: ExpiryDeltas | null };
  actor: string;
}

export interface RevokeRequest {
  serialNumber: string;
  issuerCaId: string;
  reason: RevocationReason;
  actor: string;
}

export interface CertificateAuthorityGateway {
  getCa(id: string): Promise<CertificateAuthority | undefined>;
  /** The internal CA LAMASSU-DMS-MANAGER that signs DMS certificates. */
  dmsManagerCa(): Promise<CertificateAuthority>;
  /** The CA's certificate followed by its issuers up to the root, DER. */
  caChain(caId: string): Promise<Uint8Array[]>;
  issue(req: IssueFromCsrRequest): Promise<Certificate>;
  /** Throws the CA service's conflict error when the certificate is already finally revoked or expired. */
  revoke(req: RevokeRequest): Promise<Certificate>;
  getCertificate(serialNumber: string, issuerCaId?: string): Promise<Certificate | undefined>;
  /** Changes a certificate's metadata (its event goes out as for the CA API's metadata routes). */
  updateCertificateMetadata(req: { serialNumber: string; issuerCaId?: string; change: MetadataChange; actor: string }): Promise<Certificate>;
  /** A DMS's expiration deltas changed: its certificates follow the new ones (null: their profile's or CA's). */
  replanDmsExpiry(dmsId: string, deltas: ExpiryDeltas | null): Promise<number>;
  /** Whether the CA service has an issuance profile with this id. */
  profileExists(id: string): Promise<boolean>;
  /** The keys `caId` issues for under profile `profileId` (undefined: the CA's own profile), e.g. for EST csrattrs. */
  cryptoEnforcement(caId: string, profileId?: string): Promise<CryptoEnforcement>;
}
