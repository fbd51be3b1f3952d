/**
 * The issuance hot path: what one certificate from a CSR costs, in units of one raw P-256 signature.
 * Every CSR carries a fresh key (as devices do), so nothing about the requester's key can be cached.
 */
import { constants, createPublicKey, generateKeyPairSync, KeyObject, sign, verify, webcrypto, type KeyObject as KeyObjectType } from 'node:crypto';
import { createCertificateTemplate, randomSerialNumber, signCertificate } from '../src/x509/certificate-template.ts';
import { parseCsr, verifyCsrSignature, verifyCsrSignatureAsync, type ParsedCsr } from '../src/x509/csr.ts';
import { contextTag, oid, sequence, set, smallInteger, tlv, bitString } from '../src/x509/der.ts';
import { extension, ExtensionOid } from '../src/x509/extensions.ts';
import { keyObjectSigner } from '../src/x509/key-object-signer.ts';
import { buildName } from '../src/x509/name.ts';
import { nativeEcVerify } from '../src/x509/native-ec-verify.ts';
import { subjectKeyIdentifier } from '../src/x509/public-key.ts';
import { verifyWithNodeCrypto } from '../src/x509/signature-verify.ts';
import { algorithmIdentifier, type SignatureAlgorithm } from '../src/x509/signer.ts';

const POOL = 300;
/** The machine is shared: each case runs ROUNDS times, interleaved with the others, and the median is kept. */
const ROUNDS = 5;
const MS_PER_ROUND = 150;

/** A PKCS#10 request with a SAN, signed by `privateKey` (the bench's own producer, to build hundreds quickly). */
function makeCsr(privateKey: KeyObjectType, publicKey: KeyObjectType, alg: SignatureAlgorithm, hash: string | null, i: number): Uint8Array {
  const san = sequence(tlv(0x82, new TextEncoder().encode(`device-${i}.example`)));
  const extReq = sequence(oid('1.2.840.113549.1.9.14'), set(sequence(extension(ExtensionOid.subjectAltName, false, san))));
  const info = sequence(
    smallInteger(0),
    buildName({ common_name: `device-${i}`, organization: 'Lamassu' }),
    new Uint8Array(publicKey.export({ format: 'der', type: 'spki' })),
    tlv(contextTag(0, true), extReq),
  );
  return sequence(info, algorithmIdentifier(alg), bitString(new Uint8Array(sign(hash, info, privateKey))));
}

function pool(kind: 'p256' | 'rsa2048' | 'ed25519', n: number): ParsedCsr[] {
  const out: ParsedCsr[] = [];
  for (let i = 0; i < n; i++) {
    const k =
      kind === 'p256'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : kind === 'ed25519'
          ? generateKeyPairSync('ed25519')
          : generateKeyPairSync('rsa', { modulusLength: 2048 });
    const alg: SignatureAlgorithm = kind === 'p256' ? 'ecdsa-with-SHA256' : kind === 'ed25519' ? 'Ed25519' : 'sha256WithRSAEncryption';
    out.push(parseCsr(makeCsr(k.privateKey, k.publicKey, alg, kind === 'ed25519' ? null : 'sha256', i)));
  }
  return out;
}

interface Sample {
  /** Wall-clock microseconds per call. */
  wall: number;
  /** Process CPU microseconds per call (all threads: WebCrypto verifies on the libuv pool). */
  cpu: number;
}

/** Per-call cost over MS_PER_ROUND of wall time (after a short warm-up). */
async function time(fn: (i: number) => unknown | Promise<unknown>): Promise<Sample> {
  for (let i = 0; i < 20; i++) await fn(i);
  let n = 0;
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(MS_PER_ROUND) * 1_000_000n;
  let now = start;
  while (now < deadline) {
    for (let j = 0; j < 25; j++) await fn(n++);
    now = process.hrtime.bigint();
  }
  const cpu = process.cpuUsage(cpu0);
  return { wall: Number(now - start) / 1000 / n, cpu: (cpu.user + cpu.system) / n };
}

const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1]!;

/** DER Ecdsa-Sig-Value to the fixed-width r||s WebCrypto wants. */
function derToP1363(sig: Uint8Array, size: number): Uint8Array {
  let off = 2 + (sig[1]! & 0x80 ? sig[1]! & 0x7f : 0);
  const out = new Uint8Array(2 * size);
  for (let k = 0; k < 2; k++) {
    const len = sig[off + 1]!;
    let v = sig.subarray(off + 2, off + 2 + len);
    if (v.length > size) v = v.subarray(v.length - size);
    out.set(v, (k + 1) * size - v.length);
    off += 2 + len;
  }
  return out;
}

