/**
 * Bounds a teardown step: a close that hangs (on a broker that never answers, a socket that never ends)
 * fails fast naming the step, instead of keeping the test file running until the runner's file timeout.
 */
export async function bounded<T>(what: string, step: Promise<T> | (() => Promise<T>), ms = 15_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`teardown: ${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([typeof step === 'function' ? step() : step, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs every teardown step, each bounded, even when an earlier one failed or hung: a step left out would
 * keep its sockets, servers or child processes open and the file's process alive. Throws the failures
 * together once all steps ran.
 */
export async function teardown(steps: readonly (readonly [what: string, step: () => unknown])[], ms = 15_000): Promise<void> {
  const failures: unknown[] = [];
  for (const [what, step] of steps) {
    try {
      await bounded(what, async () => step(), ms);
    } catch (err) {
      failures.push(err);
    }
  }
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) throw new AggregateError(failures, `teardown: ${failures.length} steps failed`);
}
