/**
 * The one contract every KeyEngine passes. Each engine's test file calls
 * `runKeyEngineContract(name, setup)`; the suite creates every key type the engine's capabilities
 * list, and every standard spec it does NOT list must be refused with KEY_TYPE_UNSUPPORTED, so no
 * type is skipped silently. Signatures are checked with node:crypto, independently of the engine.
 *
 * Lifecycle: the suite owns the engines. It closes the current engine before `reopen()` and at the
 * end; `cleanup()` only removes what the setup created (directories, tokens, fake servers).
 */
import assert from 'node:assert/strict';
import {
  constants,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  verify,
  type KeyObject,
} from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { isDomainError } from '../../src/domain/errors.ts';
import type { HashAlgorithm, KeyEngine, KeyInfo, KeySpec, KeyType } from '../../src/domain/ports/key-engine.ts';

export interface KeyEngineFixture {
  engine: KeyEngine;
  /** Removes the storage the setup created. Engines are closed by the suite beforehand. */
  cleanup(): Promise<void>;
  /** Opens a fresh engine on the same storage (persistent engines only). */
  reopen?: () => Promise<KeyEngine>;
}

/** The specs Lamassu knows; an engine supports a subset and must refuse the rest. */
export const STANDARD_KEY_SPECS: readonly KeySpec[] = [
  { type: 'RSA', bits: 2048 },
  { type: 'RSA', bits: 3072 },
  { type: 'RSA', bits: 4096 },
  { type: 'ECDSA', bits: 256 },
  { type: 'ECDSA', bits: 384 },
  { type: 'ECDSA', bits: 521 },
  { type: 'ED25519', bits: 256 },
];

const HASHES: readonly HashAlgorithm[] = ['SHA-256', 'SHA-384', 'SHA-512'];
const HASH_BYTES: Record<HashAlgorithm, number> = { 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64 };
const NODE_HASH: Record<HashAlgorithm, string> = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };
const CURVES: Record<number, string> = { 256: 'prime256v1', 384: 'secp384r1', 521: 'secp521r1' };
const NODE_KEY_TYPE: Record<KeyType, string> = { RSA: 'rsa', ECDSA: 'ec', ED25519: 'ed25519' };

const label = (s: KeySpec) => `${s.type} ${s.bits}`;
const sha256Hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const spkiKey = (spki: Uint8Array): KeyObject =>
  createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });

/** Resolves when `p` rejects with a DomainError carrying `code` (and `kind`, when given). */
export async function rejectsWithCode(p: Promise<unknown>, code: string, kind?: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isDomainError(e), `expected a DomainError ${code}, got ${String(e)}`);
    assert.equal(e.code, code);
    if (kind) assert.equal(e.kind, kind);
    return true;
  });
}

/** Verifies `signature` over `data` with node:crypto, the way an X.509 verifier would. */
export function verifiesWith(
  spki: Uint8Array,
  type: KeyType,
  data: Uint8Array,
  signature: Uint8Array,
  hash: HashAlgorithm = 'SHA-256',
  rsaPadding: 'pkcs1' | 'pss' = 'pkcs1',
): boolean {
  const key = spkiKey(spki);
  if (type === 'ED25519') return verify(null, data, key, signature);
  if (type === 'ECDSA') return verify(NODE_HASH[hash], data, { key, dsaEncoding: 'der' }, signature);
  if (rsaPadding === 'pss') {
    return verify(
      NODE_HASH[hash],
      data,
      { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: HASH_BYTES[hash] },
      signature,
    );
  }
  return verify(NODE_HASH[hash], data, { key, padding: constants.RSA_PKCS1_PADDING }, signature);
}

function assertKeyInfoMatches(info: KeyInfo, spec: KeySpec, engineId: string): void {
  assert.match(info.id, /^[0-9a-f]{64}$/);
  assert.equal(info.id, sha256Hex(info.publicKeySpki), 'key id must be hex SHA-256 of the SPKI DER');
  assert.equal(info.engineId, engineId);
  assert.equal(info.type, spec.type);
  assert.equal(info.bits, spec.bits);
  const pub = spkiKey(info.publicKeySpki);
  assert.equal(pub.asymmetricKeyType, NODE_KEY_TYPE[spec.type]);
  if (spec.type === 'RSA') assert.equal(pub.asymmetricKeyDetails?.modulusLength, spec.bits);
  if (spec.type === 'ECDSA') assert.equal(pub.asymmetricKeyDetails?.namedCurve, CURVES[spec.bits]);
}

