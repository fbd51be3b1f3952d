/**
 * Proof of possession checked off the caller's thread: verifying a CSR's signature with a key seen for the
 * first time is the dearest step of issuance, so a server hands it to a pool of worker threads and keeps
 * its event loop for HTTP and the database.
 */
export interface CsrSignatureVerifier {
  /**
   * Whether the PKCS#10 request (DER) is signed by its own key. Rejects with the DomainError of a request
   * that does not parse (CSR_MALFORMED ...), or CSR_VERIFIER_UNAVAILABLE when closed or a worker died.
   */
  verify(csrDer: Uint8Array): Promise<boolean>;
  /** Stops the workers; verifications still waiting are refused with CSR_VERIFIER_UNAVAILABLE. */
  close(): Promise<void>;
}
