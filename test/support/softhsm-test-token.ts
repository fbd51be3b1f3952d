/**
 * Test support: throwaway SoftHSM2 tokens in a private directory of this process. SoftHSM reads
 * SOFTHSM2_CONF and scans its token directory in C_Initialize, so this module points the variable
 * at its own config on import, and a token created while an engine of the same module is open
 * becomes visible only after every engine is closed (the library is then finalised and
 * initialised afresh). Create tokens first, open engines after.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
process.once('exit', () => rmSync(dir, { recursive: true, force: true }));

export interface SoftHsmToken {
  label: string;
  pin: string;
  soPin: string;
  /** An engine config for this token. */
  config(overrides?: Partial<Pkcs11KeyEngineConfig>): Pkcs11KeyEngineConfig;
  /** Deletes the token and its keys. */
  remove(): Promise<void>;
}

export async function createSoftHsmToken(label = `lamassu-${randomBytes(4).toString('hex')}`): Promise<SoftHsmToken> {
  const pin = randomBytes(6).toString('hex');
  const soPin = randomBytes(6).toString('hex');
  await run('softhsm2-util', ['--init-token', '--free', '--label', label, '--so-pin', soPin, '--pin', pin]);
  return {
    label,
    pin,
    soPin,
    config: (overrides) => ({ type: 'pkcs11', id: `pkcs11-${label}`, module: pkcs11Module(), tokenLabel: label, pin, ...overrides }),
    remove: async () => {
      await run('softhsm2-util', ['--delete-token', '--token', label]);
    },
  };
}
