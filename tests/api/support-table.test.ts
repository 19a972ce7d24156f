/**
 * Keeps README's "dbt feature support" table true (issue 11, "Nothing silently ignored"): every row has
 * a status of supported / partial / not yet and names a test that exists; a "not yet" row's test checks
 * the `[unsupported]` message (a feature tsdbt lacks is said, never silent); and the table covers the
 * resource types and commands a user meets first.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../integration/harness.ts';

interface Row {
  feature: string;
  status: string;
  test: string;
}

/** The rows of the table under `## dbt feature support` in README.md. */
function supportTable(): Row[] {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## dbt feature support\n');
  assert.ok(start >= 0, 'README.md has a "## dbt feature support" section');
  const section = readme.slice(start + 1, readme.indexOf('\n## ', start + 5));
  return section
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| ---') && !l.startsWith('| dbt feature'))
    .map((l) => {
      const cells = l.slice(1, -1).split(' | ').map((c) => c.trim());
      assert.equal(cells.length, 3, `three cells in: ${l}`);
      return { feature: cells[0], status: cells[1], test: cells[2].replace(/`/g, '') };
    });
}

describe("README's dbt feature support table", () => {
  const rows = supportTable();

  it('has rows, each with a known status and an existing test', () => {
    assert.ok(rows.length >= 20, `${rows.length} rows`);
    for (const r of rows) {
      assert.ok(['supported', 'partial', 'not yet'].includes(r.status), `${r.feature}: status '${r.status}'`);
      assert.ok(existsSync(join(REPO_ROOT, r.test)), `${r.feature}: ${r.test} does not exist`);
      assert.match(r.test, /(\.test\.ts|expected\.json)$/, `${r.feature}: ${r.test} is not a test`);
    }
  });

  it('a "not yet" row names a test that checks the [unsupported] message', () => {
    const notYet = rows.filter((r) => r.status === 'not yet');
    assert.ok(notYet.length > 0);
    for (const r of notYet) assert.match(readFileSync(join(REPO_ROOT, r.test), 'utf8'), /\\?\[unsupported\\?\]|'unsupported'/, `${r.feature}: ${r.test}`);
  });

  it('covers the resource types and the commands a dbt user meets first', () => {
    const text = rows.map((r) => r.feature).join('\n');
    for (const word of ['models', 'seeds', 'data tests', 'sources', 'snapshots', 'unit tests', 'model versions', 'packages', 'Python models', 'docs generate']) {
      assert.ok(text.includes(word), `no row for ${word}`);
    }
  });
});
