/** HTTP Basic passwords of DMSs, hashed with scrypt (RFC 7914) and a random salt; compared in constant time. */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { PasswordHasher } from '../../domain/dms/password-hasher.ts';

// N=2^15, r=8, p=1: 32 MiB and tens of ms per check. Below OWASP's N=2^17 on purpose: every HTTP Basic
// enrollment pays this on a shared CPU. The parameters travel in each hash, so they can be raised later.
const PARAMS = { N: 1 << 15, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, params: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { ...params, maxmem: 128 * params.N * params.r * 2 };
  return new Promise((resolve, reject) => scrypt(password.normalize('NFC'), salt, KEY_LENGTH, options, (err, key) => (err ? reject(err) : resolve(key))));
}

/** Format: `scrypt$N$r$p$<salt base64>$<hash base64>`, so the parameters can change without breaking stored hashes. */
export class ScryptPasswordHasher implements PasswordHasher {
  async hash(password: string): Promise<string> {
    const salt = randomBytes(16);
    const key = await derive(password, salt, PARAMS);
    return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64'), key.toString('base64')].join('$');
  }

  async verify(password: string, hash: string): Promise<boolean> {
    const parts = hash.split('$');
    if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
    const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
    if (![N, r, p].every((n) => Number.isSafeInteger(n) && n > 0) || N > 1 << 20) return false;
    const expected = Buffer.from(parts[5]!, 'base64');
    if (expected.length !== KEY_LENGTH) return false;
    const key = await derive(password, Buffer.from(parts[4]!, 'base64'), { N, r, p });
    return timingSafeEqual(key, expected);
  }
}
