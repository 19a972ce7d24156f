import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BACKGROUND_MIN_CHARS, BACKGROUND_MIN_FILES, flushBackgroundWrites, writeCompiledFilesInBackground, writeFileAtomicInBackground } from './background-writes.ts';
import { writeFileAtomic } from '../artifacts/index.ts';

test('many compiled files and a large artifact are on disk after flushBackgroundWrites, unchanged files are left alone', async () => {
  const root = mkdtempSync(join(tmpdir(), 'tsdbt-bgwrite-'));
  try {
    const n = BACKGROUND_MIN_FILES + 10;
    const nodes = Array.from({ length: n }, (_, i) => ({ compiledPath: `target/compiled/p/models/d${i % 3}/m_${i}.sql`, compiledCode: `select ${i} as id` }));
    const first = writeCompiledFilesInBackground(root, nodes);
    const big = 'x'.repeat(BACKGROUND_MIN_CHARS + 5);
    writeFileAtomicInBackground(join(root, 'target', 'manifest.json'), big, writeFileAtomic);
    await flushBackgroundWrites();
    assert.deepEqual(await first, { written: n, unchanged: 0 });
    assert.equal(readFileSync(join(root, 'target/compiled/p/models/d2/m_5.sql'), 'utf8'), 'select 5 as id');
    assert.equal(readFileSync(join(root, 'target', 'manifest.json'), 'utf8'), big);
    const again = writeCompiledFilesInBackground(root, nodes);
    await flushBackgroundWrites();
    assert.deepEqual(await again, { written: 0, unchanged: n });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("a write the file system refuses is raised by flushBackgroundWrites with the file system's code", async () => {
  const root = mkdtempSync(join(tmpdir(), 'tsdbt-bgwrite-'));
  try {
    writeFileSync(join(root, 'target'), 'a file where the target folder should be');
    const nodes = Array.from({ length: BACKGROUND_MIN_FILES }, (_, i) => ({ compiledPath: `target/compiled/m_${i}.sql`, compiledCode: 'select 1' }));
    void writeCompiledFilesInBackground(root, nodes).catch(() => undefined);
    await assert.rejects(flushBackgroundWrites(), (e: NodeJS.ErrnoException) => e.code === 'ENOTDIR' || e.code === 'EEXIST');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
