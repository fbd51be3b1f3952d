import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { DomainError } from '../../domain/errors.ts';
import { opensslCsr, type TestKeyKind } from '../../../test/support/csr-fixture.ts';
import { CsrVerifierPool } from './csr-verifier-pool.ts';

const kinds: TestKeyKind[] = ['p256', 'p384', 'rsa2048', 'ed25519'];
const good = new Map(kinds.map((k) => [k, opensslCsr({ key: k, subj: `/CN=pool-${k}` })]));

/** The same request with the last signature byte changed: still DER, no longer a valid signature. */
function tampered(der: Uint8Array): Uint8Array {
  const copy = new Uint8Array(der);
  copy[copy.length - 1]! ^= 0x01;
  return copy;
}

async function rejection(p: Promise<unknown>): Promise<DomainError> {
  const err = await p.then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof DomainError, `expected a DomainError, got ${String(err)}`);
  return err;
}

describe('CsrVerifierPool', () => {
  const pool = new CsrVerifierPool({ size: 2, maxBatch: 8 });
  after(() => pool.close());

  it('accepts requests signed by their own key and refuses tampered ones, for every key type', async () => {
    for (const [kind, der] of good) {
      assert.equal(await pool.verify(der), true, kind);
      assert.equal(await pool.verify(tampered(der)), false, kind);
    }
  });

  it('keeps each answer with its request in a burst larger than the batches', async () => {
    const requests = Array.from({ length: 300 }, (_, i) => {
      const der = good.get(kinds[i % kinds.length]!)!;
      return { der: i % 3 === 0 ? tampered(der) : der, expected: i % 3 !== 0 };
    });
    const answers = await Promise.all(requests.map((r) => pool.verify(r.der)));
    assert.deepEqual(answers, requests.map((r) => r.expected));
  });

  it('reads a CSR that is a view on a larger buffer without its neighbours', async () => {
    const der = good.get('p256')!;
    const big = new Uint8Array(der.length + 20).fill(0x30);
    big.set(der, 10);
    assert.equal(await pool.verify(big.subarray(10, 10 + der.length)), true);
  });

  it('rejects a request that does not parse with the parser DomainError, and goes on working', async () => {
    const err = await rejection(pool.verify(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00])));
    assert.equal(err.code, 'CSR_MALFORMED');
    assert.equal(err.kind, 'invalid');
    assert.equal(await pool.verify(good.get('rsa2048')!), true);
  });

  it('refuses what is waiting and what comes after close with CSR_VERIFIER_UNAVAILABLE', async () => {
    const own = new CsrVerifierPool({ size: 1, maxBatch: 1 });
    const der = good.get('p256')!;
    const pending = Array.from({ length: 20 }, () => own.verify(der).then(() => 'ok', (e: unknown) => e));
    await own.close();
    const outcomes = await Promise.all(pending);
    assert.ok(outcomes.every((o) => o === 'ok' || (o instanceof DomainError && o.code === 'CSR_VERIFIER_UNAVAILABLE')));
    assert.ok(outcomes.some((o) => o !== 'ok'), 'close must not wait for the queue to drain');
    assert.equal((await rejection(own.verify(der))).code, 'CSR_VERIFIER_UNAVAILABLE');
  });
});

describe('CsrVerifierPool shutdown', () => {
  const threads = () => Number(/Threads:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]);

  it('ends its worker threads on close', { skip: process.platform !== 'linux' && 'reads /proc' }, async () => {
    const own = new CsrVerifierPool({ size: 2 });
    // Both workers up: a burst keeps them busy.
    await Promise.all(Array.from({ length: 8 }, () => own.verify(good.get('p256')!)));
    const before = threads();
    await own.close();
    assert.ok(before - threads() >= 2, `threads before close ${before}, after ${threads()}`);
  });
});

/** Resolves once `cond` holds: what the tests below wait for is a worker thread ending, not time passing. */
async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('CsrVerifierPool workers on demand', () => {
  const p256 = good.get('p256')!;

  it('starts no worker before the first request, retires it when idle and starts one again with right answers', async () => {
    const own = new CsrVerifierPool({ size: 2, idleMs: 20 });
    try {
      assert.equal(own.liveWorkers, 0);
      assert.equal(await own.verify(p256), true);
      assert.equal(own.liveWorkers, 1, 'one request needs one worker');
      await until(() => own.liveWorkers === 0, 'the idle worker to end');
      assert.deepEqual(await Promise.all([own.verify(tampered(p256)), own.verify(good.get('ed25519')!)]), [false, true]);
      assert.ok(own.liveWorkers >= 1);
      assert.equal((await rejection(own.verify(new Uint8Array([0x30, 0x00])))).code, 'CSR_MALFORMED');
    } finally {
      await own.close();
    }
    assert.equal(own.liveWorkers, 0);
  });

  it('answers every request right while workers retire and start around it', async () => {
    const own = new CsrVerifierPool({ size: 1, maxBatch: 2, idleMs: 1 });
    let retired = 0;
    let overlapped = 0;
    try {
      for (let round = 0; round < 200 && (retired < 3 || overlapped < 2 || round < 12); round++) {
        if (own.liveWorkers === 0) retired++;
        const requests = Array.from({ length: 1 + (round % 4) }, (_, i) => {
          const der = good.get(kinds[(round + i) % kinds.length]!)!;
          return { der: (round + i) % 3 === 0 ? tampered(der) : der, expected: (round + i) % 3 !== 0 };
        });
        const answers = Promise.all(requests.map((r) => own.verify(r.der)));
        // A retiring worker still ending beside the new one that took these requests.
        if (own.liveWorkers > 1) overlapped++;
        assert.deepEqual(await answers, requests.map((r) => r.expected), `round ${round}`);
        // Next round: at once, a little after the idle timer fired (the worker is ending), or after it ended.
        if (round % 4 === 3) await until(() => own.liveWorkers === 0, 'the idle worker to end');
        else if (round % 4 === 2) await new Promise((r) => setTimeout(r, 2));
        else await new Promise((r) => setImmediate(r));
      }
    } finally {
      await own.close();
    }
    assert.ok(retired >= 3, `retirements seen: ${retired}`);
    assert.ok(overlapped >= 2, `requests sent while a worker was retiring: ${overlapped}`);
  });

  it('closes at once with no worker running, and while one is starting', async () => {
    const idle = new CsrVerifierPool({ size: 2 });
    await idle.close();
    assert.equal((await rejection(idle.verify(p256))).code, 'CSR_VERIFIER_UNAVAILABLE');

    const starting = new CsrVerifierPool({ size: 2 });
    const answer = starting.verify(p256);
    assert.equal(starting.liveWorkers, 1);
    await starting.close();
    assert.equal(starting.liveWorkers, 0);
    assert.equal((await rejection(answer)).code, 'CSR_VERIFIER_UNAVAILABLE');
  });
});
