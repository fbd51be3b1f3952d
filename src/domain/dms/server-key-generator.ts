import type { KeySpec } from '../ports/key-engine.ts';

export interface GeneratedKeyRequest {
  /** PKCS#8 PrivateKeyInfo DER: returned once to the client, never stored. */
  pkcs8: Uint8Array;
  /** A CSR signed by the new key, carrying the subject and subjectAltName asked for. */
  csrDer: Uint8Array;
}

/** Server-side key generation for EST serverkeygen and DMS certificates. */
export interface ServerKeyGenerator {
  generate(spec: KeySpec, subjectName: Uint8Array, subjectAltName?: Uint8Array): Promise<GeneratedKeyRequest>;
}
