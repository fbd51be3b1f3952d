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
