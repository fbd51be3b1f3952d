/**
 * Directories that hold secrets (the data directory with the inventory and password hashes, key files,
 * TLS keys) are created for the server's user only. One that already exists keeps the mode its operator
 * gave it, but a mode that lets others in is named in a warning at start.
 */
import { mkdir, stat } from 'node:fs/promises';
import type { Logger } from '../domain/ports/logger.ts';

export async function ensurePrivateDirectory(directory: string, what: string, logger?: Logger): Promise<void> {
  const created = await mkdir(directory, { recursive: true, mode: 0o700 });
  if (created !== undefined) return;
  const mode = (await stat(directory)).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    logger?.warn(
      { directory, mode: `0${mode.toString(8)}` },
      `${what} is accessible to other users: run chmod 700 on it`,
    );
  }
}
