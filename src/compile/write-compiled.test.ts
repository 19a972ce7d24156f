import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCompiledFiles } from './write-compiled.ts';

test('writeCompiledFiles writes new and changed files and leaves identical ones alone', () => {
  const root = mkdtempSync(join(tmpdir(), 'tsdbt-wc-'));
  try {
    const nodes = [
      { compiledPath: 'target/compiled/p/models/a.sql', compiledCode: 'select 1' },
      { compiledPath: 'target/compiled/p/models/sub/b.sql', compiledCode: 'select 2' },
      { compiledPath: 'target/compiled/p/models/c.sql', compiledCode: 'select 3' },
    ];
    assert.deepEqual(writeCompiledFiles(root, nodes), { written: 3, unchanged: 0 });
    assert.equal(readFileSync(join(root, 'target/compiled/p/models/sub/b.sql'), 'utf8'), 'select 2');
    const before = statSync(join(root, 'target/compiled/p/models/a.sql')).mtimeMs;

    assert.deepEqual(writeCompiledFiles(root, nodes), { written: 0, unchanged: 3 });
    assert.equal(statSync(join(root, 'target/compiled/p/models/a.sql')).mtimeMs, before);

    // a changed node, a file deleted by hand, a file edited by hand: all three are written again
    unlinkSync(join(root, 'target/compiled/p/models/sub/b.sql'));
    writeFileSync(join(root, 'target/compiled/p/models/c.sql'), 'edited by hand');
    const next = [{ ...nodes[0], compiledCode: 'select 10' }, nodes[1], nodes[2]];
    assert.deepEqual(writeCompiledFiles(root, next), { written: 3, unchanged: 0 });
    assert.equal(readFileSync(join(root, 'target/compiled/p/models/a.sql'), 'utf8'), 'select 10');
    assert.equal(readFileSync(join(root, 'target/compiled/p/models/sub/b.sql'), 'utf8'), 'select 2');
    assert.equal(readFileSync(join(root, 'target/compiled/p/models/c.sql'), 'utf8'), 'select 3');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