function generatePkcs8(spec: KeySpec): { pkcs8: Uint8Array; spki: Uint8Array } {
  const pair =
    spec.type === 'RSA'
      ? generateKeyPairSync('rsa', { modulusLength: spec.bits })
      : spec.type === 'ECDSA'
        ? generateKeyPairSync('ec', { namedCurve: CURVES[spec.bits] })
        : generateKeyPairSync('ed25519');
  return {
    pkcs8: pair.privateKey.export({ format: 'der', type: 'pkcs8' }),
    spki: pair.publicKey.export({ format: 'der', type: 'spki' }),
  };
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => assert.deepEqual(Buffer.from(a), Buffer.from(b));

export function runKeyEngineContract(name: string, setup: () => Promise<KeyEngineFixture>): void {
  describe(`KeyEngine contract: ${name}`, () => {
    let fixture: KeyEngineFixture;
    let engine: KeyEngine;
    const keys = new Map<string, Promise<KeyInfo>>();
    // One key per spec for the whole suite: RSA 4096 generation is slow.
    const keyFor = (spec: KeySpec): Promise<KeyInfo> => {
      let k = keys.get(label(spec));
      if (!k) {
        k = engine.createKey({ spec, label: `contract ${label(spec)}` });
        keys.set(label(spec), k);
      }
      return k;
    };

    before(async () => {
      fixture = await setup();
      engine = fixture.engine;
    });
    after(async () => {
      await engine?.close();
      await fixture?.cleanup();
    });

    const supported = (spec: KeySpec) =>
      engine.capabilities().keyTypes.some((t) => t.type === spec.type && t.sizes.includes(spec.bits));
    // For tests about lifecycle rather than algorithms: a fast-to-generate supported spec.
    const cheapSpec = () =>
      STANDARD_KEY_SPECS.find((s) => s.type === 'ECDSA' && supported(s)) ?? STANDARD_KEY_SPECS.find(supported)!;

    it('declares at least one key type, all within the standard specs', () => {
      const caps = engine.capabilities();
      assert.ok(caps.keyTypes.length > 0);
      for (const t of caps.keyTypes) {
        for (const bits of t.sizes) {
          assert.ok(
            STANDARD_KEY_SPECS.some((s) => s.type === t.type && s.bits === bits),
            `capability ${t.type} ${bits} is not a standard spec`,
          );
        }
      }
    });

    it('reports health ok', async () => {
      const h = await engine.health();
      assert.equal(h.ok, true, h.detail);
    });

    for (const spec of STANDARD_KEY_SPECS) {
      describe(label(spec), () => {
        it('is created when supported, refused with KEY_TYPE_UNSUPPORTED otherwise', async () => {
          if (!supported(spec)) {
            await rejectsWithCode(engine.createKey({ spec }), 'KEY_TYPE_UNSUPPORTED', 'unsupported');
            return;
          }
          assertKeyInfoMatches(await keyFor(spec), spec, engine.id);
        });

        it('getKey and listKeys return the same id and SPKI', async (t) => {
          if (!supported(spec)) return t.skip(`${label(spec)} not in capabilities (refusal tested above)`);
          const created = await keyFor(spec);
          const got = await engine.getKey(created.id);
          assert.equal(got.id, created.id);
          sameBytes(got.publicKeySpki, created.publicKeySpki);
          assertKeyInfoMatches(got, spec, engine.id);
          const listed = (await engine.listKeys()).find((k) => k.id === created.id);
          assert.ok(listed, 'created key missing from listKeys');
          sameBytes(listed.publicKeySpki, created.publicKeySpki);
          assertKeyInfoMatches(listed, spec, engine.id);
        });

        const variants: { hash?: HashAlgorithm; rsaPadding?: 'pkcs1' | 'pss' }[] =
          spec.type === 'ED25519'
            ? [{}]
            : spec.type === 'RSA'
              ? [{}, ...HASHES.flatMap((hash) => [{ hash }, { hash, rsaPadding: 'pss' as const }])]
              : [{}, ...HASHES.map((hash) => ({ hash }))];
        for (const v of variants) {
          const what = `${v.hash ?? 'default hash'}${v.rsaPadding ? ` ${v.rsaPadding}` : ''}`;
          it(`signs verifiably (${what})`, async (t) => {
            if (!supported(spec)) return t.skip(`${label(spec)} not in capabilities (refusal tested above)`);
            const key = await keyFor(spec);
            const data = Buffer.from(`contract message ${what}`);
            const sig = await engine.sign({ keyId: key.id, data, ...v });
            assert.ok(
              verifiesWith(key.publicKeySpki, spec.type, data, sig, v.hash, v.rsaPadding),
              'signature does not verify',
            );
            assert.ok(
              !verifiesWith(key.publicKeySpki, spec.type, Buffer.from('other message'), sig, v.hash, v.rsaPadding),
              'signature verifies over a different message',
            );
            if (spec.type === 'ECDSA') assert.equal(sig[0], 0x30, 'ECDSA signature must be DER');
            if (spec.type === 'ED25519') assert.equal(sig.length, 64);
            if (spec.type === 'RSA') assert.equal(sig.length, spec.bits / 8);
          });
          if (spec.type === 'ED25519' || !v.hash) continue;
          it(`signs a digest the caller computed (prehashed, ${what}): the same signature as over the message`, async (t) => {
            if (!supported(spec)) return t.skip(`${label(spec)} not in capabilities (refusal tested above)`);
            const key = await keyFor(spec);
            const data = Buffer.from(`contract digest ${what}`);
            const digest = createHash(NODE_HASH[v.hash!]).update(data).digest();
            const sig = await engine.sign({ keyId: key.id, data: digest, prehashed: true, ...v });
            assert.ok(verifiesWith(key.publicKeySpki, spec.type, data, sig, v.hash, v.rsaPadding), 'signature over the digest does not verify over the message');
            assert.ok(!verifiesWith(key.publicKeySpki, spec.type, digest, sig, v.hash, v.rsaPadding), 'the digest was hashed again');
            await rejectsWithCode(engine.sign({ keyId: key.id, data: digest.subarray(1), prehashed: true, ...v }), 'SIGN_ALGORITHM_UNSUPPORTED');
          });
        }
      });
    }

    it('refuses non-standard specs with KEY_TYPE_UNSUPPORTED', async () => {
      const bad = [
        { type: 'RSA', bits: 1000 },
        { type: 'RSA', bits: 1024 },
        { type: 'ECDSA', bits: 255 },
        { type: 'ED25519', bits: 448 },
        { type: 'DSA', bits: 2048 },
      ] as unknown as KeySpec[];
      for (const spec of bad) {
        await rejectsWithCode(engine.createKey({ spec }), 'KEY_TYPE_UNSUPPORTED', 'unsupported');
      }
    });

    it('refuses an unknown hash with SIGN_ALGORITHM_UNSUPPORTED', async (t) => {
      const spec =
        STANDARD_KEY_SPECS.find((s) => s.type === 'ECDSA' && supported(s)) ??
        STANDARD_KEY_SPECS.find((s) => s.type !== 'ED25519' && supported(s));
      if (!spec) return t.skip('no hashed signature type in capabilities');
      const key = await keyFor(spec);
      await rejectsWithCode(
        engine.sign({ keyId: key.id, data: Buffer.from('x'), hash: 'MD5' as HashAlgorithm }),
        'SIGN_ALGORITHM_UNSUPPORTED',
      );
    });

    it('sign, getKey and deleteKey on an unknown id throw KEY_NOT_FOUND', async () => {
      for (const id of ['0'.repeat(64), '../../etc/passwd', '', 'not-a-key']) {
        await rejectsWithCode(engine.sign({ keyId: id, data: Buffer.from('x') }), 'KEY_NOT_FOUND', 'not_found');
        await rejectsWithCode(engine.getKey(id), 'KEY_NOT_FOUND', 'not_found');
        await rejectsWithCode(engine.deleteKey(id), 'KEY_NOT_FOUND', 'not_found');
      }
    });

    describe('import', () => {
      for (const spec of STANDARD_KEY_SPECS.filter((s) => s.bits !== 4096 && s.bits !== 3072)) {
        it(`imports a PKCS#8 ${label(spec)} key (or refuses as the capabilities say)`, async () => {
          const { pkcs8, spki } = generatePkcs8(spec);
          if (!engine.capabilities().importable) {
            await rejectsWithCode(engine.importKey({ pkcs8 }), 'KEY_IMPORT_UNSUPPORTED', 'unsupported');
            return;
          }
          if (!supported(spec)) {
            await rejectsWithCode(engine.importKey({ pkcs8 }), 'KEY_TYPE_UNSUPPORTED', 'unsupported');
            return;
          }
          const info = await engine.importKey({ pkcs8, label: `imported ${label(spec)}` });
          assertKeyInfoMatches(info, spec, engine.id);
          sameBytes(info.publicKeySpki, spki);
          assert.equal(info.id, sha256Hex(spki));
          sameBytes((await engine.getKey(info.id)).publicKeySpki, spki);
          const data = Buffer.from('imported key signs');
          assert.ok(verifiesWith(spki, spec.type, data, await engine.sign({ keyId: info.id, data })));
        });
      }

      it('refuses malformed PKCS#8 with KEY_INVALID without echoing the bytes', async (t) => {
        if (!engine.capabilities().importable) return t.skip('engine cannot import (refusal tested above)');
        const { pkcs8 } = generatePkcs8({ type: 'ECDSA', bits: 256 });
        const truncated = pkcs8.subarray(0, pkcs8.length - 10);
        for (const bytes of [Buffer.from('not a key at all'), truncated, new Uint8Array(0)]) {
          await assert.rejects(engine.importKey({ pkcs8: bytes }), (e: unknown) => {
            assert.ok(isDomainError(e));
            assert.equal(e.code, 'KEY_INVALID');
            assert.equal(e.kind, 'invalid');
            const shown = `${e.message} ${JSON.stringify(e.details ?? {})}`;
            if (bytes.length >= 8) {
              assert.ok(!shown.includes(Buffer.from(bytes).toString('hex').slice(0, 16)));
              assert.ok(!shown.includes(Buffer.from(bytes).toString('base64').slice(0, 12)));
            }
            return true;
          });
        }
      });

      it('refuses PKCS#8 keys of unsupported curves with KEY_TYPE_UNSUPPORTED', async (t) => {
        if (!engine.capabilities().importable) return t.skip('engine cannot import (refusal tested above)');
        const k = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
        await rejectsWithCode(
          engine.importKey({ pkcs8: k.privateKey.export({ format: 'der', type: 'pkcs8' }) }),
          'KEY_TYPE_UNSUPPORTED',
        );
      });
    });

    it('exports PKCS#8 only where capabilities say keys can leave', async () => {
      const spec = cheapSpec();
      const key = await keyFor(spec);
      if (!engine.capabilities().exportable) {
        if (engine.exportKey) await rejectsWithCode(engine.exportKey(key.id), 'KEY_EXPORT_UNSUPPORTED');
        return;
      }
      assert.ok(engine.exportKey, 'exportable engine must implement exportKey');
      const pkcs8 = await engine.exportKey(key.id);
      const priv = createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' });
      const spki = createPublicKey(priv).export({
        format: 'der',
        type: 'spki',
      });
      sameBytes(spki, key.publicKeySpki);
      await rejectsWithCode(engine.exportKey('0'.repeat(64)), 'KEY_NOT_FOUND');
    });

    it('deletes a key: getKey, sign and a second delete then throw KEY_NOT_FOUND', async () => {
      const spec = cheapSpec();
      const key = await engine.createKey({ spec, label: 'to delete' });
      await engine.deleteKey(key.id);
      await rejectsWithCode(engine.getKey(key.id), 'KEY_NOT_FOUND', 'not_found');
      await rejectsWithCode(engine.sign({ keyId: key.id, data: Buffer.from('x') }), 'KEY_NOT_FOUND');
      await rejectsWithCode(engine.deleteKey(key.id), 'KEY_NOT_FOUND');
      assert.ok(!(await engine.listKeys()).some((k) => k.id === key.id), 'deleted key still listed');
    });

    it('signs 50 requests in parallel over several keys, all verifiable', async () => {
      // RSA 2048 and every non-RSA type; larger RSA keys add time, not coverage.
      let specs = STANDARD_KEY_SPECS.filter((s) => supported(s) && (s.type !== 'RSA' || s.bits === 2048));
      if (specs.length === 0) specs = [STANDARD_KEY_SPECS.find(supported)!];
      const infos = await Promise.all(specs.map(keyFor));
      const jobs = Array.from({ length: 50 }, (_, i) => {
        const key = infos[i % infos.length];
        const type = specs[i % specs.length].type;
        const data = Buffer.from(`parallel ${i}`);
        return engine.sign({ keyId: key.id, data }).then((sig) => ({ key, type, data, sig }));
      });
      for (const { key, type, data, sig } of await Promise.all(jobs)) {
        assert.ok(verifiesWith(key.publicKeySpki, type, data, sig), `parallel signature by ${type} failed`);
      }
    });

    it('keeps keys across re-opening the engine (persistent engines)', async (t) => {
      if (!fixture.reopen) return t.skip(`${name} is not persistent`);
      const spec = cheapSpec();
      const key = await keyFor(spec);
      const idsBefore = (await engine.listKeys()).map((k) => k.id).sort();
      await engine.close();
      engine = await fixture.reopen();
      const got = await engine.getKey(key.id);
      sameBytes(got.publicKeySpki, key.publicKeySpki);
      assert.deepEqual((await engine.listKeys()).map((k) => k.id).sort(), idsBefore);
      const data = Buffer.from('after reopen');
      assert.ok(verifiesWith(key.publicKeySpki, spec.type, data, await engine.sign({ keyId: key.id, data })));
    });
  });
}
