/** Reads and checks X.509 certificates presented by clients (bootstrap, DMS and device certificates). */
export interface CertificateFacts {
  der: Uint8Array;
  /** Lowercase hex without leading zeros: the CA service's spelling. */
  serialNumber: string;
  /** Name DER, verbatim. */
  subjectName: Uint8Array;
  issuerName: Uint8Array;
  commonName: string | undefined;
  /** subjectAltName extension value (GeneralNames DER), verbatim. */
  subjectAltName: Uint8Array | undefined;
  notBefore: Date;
  notAfter: Date;
  isCa: boolean;
}

export interface CertificateInspector {
  /** Throws ENROLL_CLIENT_CERTIFICATE_INVALID (401) for bytes that are not a certificate. */
  parse(der: Uint8Array): CertificateFacts;
  /** Whether `issuer` issued `child`: names chain and the signature verifies with the issuer's key. */
  issued(issuer: CertificateFacts, child: CertificateFacts): Promise<boolean>;
  /** Whether two Names are equal (RFC 5280 7.1 comparison, simplified: same attributes in the same order). */
  sameName(a: Uint8Array, b: Uint8Array): boolean;
  /** Whether two GeneralNames values name the same identities, in any order. */
  sameAltNames(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean;
}
