/** `tsdbt debug --plan`: the ExecutionPlan as JSON, without touching a database. */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { REPO_ROOT } from '../integration/harness.ts';

it('debug --plan build prints the plan (order, waits) and opens no database', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsdbt-plan-'));
  try {
    mkdirSync(join(dir, 'models'));
    mkdirSync(join(dir, 'seeds'));
    writeFileSync(join(dir, 'dbt_project.yml'), "name: pl\nversion: '1.0'\nprofile: pl\n");
    writeFileSync(join(dir, 'seeds', 'raw.csv'), 'id\n1\n');
    writeFileSync(join(dir, 'models', 'a.sql'), "select * from {{ ref('raw') }}\n");
    writeFileSync(join(dir, 'models', 'b.sql'), "select * from {{ ref('a') }}\n");
    const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'tsdbt.mjs'), 'debug', '--plan', 'build', '--select', '+b', '--project-dir', dir], { encoding: 'utf8', cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    const plan = JSON.parse(r.stdout);
    assert.equal(plan.command, 'build');
    assert.deepEqual(plan.nodes.map((n: { name: string; dependsOn: string[] }) => [n.name, n.dependsOn]), [
      ['raw', []],
      ['a', ['seed.pl.raw']],
      ['b', ['model.pl.a']],
    ]);
    assert.equal(existsSync(join(dir, '.tsdbt', 'pglite')), false, 'no embedded database was created');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
