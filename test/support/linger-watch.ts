/**
 * Preloaded into every test file (`--import` in npm test): a file whose tests are all done but whose process
 * does not exit has left something open or running (a socket, a timer, a reconnect loop), and the runner
 * would only say, minutes later, that the file timed out. LINGER_MS after the file's last hook this prints
 * what is still open and where the process spends its time (a short CPU profile of itself), then ends the
 * process with exit code 1 so that the file fails at once, naming the leak. The timer is unref'd: a file that
 * exits normally never sees it. Every file also ends from its last 'exit' listener (see below).
 */
import { Session } from 'node:inspector/promises';
import { after } from 'node:test';

const LINGER_MS = 20_000;
const PROFILE_MS = 2000;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

const frameName = (n: ProfileNode) =>
  `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').slice(-3).join('/')}:${n.callFrame.lineNumber + 1}`;

/** The functions with most self time over `ms`, each with the frames that called it. */
async function hotStacks(ms: number): Promise<string> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    await new Promise((r) => setTimeout(r, ms));
    const { profile } = (await session.post('Profiler.stop')) as { profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] } };
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const self = new Map<number, number>();
    profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
    return [...self]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 6)
      .map(([id, us]) => {
        const chain: string[] = [];
        for (let p = parent.get(id); p !== undefined && chain.length < 6; p = parent.get(p)) chain.push(frameName(byId.get(p)!));
        return `  ${(us / 1000).toFixed(0)} ms in ${frameName(byId.get(id)!)}\n${chain.map((c) => `      from ${c}`).join('\n')}`;
      })
      .join('\n');
  } finally {
    session.disconnect();
  }
}

after(() => {
  // Node 20 sometimes never finishes its own teardown after the last 'exit' listener: the main thread spins
  // in Environment::CleanupHandles (seen under gdb on a test file whose JavaScript had all ended; nodejs/node
  // issue 47748). Ending the process from the last 'exit' listener skips that teardown; stdout and stderr are
  // pipes here, written synchronously on Linux, so no report is lost, and the exit code stays the runner's.
  process.once('exit', () => process.exit());
  setTimeout(() => {
    void (async () => {
      const open = JSON.stringify(process.getActiveResourcesInfo());
      const stacks = await hotStacks(PROFILE_MS).catch((err: unknown) => `  (no profile: ${String(err)})`);
      process.stderr.write(
        `\nLINGERING TEST FILE ${process.argv[1] ?? ''}: still running ${LINGER_MS / 1000} s after its tests ended.\n` +
          `Open resources: ${open}\nWhere its time goes (${PROFILE_MS} ms profile):\n${stacks}\n`,
      );
      process.exit(1);
    })();
  }, LINGER_MS).unref();
});
