/**
 * Test support: CSRs made by openssl, the independent producer, with keys of every type we accept.
 * Not imported by production code.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export type TestKeyKind = 'rsa2048' | 'rsa3072' | 'rsa4096' | 'p256' | 'p384' | 'p521' | 'ed25519';
export const TEST_KEY_KINDS: TestKeyKind[] = ['rsa2048', 'rsa3072', 'rsa4096', 'p256', 'p384', 'p521', 'ed25519'];

const keyCache = new Map<TestKeyKind, { privateKey: KeyObject; publicKey: KeyObject }>();
/** One key pair per kind for the whole test process (RSA 4096 generation is slow). */
export function testKey(kind: TestKeyKind): { privateKey: KeyObject; publicKey: KeyObject } {
  let k = keyCache.get(kind);
  if (!k) {
    if (kind.startsWith('rsa')) k = generateKeyPairSync('rsa', { modulusLength: Number(kind.slice(3)) });
    else if (kind === 'ed25519') k = generateKeyPairSync('ed25519');
    else k = generateKeyPairSync('ec', { namedCurve: `P-${kind.slice(1)}` });
    keyCache.set(kind, k);
  }
  return k;
}

export interface OpensslCsrOptions {
  /** A key from testKey, or openssl -newkey arguments (e.g. ['ec', '-pkeyopt', 'ec_paramgen_curve:secp256k1']). */
  key: TestKeyKind | string[];
  /** Omitted: the subject comes from a -config given in `extra` (openssl then also writes its attributes). */
  subj?: string;
  /** -addext values, e.g. 'subjectAltName=DNS:a.example,IP:10.0.0.1'. */
  addext?: string[];
  /** Extra arguments for openssl req (e.g. -sha384, -sigopt ...). */
  extra?: string[];
}

/** Runs `openssl req -new` and returns the CSR DER. */
export function opensslCsr(opts: OpensslCsrOptions): Uint8Array {
  const dir = mkdtempSync(path.join(tmpdir(), 'lamassu-csr-'));
  try {
    const out = path.join(dir, 'csr.der');
    const args = ['req', '-new', '-outform', 'DER', '-out', out];
    if (opts.subj !== undefined) args.push('-subj', opts.subj);
    if (Array.isArray(opts.key)) args.push('-newkey', ...opts.key, '-nodes', '-keyout', path.join(dir, 'key.pem'));
    else {
      const keyFile = path.join(dir, 'key.pem');
      writeFileSync(keyFile, testKey(opts.key).privateKey.export({ format: 'pem', type: 'pkcs8' }));
      args.push('-key', keyFile);
    }
    for (const e of opts.addext ?? []) args.push('-addext', e);
    args.push(...(opts.extra ?? []));
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    return new Uint8Array(readFileSync(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
