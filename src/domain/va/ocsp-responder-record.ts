/** A CA's delegated OCSP responder: a certificate the CA issued for OCSP signing, key in the CA's engine. */
export interface OcspResponderRecord {
  caId: string;
  certificateDer: Uint8Array;
  serialNumber: string;
  engineId: string;
  keyId: string;
  notAfter: Date;
  createdAt: Date;
}

export interface OcspResponderRepository {
  get(caId: string): Promise<OcspResponderRecord | undefined>;
  /** Insert or replace the CA's current responder. */
  put(record: OcspResponderRecord): Promise<void>;
}
