/**
 * The README's API example, run exactly as written (only `from 'tsdbt'` is
 * pointed at this checkout) inside a copy of the example project, on the
 * embedded database: it must exit 0 and print what the README promises.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { REPO_ROOT } from '../integration/harness.ts';

/** The first ```js block after the README heading "From code: the programmatic API". */
function readmeExample(): string {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## From code: the programmatic API'));
  const m = /```js\n([\s\S]*?)```/.exec(section);
  assert.ok(m, 'README has the API example');
  return m[1];
}

it('the README API example runs on the example project and prints the results and the compiled SQL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsdbt-api-'));
  try {
    for (const f of ['dbt_project.yml', 'models', 'seeds', 'macros', 'tests/data_quality']) cpSync(join(REPO_ROOT, f), join(dir, f), { recursive: true });
    const code = readmeExample().replace("from 'tsdbt'", `from ${JSON.stringify(join(REPO_ROOT, 'src', 'index.ts'))}`);
    writeFileSync(join(dir, 'example.mjs'), code);
    const env = { ...process.env };
    delete env.DBT_PROFILES_DIR;
    delete env.TSDBT_PROFILES_DIR;
    const r = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), 'example.mjs'], { cwd: dir, encoding: 'utf8', env, timeout: 300_000 });
    const output = `${r.stdout}\n${r.stderr}`;
    assert.equal(r.status, 0, output);
    assert.match(r.stdout, /^0 /m, 'run exit code 0');
    assert.match(r.stdout, /model\.growth_analytics\.stg_sessions success/);
    assert.match(r.stdout, /\d+ nodes; .*select/is, 'compiled SQL of stg_sessions printed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
