/**
 * `--defer --state DIR` (dbt's deferral), end to end on both engines: a model
 * built alone in a second schema reads its unselected, unbuilt parent from the
 * schema recorded in DIR's manifest.json; a parent that exists in the current
 * target is used instead; without --defer the parent is missing.
 */
import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { describeEngines, Project, projectYml, type Files } from './harness.ts';

const FILES: Files = {
  'dbt_project.yml': projectYml('deferral', "models:\n  deferral:\n    +materialized: table\n"),
  'models/parent.sql': "select {{ var('n', 1) }} as id union all select 2\n",
  'models/child.sql': "select id * 10 as x from {{ ref('parent') }}\n",
};

await describeEngines('--defer', (engine) => {
  let p: Project;
  let state: string;
  let b: string;
  before(async () => {
    p = await Project.create(engine, FILES);
    b = `${p.schema}_b`;
  });
  after(async () => {
    await p?.cleanup();
  });

  it('builds the project into schema A and keeps its target/ as the state', async () => {
    const r = await p.cli('run');
    assert.equal(r.code, 0, r.output);
    state = join(p.dir, 'state-a');
    cpSync(join(p.dir, 'target'), state, { recursive: true });
    p.writeProfile({ schema: b });
  });

  it('without --defer, the child in schema B finds no parent', async () => {
    const r = await p.cli('run', ['--select', 'child']);
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /parent/);
  });

  it('--defer needs --state', async () => {
    const r = await p.cli('run', ['--select', 'child', '--defer']);
    assert.equal(r.code, 2, r.output);
    assert.match(r.output, /\[bad-flag\].*--state/);
  });

  it('with --defer --state, the child in B reads the parent from A', async () => {
    const r = await p.cli('run', ['--select', 'child', '--defer', '--state', state]);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual((await p.rows<{ x: unknown }>(`select x from "${b}".child order by x`)).map((row) => Number(row.x)), [10, 20]);
    assert.deepEqual(Object.keys(await p.relations(b)), ['child']);
    assert.match(p.read('target/compiled/deferral/models/child.sql') ?? '', new RegExp(`"${p.schema}"\\."parent"`));
  });

  it('a parent that exists in the current target is not deferred', async () => {
    const built = await p.cli('run', ['--select', 'parent', '--vars', '{n: 5}']);
    assert.equal(built.code, 0, built.output);
    const r = await p.cli('run', ['--select', 'child', '--defer', '--state', state]);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual((await p.rows<{ x: unknown }>(`select x from "${b}".child order by x`)).map((row) => Number(row.x)), [20, 50]);
  });
});