export async function run(): Promise<void> {
  const ca = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signer = keyObjectSigner(ca.privateKey);
  const caName = buildName({ common_name: 'Bench Issuing CA', organization: 'Lamassu' });
  const template = createCertificateTemplate({
    issuerName: caName,
    issuerKeyIdentifier: subjectKeyIdentifier({ key: new Uint8Array(20) }),
    signatureAlgorithm: signer.algorithm,
    basicConstraints: { ca: false },
    keyUsage: ['digitalSignature'],
    extendedKeyUsage: ['clientAuth'],
    crlDistributionPoints: ['http://va.example/api/va/crl/bench'],
    ocspUrls: ['http://va.example/api/va/ocsp'],
  });
  const p256 = pool('p256', POOL);
  const rsa = pool('rsa2048', 40);
  const ed = pool('ed25519', POOL);
  const pick = <T>(xs: T[], i: number) => xs[i % xs.length]!;
  const tbsInput = (c: ParsedCsr) => ({
    serialNumber: randomSerialNumber(),
    notBefore: new Date(1_800_000_000_000),
    notAfter: new Date(1_831_536_000_000),
    subjectName: c.subjectName,
    spki: c.publicKey.spki,
    subjectKeyIdentifier: subjectKeyIdentifier(c.publicKey),
    subjectAltName: c.extensions.subjectAltName,
  });
  const sampleTbs = template.tbs(tbsInput(p256[0]!));

  const cases: [string, (i: number) => unknown | Promise<unknown>][] = [];
  const add = (name: string, fn: (i: number) => unknown | Promise<unknown>) => cases.push([name, fn]);
  const must = (ok: boolean) => {
    if (!ok) throw new Error('verification failed in benchmark');
  };

  add('raw P-256 sign of a TBS (cached CA KeyObject)', () => sign('sha256', sampleTbs, ca.privateKey));
  add('P-256 verify, cached public KeyObject (floor)', (i) => {
    const c = pick(p256, i);
    return verify('sha256', c.info, ca.publicKey, c.signature);
  });
  add('CSR verify P-256: createPublicKey(SPKI DER) + verify', (i) => {
    const c = pick(p256, i);
    must(verify('sha256', c.info, createPublicKey({ key: Buffer.from(c.publicKey.spki), format: 'der', type: 'spki' }), c.signature));
  });
  add('CSR verify P-256: verify({key: DER, spki})', (i) => {
    const c = pick(p256, i);
    must(verify('sha256', c.info, { key: Buffer.from(c.publicKey.spki), format: 'der', type: 'spki' }, c.signature));
  });
  add('CSR verify P-256: createPublicKey(JWK from point) + verify', (i) => {
    const c = pick(p256, i);
    const p = c.publicKey.key;
    const jwk = { kty: 'EC', crv: 'P-256', x: Buffer.from(p.subarray(1, 33)).toString('base64url'), y: Buffer.from(p.subarray(33)).toString('base64url') };
    must(verify('sha256', c.info, createPublicKey({ key: jwk, format: 'jwk' }), c.signature));
  });
  add('CSR verify P-256: subtle raw import + subtle.verify (r||s)', async (i) => {
    const c = pick(p256, i);
    const k = await webcrypto.subtle.importKey('raw', c.publicKey.key, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
    must(await webcrypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, k, derToP1363(c.signature, 32), c.info));
  });
  add('CSR verify P-256: subtle raw import -> KeyObject + verify', async (i) => {
    const c = pick(p256, i);
    const k = await webcrypto.subtle.importKey('raw', c.publicKey.key, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']);
    must(verify('sha256', c.info, KeyObject.from(k), c.signature));
  });
  add('verifyWithNodeCrypto P-256 (JWK route, no native verifier)', (i) => {
    const c = pick(p256, i);
    must(verifyWithNodeCrypto(c.publicKey, c.signatureAlgorithm, c.info, c.signature));
  });
  add(`verifyCsrSignature P-256 (${nativeEcVerify() ? 'native verifier' : 'native verifier NOT BUILT: JWK route'})`, (i) => must(verifyCsrSignature(pick(p256, i))));
  add('verifyCsrSignatureAsync P-256', async (i) => must(await verifyCsrSignatureAsync(pick(p256, i))));
  add('CSR verify RSA-2048: createPublicKey(SPKI DER) + verify', (i) => {
    const c = pick(rsa, i);
    const key = createPublicKey({ key: Buffer.from(c.publicKey.spki), format: 'der', type: 'spki' });
    must(verify('sha256', c.info, { key, padding: constants.RSA_PKCS1_PADDING }, c.signature));
  });
  add('verifyCsrSignature RSA-2048 (PKCS#1 DER route)', (i) => must(verifyCsrSignature(pick(rsa, i))));
  add('CSR verify Ed25519: createPublicKey(SPKI DER) + verify', (i) => {
    const c = pick(ed, i);
    must(verify(null, c.info, createPublicKey({ key: Buffer.from(c.publicKey.spki), format: 'der', type: 'spki' }), c.signature));
  });
  add('verifyCsrSignature Ed25519 (JWK route)', (i) => must(verifyCsrSignature(pick(ed, i))));
  add('parseCsr (P-256, with SAN)', (i) => parseCsr(pick(p256, i).der));
  add('template.tbs (SKI + SAN per certificate)', (i) => template.tbs(tbsInput(pick(p256, i))));
  add('full pipeline P-256: parse + verify (native if built) + tbs + sign + assemble', async (i) => {
    const c = parseCsr(pick(p256, i).der);
    must(verifyCsrSignature(c));
    return signCertificate(template, signer, tbsInput(c));
  });

  const samples: Sample[][] = cases.map(() => []);
  for (let r = 0; r < ROUNDS; r++) for (const [k, [, fn]] of cases.entries()) samples[k]!.push(await time(fn));
  const rows = cases.map(([name], k) => ({
    name,
    wall: median(samples[k]!.map((x) => x.wall)),
    cpu: median(samples[k]!.map((x) => x.cpu)),
  }));
  const unit = rows[0]!.cpu;
  const width = Math.max(...rows.map((r) => r.name.length));
  console.log(`${'case'.padEnd(width)}  ${'cpu us'.padStart(8)}  ${'wall us'.padStart(8)}  ${'cpu/raw sign'.padStart(12)}`);
  for (const r of rows) {
    console.log(`${r.name.padEnd(width)}  ${r.cpu.toFixed(1).padStart(8)}  ${r.wall.toFixed(1).padStart(8)}  ${(r.cpu / unit).toFixed(2).padStart(12)}`);
  }
  const full = rows[rows.length - 1]!;
  console.log(`full pipeline: ${Math.round(1e6 / full.cpu)} certificates/s on one core`);
}
