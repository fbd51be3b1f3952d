/**
 * Worker thread of CsrVerifierPool: verifies batches of CSRs. A batch arrives as one transferred buffer
 * with end offsets (one message per batch, no per-CSR copies); each result is a boolean or the
 * DomainError fields of a request that does not parse.
 */
import { parentPort } from 'node:worker_threads';
import { DomainError, type ErrorKind } from '../../domain/errors.ts';
import { parseCsr, verifyCsrSignature } from '../../x509/csr.ts';

export interface VerifyBatch {
  id: number;
  bytes: Uint8Array;
  /** End offset of each CSR in `bytes`. */
  ends: number[];
}

export type VerifyOutcome = boolean | { code: string; kind: ErrorKind; message: string; details?: Record<string, unknown> };

export interface VerifyBatchResult {
  id: number;
  results: VerifyOutcome[];
}

function verifyOne(der: Uint8Array): VerifyOutcome {
  try {
    return verifyCsrSignature(parseCsr(der));
  } catch (e) {
    if (e instanceof DomainError) return { code: e.code, kind: e.kind, message: e.message, ...(e.details ? { details: e.details } : {}) };
    return { code: 'CSR_VERIFIER_UNAVAILABLE', kind: 'unavailable', message: 'CSR verification failed unexpectedly' };
  }
}

parentPort!.on('message', (batch: VerifyBatch) => {
  const results: VerifyOutcome[] = [];
  let start = 0;
  for (const end of batch.ends) {
    results.push(verifyOne(batch.bytes.subarray(start, end)));
    start = end;
  }
  parentPort!.postMessage({ id: batch.id, results } satisfies VerifyBatchResult);
});
