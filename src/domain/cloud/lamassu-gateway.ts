/**
 * What a cloud connector reads of this PKI, and the one thing it asks of it (a verification certificate
 * signed by a CA). The server wires it in-process to the CA service, the DMS manager and the device manager.
 */
export interface CloudCaView {
  id: string;
  status: string;
  metadata: Record<string, unknown>;
  certificatePem: string;
}

export interface CloudCertificateView {
  serialNumber: string;
  issuerCaId: string | null;
  status: string;
  revocationReason: string | null;
  pem: string;
}

export interface CloudDeviceView {
  id: string;
  dmsId: string | null;
  status: string;
  tags: string[];
  metadata: Record<string, unknown>;
  /** Serial numbers (and issuers) of the active certificate of each slot. */
  activeCertificates: { slot: string; serialNumber: string; issuerCaId: string | null }[];
}

export interface CloudLamassuGateway {
  ca(id: string): Promise<CloudCaView | undefined>;
  /** Every CA (for a synchronization). */
  cas(): Promise<CloudCaView[]>;
  dmsMetadata(id: string): Promise<Record<string, unknown> | undefined>;
  device(id: string): Promise<CloudDeviceView | undefined>;
  certificate(serialNumber: string, issuerCaId?: string | null): Promise<CloudCertificateView | undefined>;
  /** A certificate issued by the CA with this common name (AWS's registration code), as PEM; its key is thrown away. */
  verificationCertificate(caId: string, commonName: string): Promise<string>;
}
