/** The EXTERNAL_WEBHOOK authentication mode: an outside service decides whether an enrollment may go on. */
export interface EnrollmentFacts {
  dmsId: string;
  /** The device and slot the CSR names (`<slot>:<device id>`, see device-identity.ts); empty when it names none. */
  deviceId: string;
  slot: string;
  operation: 'enroll' | 'reenroll' | 'serverkeygen';
  /** The CSR, PEM. */
  csr: string;
  /** Client certificate chain presented on the TLS connection, PEM each. */
  clientCertificates: string[];
}

export interface EnrollmentWebhook {
  /**
   * POSTs the facts to `url`; true only for a 2xx answer `{"authorized": true}`. Throws
   * ENROLL_WEBHOOK_UNAVAILABLE (503) when the webhook does not answer within `timeoutMs` or answers garbage.
   */
  authorize(url: string, timeoutMs: number, facts: EnrollmentFacts): Promise<boolean>;
}
