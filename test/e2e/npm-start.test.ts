/**
 * The documented start path, `npm start`, under a service manager or container runtime: SIGTERM (or SIGINT)
 * goes to the process `npm start` created. The server must drain (a request in flight completes), stop, and
 * leave no process behind; npm must exit 0.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { cleanEnv, freePort, lamassuBin } from '../support/lamassu-process.ts';

const root = path.resolve(import.meta.dirname, '../..');

/** Parent pid of every process, read from /proc. */
function parents(): Map<number, number> {
  const map = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // Fields after the command name, which is in parentheses and may hold spaces.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] !== 'Z') map.set(Number(name), Number(fields[1]));
    } catch {
      // gone meanwhile
    }
  }
  return map;
}

function descendants(pid: number): number[] {
  const all = parents();
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift()!;
    for (const [child, parent] of all) if (parent === p) (found.push(child), queue.push(child));
  }
  return found;
}

const alive = (pid: number) => parents().has(pid);

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

describe('npm start and signals', { timeout: 120_000 }, () => {
  const started: number[] = [];
  const dirs: string[] = [];
  after(() => {
    for (const pid of started) if (alive(pid)) process.kill(pid, 'SIGKILL');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} to the npm process drains the server, stops it and leaves no process behind`, async () => {
      const dataDir = mkdtempSync(path.join(tmpdir(), 'lamassu-npm-start-'));
      dirs.push(dataDir);
      const [httpsPort, httpPort] = [await freePort(), await freePort()];
      const npm: ChildProcess = spawn('npm', ['start'], {
        cwd: root,
        env: {
          ...cleanEnv(),
          LAMASSU_DATA_DIR: dataDir,
          LAMASSU_HTTPS_PORT: String(httpsPort),
          LAMASSU_HTTP_PORT: String(httpPort),
          LAMASSU_LISTEN_ADDRESS: '127.0.0.1',
          LAMASSU_LOG_LEVEL: 'info',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      started.push(npm.pid!);
      let out = '';
      npm.stdout!.on('data', (d) => (out += d));
      npm.stderr!.on('data', (d) => (out += d));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        npm.once('exit', (code, sig) => resolve({ code, signal: sig })),
      );

      const deadline = Date.now() + 60_000;
      while (!(await fetch(`http://127.0.0.1:${httpPort}/health`).then((r) => r.status === 200, () => false))) {
        assert.ok(Date.now() < deadline && npm.exitCode === null, `not serving:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const tree = descendants(npm.pid!);
      started.push(...tree);
      const server = tree.find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('lamassu.js'));
      assert.ok(server, `a lamassu process under npm: ${tree.join(', ')}`);

      // A request in flight: headers sent, half the body still to come when the signal arrives.
      const socket = net.connect(httpPort, '127.0.0.1');
      await new Promise((r) => socket.once('connect', r));
      let response = '';
      socket.on('data', (d) => (response += d.toString('latin1')));
      const closed = new Promise((r) => socket.once('close', r));
      socket.write('POST /api/va/ocsp HTTP/1.1\r\nHost: lamassu\r\nContent-Type: application/ocsp-request\r\nContent-Length: 10\r\n\r\nhalf-');
      await new Promise((r) => setTimeout(r, 300));

      npm.kill(signal);
      const closing = Date.now() + 10_000;
      while (await listening(httpPort)) {
        assert.ok(Date.now() < closing, `the server stopped accepting new connections:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(alive(server), 'the server waits for the request in flight');
      socket.end('body!');
      await closed;
      // A malformed OCSP request gets an OCSP malformedRequest answer (RFC 6960: HTTP 200), whole.
      const [head, body] = response.split('\r\n\r\n');
      assert.match(head, /^HTTP\/1\.1 200 /, response);
      assert.match(head, /content-type: application\/ocsp-response/i);
      assert.equal(Buffer.byteLength(body, 'latin1'), Number(/content-length: (\d+)/i.exec(head)?.[1]), 'the request in flight got its whole answer');

      assert.deepEqual(await exited, { code: 0, signal: null }, out);
      const stopBy = Date.now() + 10_000;
      while (tree.some(alive) && Date.now() < stopBy) await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(tree.filter(alive), [], 'no process of npm start is left');
      assert.ok(!(await listening(httpPort)) && !(await listening(httpsPort)), 'nothing listens on the ports');
      assert.match(out, /"msg":"stopped"/);
    });
  }
});

describe('bin/lamassu.js compiling a stale tree', { timeout: 30_000 }, () => {
  it('SIGTERM while it compiles stops the compiler too', async () => {
    // A copy of the program over a tree without dist/, with a stand-in compiler that only records its pid.
    const tree = mkdtempSync(path.join(tmpdir(), 'lamassu-bin-'));
    const tscPid = path.join(tree, 'tsc.pid');
    let tsc = 0;
    try {
      mkdirSync(path.join(tree, 'bin'));
      mkdirSync(path.join(tree, 'src'));
      mkdirSync(path.join(tree, 'node_modules/typescript/bin'), { recursive: true });
      copyFileSync(lamassuBin, path.join(tree, 'bin/lamassu.js'));
      writeFileSync(path.join(tree, 'package.json'), '{"type":"module"}');
      writeFileSync(path.join(tree, 'src/main.ts'), '');
      writeFileSync(path.join(tree, 'node_modules/typescript/package.json'), '{"name":"typescript"}');
      writeFileSync(
        path.join(tree, 'node_modules/typescript/bin/tsc'),
        `require('fs').writeFileSync(${JSON.stringify(tscPid)}, String(process.pid)); setInterval(() => {}, 1000);`,
      );
      const program = spawn(process.execPath, [path.join(tree, 'bin/lamassu.js'), 'serve'], { stdio: ['ignore', 'ignore', 'pipe'] });
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        program.once('exit', (code, sig) => resolve({ code, signal: sig })),
      );
      const deadline = Date.now() + 10_000;
      while (!existsSync(tscPid) || readFileSync(tscPid, 'utf8') === '') {
        assert.ok(Date.now() < deadline, 'the compiler was started');
        await new Promise((r) => setTimeout(r, 50));
      }
      tsc = Number(readFileSync(tscPid, 'utf8'));
      assert.ok(alive(tsc));

      program.kill('SIGTERM');
      assert.deepEqual(await exited, { code: null, signal: 'SIGTERM' });
      const gone = Date.now() + 5000;
      while (alive(tsc) && Date.now() < gone) await new Promise((r) => setTimeout(r, 50));
      assert.ok(!alive(tsc), 'the compiler is not left running');
    } finally {
      if (tsc && alive(tsc)) process.kill(tsc, 'SIGKILL');
      rmSync(tree, { recursive: true, force: true });
    }
  });
});
