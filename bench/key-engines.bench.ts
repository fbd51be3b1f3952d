/**
 * Signatures per second through each key engine against the raw primitive underneath, in one run:
 * node:crypto for the software engines, bare C_SignInit + C_Sign on the same SoftHSM2 token and key
 * for PKCS#11. Every contender keeps both cores busy: several signatures in flight, the PKCS#11
 * ones on the libuv threadpool. Figures are medians of 3 runs of 1 s per contender; within a run
 * the contenders take turns in 250 ms slices, so that load from other work on the (shared)
 * machine falls on all of them alike.
 */
import { createHash, generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pkcs11js from 'pkcs11js';
import type { KeyEngine } from '../src/domain/ports/key-engine.ts';
import { FilesystemKeyEngine } from '../src/engines/crypto/filesystem/filesystem-key-engine.ts';
import { MemoryKeyEngine } from '../src/engines/crypto/memory/memory-key-engine.ts';
import { Pkcs11KeyEngine } from '../src/engines/crypto/pkcs11/pkcs11-key-engine.ts';
import { acquirePkcs11Module } from '../src/engines/crypto/pkcs11/pkcs11-module.ts';
import type { ToolsOf } from './required-tools.ts';

/** softhsm2-util makes the SoftHSM2 token (the softhsm2 package also brings the PKCS#11 library). */
export const tools: ToolsOf = ['softhsm2-util'];

const RUNS = 3;
const SLICE_MS = 250;
const SLICES_PER_RUN = 4;
/** Signatures in flight for the engines and node:crypto. */
const IN_FLIGHT = 8;
const signAsync = promisify(cryptoSign);
const message = Buffer.from('tbsCertificate stand-in: a few hundred bytes of DER to be signed'.repeat(6));

type Contender = { name: string; run: (deadline: number) => Promise<number> };

/** Runs `workers` loops of `op` until the deadline; returns operations done. */
async function loops(workers: number, deadline: number, op: (worker: number) => Promise<unknown>): Promise<number> {
  let done = 0;
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      while (performance.now() < deadline) {
        await op(w);
        done++;
      }
    }),
  );
  return done;
}

const engineContender = (name: string, engine: KeyEngine, keyId: string): Contender => ({
  name,
  run: (deadline) => loops(IN_FLIGHT, deadline, () => engine.sign({ keyId, data: message })),
});

const nodeContender = (key: KeyObject, type: 'ECDSA' | 'RSA'): Contender => ({
  name: 'node:crypto sign (async)',
  run: (deadline) =>
    loops(IN_FLIGHT, deadline, () => signAsync('sha256', message, type === 'ECDSA' ? { key, dsaEncoding: 'der' } : key)),
});

