import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ECDH, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { needNativeEcVerify } from '../../test/support/services.ts';
import type { HashAlgorithm } from '../domain/ports/key-engine.ts';
import { nativeEcVerify, type NativeEcVerify } from './native-ec-verify.ts';
import { parsePublicKey, type NamedCurve } from './public-key.ts';
import { verifyWithNodeCrypto, type SignatureAlgorithmInfo } from './signature-verify.ts';

type Hash = HashAlgorithm | 'SHA-224';
const CURVES: NamedCurve[] = ['P-256', 'P-384', 'P-521'];
const HASHES: Hash[] = ['SHA-224', 'SHA-256', 'SHA-384', 'SHA-512'];
const OPENSSL_CURVE: Record<NamedCurve, string> = { 'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1' };
const nodeHash = (h: Hash) => h.replace('-', '').toLowerCase();

function keyOf(curve: NamedCurve) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
  const info = parsePublicKey(new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })));
  return { privateKey, info };
}

const alg = (hash: Hash): SignatureAlgorithmInfo => ({ oid: 'test', scheme: 'ecdsa', hash });
const sigOf = (key: KeyObject, hash: Hash, data: Uint8Array) => new Uint8Array(sign(nodeHash(hash), data, key));
const flip = (b: Uint8Array, at: number) => {
  const c = Uint8Array.from(b);
  c[at]! ^= 0x01;
  return c;
};

async function native(t: import('node:test').TestContext): Promise<NativeEcVerify | undefined> {
  return (await needNativeEcVerify(t)) ? nativeEcVerify() : undefined;
}

test('native ECDSA verifier agrees with node:crypto for every curve and hash, genuine and tampered', async (t) => {
  const verify = await native(t);
  if (!verify) return;
  for (const curve of CURVES) {
    const { privateKey, info } = keyOf(curve);
    for (const hash of HASHES) {
      const data = randomBytes(300);
      const sig = sigOf(privateKey, hash, data);
      const cases: [string, Uint8Array, Uint8Array, boolean][] = [
        ['genuine', data, sig, true],
        ['data changed', flip(data, 17), sig, false],
        ['signature changed', data, flip(sig, sig.length - 1), false],
        ['signature with a trailing byte', data, Uint8Array.from([...sig, 0]), false],
        ['signature truncated', data, sig.subarray(0, sig.length - 1), false],
      ];
      for (const [what, d, s, want] of cases) {
        assert.equal(verify(curve, hash, info.key, d, s), want, `${curve} ${hash} ${what}: native`);
        assert.equal(verifyWithNodeCrypto(info, alg(hash), d, s), want, `${curve} ${hash} ${what}: node:crypto`);
      }
    }
  }
});

test('native ECDSA verifier takes compressed points', async (t) => {
  const verify = await native(t);
  if (!verify) return;
  for (const curve of CURVES) {
    const { privateKey, info } = keyOf(curve);
    const point = new Uint8Array(ECDH.convertKey(info.key, OPENSSL_CURVE[curve], undefined, undefined, 'compressed') as Buffer);
    assert.equal(point.length, info.key.length === 65 ? 33 : (info.key.length + 1) / 2);
    const data = randomBytes(64);
    assert.equal(verify(curve, 'SHA-256', point, data, sigOf(privateKey, 'SHA-256', data)), true, curve);
  }
});

test('native ECDSA verifier refuses malformed keys and signatures without throwing', async (t) => {
  const verify = await native(t);
  if (!verify) return;
  const { privateKey, info } = keyOf('P-256');
  const data = randomBytes(100);
  const sig = sigOf(privateKey, 'SHA-256', data);
  const other = keyOf('P-384').info;
  const badPoints: [string, Uint8Array][] = [
    ['off the curve', flip(info.key, 64)],
    ['the point at infinity', new Uint8Array([0])],
    ['uncompressed marker missing', Uint8Array.from([0x05, ...info.key.subarray(1)])],
    ['a byte short', info.key.subarray(0, 64)],
    ['empty', new Uint8Array(0)],
    ['a P-384 point', other.key],
  ];
  for (const [what, point] of badPoints) assert.equal(verify('P-256', 'SHA-256', point, data, sig), false, what);
  const badSigs: [string, Uint8Array][] = [
    ['empty', new Uint8Array(0)],
    ['random bytes', randomBytes(70)],
    ['huge', new Uint8Array(10_000).fill(0x30)],
    ['r and s zero', new Uint8Array([0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00])],
    ['raw r||s instead of DER', randomBytes(64)],
  ];
  for (const [what, s] of badSigs) {
    assert.equal(verify('P-256', 'SHA-256', info.key, data, s), false, what);
    assert.equal(verifyWithNodeCrypto(info, alg('SHA-256'), data, s), false, `${what} (node:crypto)`);
  }
  // A non-minimal DER INTEGER (r with an extra leading zero) is BER, not DER: both routes refuse it.
  const rLen = sig[3]!;
  const ber = Uint8Array.from([0x30, sig[1]! + 1, 0x02, rLen + 1, 0x00, ...sig.subarray(4)]);
  assert.equal(verify('P-256', 'SHA-256', info.key, data, ber), false, 'BER signature');
  assert.equal(verifyWithNodeCrypto(info, alg('SHA-256'), data, ber), false, 'BER signature (node:crypto)');
  // Still verifies the genuine one afterwards: nothing left behind on OpenSSL's error queue matters.
  assert.equal(verify('P-256', 'SHA-256', info.key, data, sig), true);
  assert.throws(() => verify('P-256', 'SHA-256', 'not bytes' as unknown as Uint8Array, data, sig), TypeError);
});

test('native ECDSA verifier and node:crypto agree on 600 random single-byte corruptions', async (t) => {
  const verify = await native(t);
  if (!verify) return;
  const { privateKey, info } = keyOf('P-256');
  const data = randomBytes(200);
  const sig = sigOf(privateKey, 'SHA-256', data);
  for (let i = 0; i < 600; i++) {
    const target = i % 3;
    // The point's format byte stays: node:crypto's route would then load the SPKI instead of the point.
    const p = target === 0 ? flip(info.key, 1 + (i % (info.key.length - 1))) : info.key;
    const d = target === 1 ? flip(data, i % data.length) : data;
    const s = target === 2 ? flip(sig, i % sig.length) : sig;
    const keyInfo = target === 0 ? { ...info, key: p } : info;
    assert.equal(verify('P-256', 'SHA-256', p, d, s), verifyWithNodeCrypto(keyInfo, alg('SHA-256'), d, s), `corruption ${i}`);
  }
});
