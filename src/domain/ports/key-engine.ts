/**
 * A key engine keeps private keys (files, an HSM over PKCS#11, Vault, memory) and signs with them.
 * Private key material never crosses this interface except on import, and on export where the
 * engine's capabilities say keys can leave.
 */
export type KeyType = 'RSA' | 'ECDSA' | 'ED25519';
export type HashAlgorithm = 'SHA-256' | 'SHA-384' | 'SHA-512';

/** RSA: modulus bits (2048, 3072, 4096). ECDSA: curve size (256, 384, 521). Ed25519: 256. */
export interface KeySpec {
  type: KeyType;
  bits: number;
}

export interface KeyInfo {
  /** Stable id: lowercase hex SHA-256 of the SPKI DER. Reveals nothing of the private key. */
  id: string;
  engineId: string;
  type: KeyType;
  bits: number;
  /** SubjectPublicKeyInfo, DER. */
  publicKeySpki: Uint8Array;
}

export interface CreateKeyRequest {
  spec: KeySpec;
  /** Optional human label (PKCS#11 CKA_LABEL, file-name hint); never used as the id. */
  label?: string;
}

export interface ImportKeyRequest {
  /** PKCS#8 PrivateKeyInfo, DER, unencrypted. */
  pkcs8: Uint8Array;
  label?: string;
}

export interface SignRequest {
  keyId: string;
  /** The message itself; the engine hashes it (Ed25519 signs it directly). */
  data: Uint8Array;
  /** Ignored for Ed25519. Defaults to SHA-256. */
  hash?: HashAlgorithm;
  /** RSA only. Defaults to PKCS#1 v1.5. */
  rsaPadding?: 'pkcs1' | 'pss';
  /**
   * `data` is already the digest of the message under `hash` (as long as `hash`'s output); the engine
   * signs it without hashing again. Not for Ed25519.
   */
  prehashed?: boolean;
}

export interface KeyEngineCapabilities {
  keyTypes: { type: KeyType; sizes: number[] }[];
  /** Whether private keys can be imported into this engine. */
  importable: boolean;
  /** Whether private keys can be read back out (files, Vault) or never leave (HSM). */
  exportable: boolean;
}

export interface KeyEngineHealth {
  ok: boolean;
  detail?: string;
}

export interface KeyEngine {
  /** Configured id (e.g. "filesystem-1"), unique among the engines of one server. */
  readonly id: string;
  /** Implementation kind: "filesystem" | "pkcs11" | "vault" | "memory". */
  readonly kind: string;
  capabilities(): KeyEngineCapabilities;
  createKey(req: CreateKeyRequest): Promise<KeyInfo>;
  /** Throws KEY_IMPORT_UNSUPPORTED where the engine cannot import. */
  importKey(req: ImportKeyRequest): Promise<KeyInfo>;
  /** Throws KEY_NOT_FOUND. */
  getKey(keyId: string): Promise<KeyInfo>;
  listKeys(): Promise<KeyInfo[]>;
  /**
   * Signature encodings are those X.509 expects: ECDSA as DER Ecdsa-Sig-Value, RSA as the raw
   * signature block, Ed25519 as 64 bytes.
   */
  sign(req: SignRequest): Promise<Uint8Array>;
  /** Throws KEY_NOT_FOUND for an unknown id. */
  deleteKey(keyId: string): Promise<void>;
  /** PKCS#8 DER; throws KEY_EXPORT_UNSUPPORTED where keys cannot leave. */
  exportKey?(keyId: string): Promise<Uint8Array>;
  health(): Promise<KeyEngineHealth>;
  close(): Promise<void>;
}
