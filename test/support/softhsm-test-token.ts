/**
 * Test support: throwaway SoftHSM2 tokens in a private directory of this process. SoftHSM reads
 * SOFTHSM2_CONF and scans its token directory in C_Initialize, so this module points the variable
 * at its own config on import, and a token created while an engine of the same module is open
 * becomes visible only after every engine is closed (the library is then finalised and
 * initialised afresh). Create tokens first, open engines after.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { pkcs11Module } from './services.ts';
import type { Pkcs11KeyEngineConfig } from '../../src/engines/crypto/pkcs11/pkcs11-key-engine.ts';

const run = promisify(execFile);
const dir = mkdtempSync(path.join(tmpdir(), 'lamassu-softhsm-'));
const conf = path.join(dir, 'softhsm2.conf');
writeFileSync(conf, `directories.tokendir = ${dir}\nobjectstore.backend = file\nlog.level = ERROR\n`);
process.env.SOFTHSM2_CONF = conf;
process.once('exit', () => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(`${dir}-away`, { recursive: true, force: true });
});

/** SOFTHSM2_CONF of this process's tokens, for a child process (the real server) to use them too. */
export const softHsmConf = conf;

/** SoftHSM keeps each token in a directory of its own, named by a UUID; its token.object holds the padded label. */
function tokenDirectoryOf(label: string): string {
  const padded = Buffer.from(label.padEnd(32, ' '));
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const object = path.join(dir, entry.name, 'token.object');
    try {
      if (readFileSync(object).includes(padded)) return path.join(dir, entry.name);
    } catch {
      // Not a token directory.
    }
  }
  throw new Error(`no SoftHSM token directory for label ${label}`);
}

/** Beside the token directory (same file system, so a rename moves a token in one step). */
function awayDir(): string {
  const away = `${dir}-away`;
  mkdirSync(away, { recursive: true });
  return away;
}

export interface SoftHsmToken {
  label: string;
  pin: string;
  soPin: string;
  /** An engine config for this token. */
  config(overrides?: Partial<Pkcs11KeyEngineConfig>): Pkcs11KeyEngineConfig;
  /** Deletes the token and its keys. */
  remove(): Promise<void>;
  /**
   * Makes the token vanish as an unplugged HSM would, to anyone using the library (this process or a
   * child using softHsmConf): its directory moves out of the token directory. putBack() undoes it.
   */
  takeAway(): void;
  putBack(): void;
}

export async function createSoftHsmToken(label = `lamassu-${randomBytes(4).toString('hex')}`): Promise<SoftHsmToken> {
  const pin = randomBytes(6).toString('hex');
  const soPin = randomBytes(6).toString('hex');
  await run('softhsm2-util', ['--init-token', '--free', '--label', label, '--so-pin', soPin, '--pin', pin]);
  let away: { from: string; to: string } | undefined;
  const putBack = () => {
    if (!away) return;
    renameSync(away.to, away.from);
    away = undefined;
  };
  return {
    label,
    pin,
    soPin,
    config: (overrides) => ({ type: 'pkcs11', id: `pkcs11-${label}`, module: pkcs11Module(), tokenLabel: label, pin, ...overrides }),
    remove: async () => {
      if (away) putBack();
      await run('softhsm2-util', ['--delete-token', '--token', label]);
    },
    takeAway: () => {
      if (away) return;
      const from = tokenDirectoryOf(label);
      away = { from, to: path.join(awayDir(), path.basename(from)) };
      renameSync(away.from, away.to);
    },
    putBack,
  };
}
