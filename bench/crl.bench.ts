/**
 * CRL generation at scale (issue target: 1M entries in under 10 s, resident memory growing under
 * 200 MB). Entries come from a generator, as they would from a database cursor, so the input itself
 * holds nothing. RSS growth is the process's peak RSS (getrusage maxrss) minus RSS before the run;
 * sizes run smallest first so an earlier peak cannot hide a later one.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { buildCrl } from '../src/x509/crl.ts';
import type { CrlEntry } from '../src/x509/crl.ts';
import { sequence, set, oid, utf8String } from '../src/x509/der.ts';
import type { X509Signer } from '../src/x509/signer.ts';

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signer: X509Signer = { algorithm: 'ecdsa-with-SHA256', sign: async (tbs) => new Uint8Array(sign('sha256', tbs, privateKey)) };
const issuerName = sequence(set(sequence(oid('2.5.4.3'), utf8String('Bench Issuing CA'))));
const revokedAt = new Date('2026-06-01T12:00:00Z');
const invalidSince = new Date('2026-05-30T00:00:00Z');

/** 128-bit serials as hex, half with a reason, a tenth with an invalidity date. */
function entry(i: number): CrlEntry {
  return {
    serial: `7f3a9c${i.toString(16).padStart(26, '0')}`,
    revocationDate: revokedAt,
    ...(i % 2 ? { reason: 'keyCompromise' as const } : {}),
    ...(i % 10 === 0 ? { invalidityDate: invalidSince } : {}),
  };
}
function* syncEntries(n: number) {
  for (let i = 0; i < n; i++) yield entry(i);
}
async function* asyncEntries(n: number) {
  for (let i = 0; i < n; i++) yield entry(i);
}

async function measure(n: number, mode: 'async' | 'sync') {
  global.gc?.();
  const rssBefore = process.memoryUsage.rss();
  const t0 = performance.now();
  const der = await buildCrl({
    issuerName,
    authorityKeyId: new Uint8Array(20).fill(7),
    crlNumber: 1n,
    thisUpdate: revokedAt,
    nextUpdate: new Date(revokedAt.getTime() + 86400_000),
    entries: mode === 'async' ? asyncEntries(n) : syncEntries(n),
    distributionPoint: ['http://va.example.test/api/va/crl/bench.crl'],
    signer,
  });
  const ms = performance.now() - t0;
  const peakGrowth = process.resourceUsage().maxRSS * 1024 - rssBefore;
  return { n, mode, ms, mb: der.length / 2 ** 20, growthMb: peakGrowth / 2 ** 20 };
}

export async function run() {
  const rows = [await measure(100_000, 'async'), await measure(1_000_000, 'async'), await measure(1_000_000, 'sync')];
  console.log('| entries | input | time | CRL size | peak RSS growth |');
  console.log('| ---: | --- | ---: | ---: | ---: |');
  for (const r of rows)
    console.log(`| ${r.n.toLocaleString('en')} | ${r.mode} generator | ${(r.ms / 1000).toFixed(2)} s | ${r.mb.toFixed(1)} MB | ${r.growthMb.toFixed(0)} MB |`);
}