/** Bare PKCS#11: one session per loop, C_SignInit + asynchronous C_Sign, nothing else. */
function rawPkcs11Contender(
  p11: pkcs11js.PKCS11,
  slot: pkcs11js.Handle,
  keyId: string,
  type: 'ECDSA' | 'RSA',
  sessions: number,
): Contender & { close(): void } {
  const handles = Array.from({ length: sessions }, () =>
    p11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION),
  );
  p11.C_FindObjectsInit(handles[0], [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
    { type: pkcs11js.CKA_ID, value: Buffer.from(keyId, 'hex') },
  ]);
  const [key] = p11.C_FindObjects(handles[0], 1);
  p11.C_FindObjectsFinal(handles[0]);
  const mechanism = { mechanism: type === 'ECDSA' ? pkcs11js.CKM_ECDSA : pkcs11js.CKM_SHA256_RSA_PKCS };
  const input = type === 'ECDSA' ? createHash('sha256').update(message).digest() : message;
  const outLength = type === 'ECDSA' ? 64 : 256;
  return {
    name: `raw C_Sign, ${sessions} sessions`,
    run: (deadline) =>
      loops(sessions, deadline, (w) => {
        p11.C_SignInit(handles[w], mechanism, key);
        return p11.C_SignAsync(handles[w], input, Buffer.alloc(outLength));
      }),
    close: () => handles.forEach((h) => p11.C_CloseSession(h)),
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface Measurement {
  /** Signatures per second: median over the runs. */
  rate: number;
  /** Rate in each slice round, in order, to pair with other contenders' slices of the same round. */
  slices: number[];
}

async function measure(contenders: Contender[]): Promise<Map<string, Measurement>> {
  const runRates = contenders.map((): number[] => []);
  const sliceRates = contenders.map((): number[] => []);
  for (const c of contenders) await c.run(performance.now() + 200); // warm-up
  for (let run = 0; run < RUNS; run++) {
    const ops = contenders.map(() => 0);
    const ms = contenders.map(() => 0);
    for (let slice = 0; slice < SLICES_PER_RUN; slice++) {
      for (const [i, c] of contenders.entries()) {
        const start = performance.now();
        const n = await c.run(start + SLICE_MS);
        const took = performance.now() - start;
        ops[i] += n;
        ms[i] += took;
        sliceRates[i].push((n * 1000) / took);
      }
    }
    contenders.forEach((_, i) => runRates[i].push((ops[i] * 1000) / ms[i]));
  }
  return new Map(contenders.map((c, i) => [c.name, { rate: median(runRates[i]), slices: sliceRates[i] }]));
}

/**
 * Median over slice rounds of `of`'s rate divided by the best peer's rate in the same round:
 * steadier than a ratio of medians when the machine's load drifts.
 */
const pairedRatio = (of: Measurement, peers: Measurement[]) =>
  median(of.slices.map((rate, round) => rate / Math.max(...peers.map((p) => p.slices[round]))));

export async function run(): Promise<void> {
  // Sets SOFTHSM2_CONF to a private token directory: must precede the first C_Initialize.
  const { createSoftHsmToken } = await import('../test/support/softhsm-test-token.ts');
  const { pkcs11Module } = await import('../test/support/services.ts');
  const token = await createSoftHsmToken('bench-key-engines');
  const dir = mkdtempSync(path.join(tmpdir(), 'lamassu-bench-keys-'));
  const memory = new MemoryKeyEngine({ id: 'memory' });
  const files = await FilesystemKeyEngine.open({ id: 'filesystem', directory: dir });
  const pkcs11Pool4 = await Pkcs11KeyEngine.open(token.config({ id: 'pkcs11-pool4', poolSize: 4 }));
  const pkcs11Pool2 = await Pkcs11KeyEngine.open(token.config({ id: 'pkcs11-pool2', poolSize: 2 }));
  const module = acquirePkcs11Module(pkcs11Module());
  const p11 = module.pkcs11;
  const slot = p11.C_GetSlotList(true).find((s) => p11.C_GetTokenInfo(s).label.trimEnd() === token.label)!;

  const rows: string[] = [];
  try {
    for (const type of ['ECDSA', 'RSA'] as const) {
      const pair =
        type === 'ECDSA' ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
      // The same key in every engine and on the token.
      const pkcs8 = pair.privateKey.export({ format: 'der', type: 'pkcs8' });
      const { id } = await memory.importKey({ pkcs8 });
      await files.importKey({ pkcs8 });
      await pkcs11Pool4.importKey({ pkcs8 });
      const raw2 = rawPkcs11Contender(p11, slot, id, type, 2);
      const raw4 = rawPkcs11Contender(p11, slot, id, type, 4);
      const contenders = [
        nodeContender(pair.privateKey, type),
        engineContender('MemoryKeyEngine', memory, id),
        engineContender('FilesystemKeyEngine', files, id),
        raw2,
        raw4,
        engineContender('Pkcs11KeyEngine, pool 2', pkcs11Pool2, id),
        engineContender('Pkcs11KeyEngine, pool 4', pkcs11Pool4, id),
      ];
      const results = await measure(contenders);
      raw2.close();
      raw4.close();
      const node = [results.get(contenders[0].name)!];
      const raw = [results.get(raw2.name)!, results.get(raw4.name)!];
      const alg = type === 'ECDSA' ? 'ECDSA P-256' : 'RSA-2048';
      for (const c of contenders) {
        const m = results.get(c.name)!;
        const onToken = c.name.startsWith('Pkcs11') || c.name.startsWith('raw');
        const ratio = pairedRatio(m, onToken ? raw : node);
        rows.push(
          `| ${alg} | ${c.name} | ${Math.round(m.rate)} | ${Math.round(100 * ratio)}% of ${onToken ? 'best raw C_Sign' : 'node:crypto'} |`,
        );
      }
    }
  } finally {
    module.release();
    await pkcs11Pool2.close();
    await pkcs11Pool4.close();
    await files.close();
    await memory.close();
    await token.remove();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    `${IN_FLIGHT} signatures in flight for engines and node:crypto; median of ${RUNS} runs of ` +
      `${SLICES_PER_RUN} x ${SLICE_MS} ms interleaved slices per contender`,
  );
  console.log('relative: median over slice rounds of the ratio to the peer in the same round');
  console.log('| algorithm | contender | signatures/s | relative |\n| --- | --- | --- | --- |');
  console.log(rows.join('\n'));
}
