/**
 * `npm run bench` checks the outside tools benchmarks need before it runs any, and says how to install
 * what is missing (not `spawn wrk ENOENT` half-way). No benchmark runs here.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { MissingToolsError, onPath, requireTools } from '../../bench/required-tools.ts';

const root = path.resolve(import.meta.dirname, '../..');

describe('benchmark tool check', () => {
  const bin = mkdtempSync(path.join(tmpdir(), 'lamassu-bench-path-'));
  after(() => rmSync(bin, { recursive: true, force: true }));
  // A PATH that holds node and an executable `openssl` stand-in, nothing else.
  symlinkSync(process.execPath, path.join(bin, 'node'));
  writeFileSync(path.join(bin, 'openssl'), '#!/bin/sh\n');
  chmodSync(path.join(bin, 'openssl'), 0o755);
  writeFileSync(path.join(bin, 'wrk'), 'not executable');
  const env = { PATH: bin };

  it('finds executables on the PATH only', () => {
    assert.equal(onPath('openssl', bin), true);
    assert.equal(onPath('wrk', bin), false, 'a file without the execute bit is not the tool');
    assert.equal(onPath('cfssl', bin), false);
  });

  it('names every missing tool, the benchmarks needing it, and how to install it', () => {
    assert.throws(
      () =>
        requireTools(
          [
            { benchmark: 'ocsp', tools: ['wrk', 'openssl'] },
            { benchmark: 'issuance', tools: (e) => (e.ISSUANCE_BENCH_TARGETS === 'sqlite' ? ['wrk'] : ['wrk', 'openssl', 'cfssl']) },
            { benchmark: 'crl', tools: undefined },
          ],
          env,
        ),
      (e: unknown) => {
        assert.ok(e instanceof MissingToolsError);
        assert.deepEqual(e.missing, [
          { benchmark: 'ocsp', tool: 'wrk' },
          { benchmark: 'issuance', tool: 'wrk' },
          { benchmark: 'issuance', tool: 'cfssl' },
        ]);
        assert.match(e.message, /^ {2}wrk \(needed by ocsp, issuance\): apt-get install -y wrk$/m);
        assert.match(e.message, /^ {2}cfssl \(needed by issuance\): apt-get install -y golang-cfssl$/m);
        assert.doesNotMatch(e.message, /openssl \(/);
        return true;
      },
    );
    assert.doesNotThrow(() => requireTools([{ benchmark: 'crl', tools: [] }, { benchmark: 'x', tools: ['openssl'] }], env));
  });

  it('npm run bench stops before any benchmark with the message and exit code 1, no stack trace', () => {
    const r = spawnSync(path.join(bin, 'node'), ['--import', 'tsx', 'bench/run.ts', 'ocsp', 'crl'], {
      cwd: root,
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stdout, '', 'no benchmark started');
    assert.equal(
      r.stderr,
      'bench: missing tools, nothing was run:\n  wrk (needed by ocsp): apt-get install -y wrk\n' +
        'Install them (as root), or run only the other benchmarks: npm run bench -- <name> ...\n',
    );
  });
});
