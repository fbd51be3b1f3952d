/** Hashes HTTP Basic passwords of DMSs (the adapter uses scrypt); the clear password is never stored. */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Constant-time comparison; false for a malformed hash. */
  verify(password: string, hash: string): Promise<boolean>;
}
