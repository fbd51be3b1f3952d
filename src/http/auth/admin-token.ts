/**
 * The embedded admin token: created on the first start so a fresh install can be administered without
 * an identity provider. Only its SHA-256 is stored; the token itself is written once to a 0600 file.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AdminTokenRepository } from '../../domain/ports/admin-token.ts';
import type { Clock } from '../../domain/ports/clock.ts';
import type { Logger } from '../../domain/ports/logger.ts';
import type { Identity } from './identity.ts';

export const ADMIN_TOKEN_FILE = 'admin-token';
export const ADMIN_TOKEN_SUBJECT = 'admin';

export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

export interface EnsureAdminTokenOptions {
  tokens: AdminTokenRepository;
  dataDir: string;
  clock: Clock;
  logger: Logger;
}

/** Creates the admin token unless one exists; returns the path of the token file. */
export async function ensureAdminToken(opts: EnsureAdminTokenOptions): Promise<string> {
  const file = path.join(opts.dataDir, ADMIN_TOKEN_FILE);
  if ((await opts.tokens.count()) > 0) {
    if (existsSync(file)) opts.logger.info({ file }, 'admin API token exists (created on first start; see that file)');
    else opts.logger.warn({ file }, 'admin API token exists but its file is gone; the token cannot be shown again');
    return file;
  }
  const token = randomBytes(32).toString('base64url');
  // The file comes first: a token stored but never written out could not be recovered.
  await mkdir(opts.dataDir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${token}\n`, { mode: 0o600 });
  await rename(tmp, file);
  await opts.tokens.insert({
    id: randomBytes(16).toString('hex'),
    tokenHash: hashToken(token),
    subject: ADMIN_TOKEN_SUBJECT,
    role: 'pki-admin',
    createdAt: opts.clock.now(),
  });
  opts.logger.info({ file }, 'admin API token created and written to this file (mode 0600)');
  return file;
}

/** Identity of an admin token, or undefined for an unknown token. */
export async function verifyAdminToken(tokens: AdminTokenRepository, token: string): Promise<Identity | undefined> {
  const record = await tokens.findByHash(hashToken(token));
  return record && { subject: record.subject, role: record.role, via: 'admin-token' };
}
