import type { KeySpec } from '../ports/key-engine.ts';

export interface GeneratedKeyRequest {
  /** PKCS#8 PrivateKeyInfo DER: returned once to the client, never stored. */
  pkcs8: Uint8Array;
  /** A CSR signed by the new key, carrying the subject and extensions asked for. */
  csrDer: Uint8Array;
}

/** Server-side key generation for EST serverkeygen and DMS certificates. */
export interface ServerKeyGenerator {
  /** `extensions`: Extensions DER (SEQUENCE OF Extension) to request verbatim, e.g. a client CSR's extensionRequest. */
  generate(spec: KeySpec, subjectName: Uint8Array, extensions?: Uint8Array): Promise<GeneratedKeyRequest>;
}
