/** Admin API tokens for the embedded default. Only a hash of a token is ever stored. */
export type AdminRole = 'pki-admin' | 'pki-viewer';

export interface AdminTokenRecord {
  id: string;
  /** Hex SHA-256 of the token. */
  tokenHash: string;
  subject: string;
  role: AdminRole;
  createdAt: Date;
}

export interface AdminTokenRepository {
  insert(record: AdminTokenRecord): Promise<void>;
  findByHash(tokenHash: string): Promise<AdminTokenRecord | undefined>;
  count(): Promise<number>;
}
