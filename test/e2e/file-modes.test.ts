/**
 * File modes of what the real `lamassu serve` keeps on disk: the inventory (SQLite with its -wal and -shm),
 * password hashes, private keys and TLS material must be readable by the server's user only, whatever the
 * umask it was started with; a pre-existing directory that others can read is named in a warning at start.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { startLamassu } from '../support/lamassu-process.ts';

const modeOf = (p: string) => statSync(p).mode & 0o777;
const octal = (m: number) => `0${m.toString(8)}`;

/** Every directory and file under `dir` (itself included) with its mode, as `path: 0700`. */
function modesUnder(dir: string): Map<string, string> {
  const modes = new Map<string, string>([[dir, octal(modeOf(dir))]]);
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const p = path.join(e.parentPath, e.name);
    modes.set(p, octal(modeOf(p)));
  }
  return modes;
}

describe('file modes of the data directory, key directory and TLS material', { timeout: 60_000 }, () => {
  const parent = mkdtempSync(path.join(tmpdir(), 'lamassu-modes-'));
  after(() => rmSync(parent, { recursive: true, force: true }));

  it('creates directories 0700 and every file 0600 although started with umask 022', async () => {
    // The server inherits this process's umask; a file made here shows it lets others read.
    const probe = path.join(parent, 'probe');
    writeFileSync(probe, '');
    assert.equal(modeOf(probe), 0o644, 'the test runs with umask 022');
    const dataDir = path.join(parent, 'fresh', 'data');
    const keyDir = path.join(parent, 'fresh', 'keys');
    const server = await startLamassu({ GOPEM_DATA: keyDir }, { dataDir });
    try {
      const data = modesUnder(dataDir);
      const keys = modesUnder(keyDir);
      // While the server runs, SQLite's write-ahead log and shared-memory index exist beside the database.
      for (const f of ['lamassu.db', 'lamassu.db-wal', 'lamassu.db-shm', 'admin-token', 'tls/ca.pem', 'tls/ca-key.pem', 'tls/server.pem', 'tls/server-key.pem']) {
        assert.equal(data.get(path.join(dataDir, f)), '0600', `${f}: ${data.get(path.join(dataDir, f))}`);
      }
      assert.ok([...keys.keys()].some((p) => p.endsWith('.pem')), 'the internal CA key was written to the key directory');
      for (const [p, mode] of [...data, ...keys]) {
        assert.equal(mode, statSync(p).isDirectory() ? '0700' : '0600', `${p} has mode ${mode}`);
      }
      assert.doesNotMatch(server.output(), /accessible to other users/);
    } finally {
      await server.stop();
    }
  });

  it('warns at start when the data or key directory already exists with a wider mode', async () => {
    const dataDir = path.join(parent, 'existing', 'data');
    const keyDir = path.join(parent, 'existing', 'keys');
    for (const d of [dataDir, keyDir]) {
      mkdirSync(d, { recursive: true });
      chmodSync(d, 0o755);
    }
    const server = await startLamassu({ GOPEM_DATA: keyDir }, { dataDir });
    try {
      const warnings = server
        .output()
        .split('\n')
        .filter((l) => l.includes('accessible to other users'))
        .map((l) => JSON.parse(l) as { level: number; directory: string; mode: string });
      assert.deepEqual(
        warnings.map((w) => [w.level, w.directory, w.mode]),
        [
          [40, dataDir, '0755'],
          [40, keyDir, '0755'],
        ],
      );
      // The operator's mode is left alone: the warning says what to do.
      assert.equal(modeOf(dataDir), 0o755);
    } finally {
      await server.stop();
    }
  });
});
