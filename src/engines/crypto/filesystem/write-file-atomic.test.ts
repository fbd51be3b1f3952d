import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TEMP_FILE_PATTERN, writeFileAtomic } from './write-file-atomic.ts';

describe('writeFileAtomic', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lamassu-atomic-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('replaces the whole content with the exact mode and leaves no temp file', async () => {
    const path = join(dir, 'a.pem');
    await writeFile(path, 'old content that is longer than the new one', { mode: 0o644 });
    await writeFileAtomic(path, 'new', 0o600);
    assert.equal(await readFile(path, 'utf8'), 'new');
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(dir), ['a.pem']);
  });

  it('removes its temp file and leaves the target untouched when the rename fails', async () => {
    const sub = join(dir, 'sub');
    await mkdir(join(sub, 'target.pem'), { recursive: true }); // a directory cannot be renamed over
    await assert.rejects(writeFileAtomic(join(sub, 'target.pem'), 'data', 0o600));
    assert.deepEqual(await readdir(sub), ['target.pem']);
    assert.ok((await stat(join(sub, 'target.pem'))).isDirectory());
  });

  it('names temp files so key listings can tell them apart', () => {
    assert.ok(TEMP_FILE_PATTERN.test(`.${'a'.repeat(64)}.pem.0123456789abcdef.tmp`));
    assert.ok(!TEMP_FILE_PATTERN.test(`${'a'.repeat(64)}.pem`));
  });
});
