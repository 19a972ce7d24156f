/** readCsvHeaderSync: the column names from a seed file's first bytes (used by seed column lineage). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCsvHeaderSync } from './csv-records.ts';

describe('readCsvHeaderSync', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsdbt-csvhdr-'));
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  it('reads the first record only: BOM skipped, quoted commas kept, names trimmed, CRLF', () => {
    assert.deepEqual(readCsvHeaderSync(file('a.csv', '\uFEFFid, name ,"city,state"\r\n1,a,b\r\n')), ['id', 'name', 'city,state']);
  });
  it('honours the seed delimiter', () => {
    assert.deepEqual(readCsvHeaderSync(file('b.csv', 'a;b\n1;2\n'), ';'), ['a', 'b']);
  });
  it('a header longer than one 64 KB read, and a file that is only a header without a newline', () => {
    assert.deepEqual(readCsvHeaderSync(file('c.csv', `"${'q'.repeat(100_000)}",z\n1,2\n`))?.map((c) => c.length), [100_000, 1]);
    assert.deepEqual(readCsvHeaderSync(file('d.csv', 'x,y')), ['x', 'y']);
  });
  it('does not read past the header: a broken row later in the file does not matter', () => {
    assert.deepEqual(readCsvHeaderSync(file('e.csv', 'x,y\n' + '1,2\n'.repeat(30_000) + '"unclosed\n')), ['x', 'y']);
  });
  it('null for an empty, missing or unparseable file', () => {
    assert.equal(readCsvHeaderSync(file('f.csv', '')), null);
    assert.equal(readCsvHeaderSync(join(dir, 'missing.csv')), null);
    assert.equal(readCsvHeaderSync(file('g.csv', '"never closed,a\n')), null);
    rmSync(dir, { recursive: true, force: true });
  });
});
